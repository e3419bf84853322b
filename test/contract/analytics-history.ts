import type { Observation } from '../../src/history/history-store.ts';
import type { CiStatus, JobModel, PipelineModel } from '../../src/model.ts';

/**
 * A constructed history with known answers (see analytics.test.ts for each figure's arithmetic).
 * Window: [2026-01-01, 2026-01-08).
 */
export const WINDOW = { from: new Date('2026-01-01T00:00:00.000Z'), to: new Date('2026-01-08T00:00:00.000Z') };

const MIN = 60_000;

interface PipelineSpec {
  readonly backend?: string;
  readonly project?: string;
  readonly id: string;
  readonly status: CiStatus;
  readonly finishedAt: string;
  readonly durationMs?: number;
  readonly queueMs?: number;
  /** Default main; null = none (a Jenkins job without branches). */
  readonly branch?: string | null;
  readonly name?: string;
  readonly commit?: string;
  readonly failureReason?: string | null;
}

export function pipeline(s: PipelineSpec): PipelineModel {
  const finished = Date.parse(s.finishedAt);
  const started = finished - (s.durationMs ?? MIN);
  const queued = started - (s.queueMs ?? 1000);
  return {
    type: 'Pipeline', backend: s.backend ?? 'gh', nativeId: s.id, revision: [1, 9, finished], projectNativeId: s.project ?? 'acme/web',
    number: Number(s.id.replace(/\D/g, '')) || null, name: s.name ?? 'ci', status: s.status, waitReason: null,
    native: { provider: 'github', status: 'completed', conclusion: s.status.toLowerCase(), failureReason: s.failureReason ?? null },
    attempt: 1, url: `https://ci.example/${s.id}`, branch: s.branch === undefined ? 'main' : s.branch, ref: null, commitSha: s.commit ?? `sha-${s.id}`,
    event: 'push', actor: null, createdAt: new Date(queued).toISOString(), queuedAt: new Date(queued).toISOString(),
    startedAt: new Date(started).toISOString(), finishedAt: s.finishedAt, updatedAt: s.finishedAt,
  };
}

interface JobSpec {
  readonly backend?: string;
  readonly project?: string;
  readonly id: string;
  readonly pipeline: string;
  readonly name: string;
  readonly status: CiStatus;
  readonly finishedAt: string;
  readonly durationMs?: number;
  readonly attempt?: number;
  readonly runner?: string | null;
  readonly labels?: readonly string[];
  readonly failureReason?: string | null;
}

export function job(s: JobSpec): JobModel {
  const finished = Date.parse(s.finishedAt);
  const started = finished - (s.durationMs ?? MIN);
  return {
    type: 'Job', backend: s.backend ?? 'gh', nativeId: s.id, revision: [s.attempt ?? 1, 9, finished], projectNativeId: s.project ?? 'acme/web',
    pipelineNativeId: s.pipeline, name: s.name, status: s.status, waitReason: null,
    native: { provider: 'github', status: 'completed', conclusion: s.status.toLowerCase(), failureReason: s.failureReason ?? null },
    attempt: s.attempt ?? 1, url: null, labels: s.labels ?? ['linux'], runnerNativeId: s.runner ?? null, runnerName: s.runner ?? null,
    branch: 'dev', createdAt: new Date(started - 2000).toISOString(), queuedAt: new Date(started - 2000).toISOString(),
    startedAt: new Date(started).toISOString(), finishedAt: s.finishedAt, steps: [],
  };
}

export const obs = (entity: Observation['entity'], projectFullName?: string): Observation => ({ entity, observedAt: '2026-01-08T00:00:00.000Z', ...(projectFullName ? { projectFullName } : {}) });

/** acme/web main: three closed red periods (120, 30, 10 min) and one ongoing from 2026-01-04T09:00. */
const mainLine: PipelineSpec[] = [
  { id: 'w1', status: 'SUCCESS', finishedAt: '2026-01-02T10:00:00.000Z' },
  { id: 'w2', status: 'FAILURE', finishedAt: '2026-01-02T11:00:00.000Z', failureReason: 'tests failed' },
  { id: 'w3', status: 'CANCELED', finishedAt: '2026-01-02T11:30:00.000Z' },
  { id: 'w4', status: 'ERROR', finishedAt: '2026-01-02T12:00:00.000Z', failureReason: 'runner lost' },
  { id: 'w5', status: 'SUCCESS', finishedAt: '2026-01-02T13:00:00.000Z' },
  { id: 'w6', status: 'TIMED_OUT', finishedAt: '2026-01-03T10:00:00.000Z' },
  { id: 'w7', status: 'SUCCESS', finishedAt: '2026-01-03T10:30:00.000Z' },
  { id: 'w8', status: 'FAILURE', finishedAt: '2026-01-03T14:00:00.000Z', failureReason: 'tests failed' },
  { id: 'w9', status: 'UNSTABLE', finishedAt: '2026-01-03T14:05:00.000Z' },
  { id: 'w10', status: 'SUCCESS', finishedAt: '2026-01-03T14:10:00.000Z' },
  { id: 'w11', status: 'FAILURE', finishedAt: '2026-01-04T09:00:00.000Z', failureReason: 'lint' },
  // Outside the window: never counted (w0 leaves main red when the window opens: time to green starts there).
  { id: 'w0', status: 'FAILURE', finishedAt: '2025-12-31T23:59:59.000Z' },
  { id: 'w99', status: 'SUCCESS', finishedAt: '2026-01-08T00:00:00.000Z' },
];

/** acme/api main, 2026-01-05: durations 1..10 min, queue 1..10 s; 7 SUCCESS, FAILURE, ERROR, SKIPPED. */
const apiLine: PipelineSpec[] = Array.from({ length: 10 }, (_, i) => ({
  project: 'acme/api', id: `a${i + 1}`, finishedAt: `2026-01-05T1${i}:00:00.000Z`, durationMs: (i + 1) * MIN, queueMs: (i + 1) * 1000,
  status: (['SUCCESS', 'SUCCESS', 'FAILURE', 'SUCCESS', 'ERROR', 'SUCCESS', 'SUCCESS', 'SKIPPED', 'SUCCESS', 'SUCCESS'] as const)[i]!,
  failureReason: i === 2 ? 'tests failed' : i === 4 ? 'runner lost' : null,
}));

/** acme/web dev, 2026-01-06: one pipeline per commit c1..c4 (jobs below); team/app on GitLab (native id 42). */
const otherPipelines: PipelineSpec[] = [
  ...['c1', 'c2', 'c3', 'c4'].map((c) => ({ id: `d-${c}`, status: 'SUCCESS' as const, finishedAt: '2026-01-06T12:00:00.000Z', branch: 'dev', commit: c, name: 'tests' })),
  { backend: 'gl', project: '42', id: 'g1', status: 'FAILURE', finishedAt: '2026-01-06T08:00:00.000Z' },
  { backend: 'gl', project: '42', id: 'g2', status: 'SUCCESS', finishedAt: '2026-01-06T09:00:00.000Z' },
  { id: 'b1', project: 'acme/api', status: 'SUCCESS', finishedAt: '2026-01-07T12:00:00.000Z', branch: 'build', commit: 'b' },
];

const at = (minute: number) => `2026-01-06T1${Math.floor(minute / 60)}:${String(minute % 60).padStart(2, '0')}:00.000Z`;

/**
 * Flaky: `unit` failed and passed on c1 (FAILURE 100 s) and c3 (ERROR 50 s), passed on c2, failed on c4:
 * 2 of 4 commits, 150 s lost. `e2e` on c1 (FAILURE 300 s) of c1..c3: 1 of 3, 300 s. `lint` never fails.
 */
const flakyJobs: JobSpec[] = [
  { id: 'u1', pipeline: 'd-c1', name: 'unit', status: 'FAILURE', finishedAt: at(1), durationMs: 100_000, failureReason: 'exit code 1' },
  { id: 'u2', pipeline: 'd-c1', name: 'unit', status: 'SUCCESS', finishedAt: at(5), attempt: 2 },
  { id: 'u3', pipeline: 'd-c2', name: 'unit', status: 'SUCCESS', finishedAt: at(6) },
  { id: 'u4', pipeline: 'd-c3', name: 'unit', status: 'ERROR', finishedAt: at(7), durationMs: 50_000 },
  { id: 'u5', pipeline: 'd-c3', name: 'unit', status: 'SUCCESS', finishedAt: at(8), attempt: 2 },
  { id: 'u6', pipeline: 'd-c4', name: 'unit', status: 'FAILURE', finishedAt: at(9), failureReason: 'exit code 1' },
  { id: 'e1', pipeline: 'd-c1', name: 'e2e', status: 'FAILURE', finishedAt: at(10), durationMs: 300_000, failureReason: 'exit code 1' },
  { id: 'e2', pipeline: 'd-c1', name: 'e2e', status: 'SUCCESS', finishedAt: at(20), attempt: 2 },
  { id: 'e3', pipeline: 'd-c2', name: 'e2e', status: 'SUCCESS', finishedAt: at(21) },
  { id: 'e4', pipeline: 'd-c3', name: 'e2e', status: 'SUCCESS', finishedAt: at(22) },
  { id: 'l1', pipeline: 'd-c1', name: 'lint', status: 'SUCCESS', finishedAt: at(23), runner: 'r-web' },
];

/**
 * Clustering, acme/api `build` on 2026-01-07: r-good1 10 jobs (0 ERROR), r-good2 10 (1 ERROR),
 * r-bad 5 (4 ERROR, label gpu), plus `lint` on r-web: overall infrastructure share 5/26; r-bad's 0.8 stands out.
 */
const buildJobs: JobSpec[] = [
  ...Array.from({ length: 10 }, (_, i): JobSpec => ({ project: 'acme/api', id: `g1-${i}`, pipeline: 'b1', name: 'build', status: 'SUCCESS', finishedAt: '2026-01-07T11:00:00.000Z', runner: 'r-good1' })),
  ...Array.from({ length: 10 }, (_, i): JobSpec => ({ project: 'acme/api', id: `g2-${i}`, pipeline: 'b1', name: 'build', status: i === 0 ? 'ERROR' : 'SUCCESS', finishedAt: '2026-01-07T11:00:00.000Z', runner: 'r-good2', failureReason: i === 0 ? 'runner lost' : null })),
  ...Array.from({ length: 5 }, (_, i): JobSpec => ({ project: 'acme/api', id: `bad-${i}`, pipeline: 'b1', name: 'build', status: i < 4 ? 'ERROR' : 'SUCCESS', finishedAt: '2026-01-07T11:00:00.000Z', runner: 'r-bad', labels: ['gpu'], failureReason: i < 4 ? 'runner lost' : null })),
];

export function constructedHistory(): Observation[][] {
  return [
    // Jobs first: their pipeline's commit reaches them when it is recorded later.
    flakyJobs.map((s) => obs(job(s))),
    [...mainLine, ...apiLine].map((s) => obs(pipeline(s))),
    otherPipelines.map((s) => obs(pipeline(s), s.backend === 'gl' ? 'team/app' : undefined)),
    buildJobs.map((s) => obs(job(s))),
  ];
}

export const PROVIDERS = new Map([['gh', 'github'], ['gl', 'gitlab']]);
