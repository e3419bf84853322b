/**
 * The seeded past of the simulated GitHub organization: the neutral timeline
 * of sim-kit/past-scenario.ts turned into completed workflow runs with their
 * jobs, steps and runners. A re-run is a new attempt of the same run
 * (`run_attempt` 2, the earlier attempt's jobs kept and listed with
 * `filter=all`), queue time is a job's `started_at − created_at`, a runner that
 * lost communication leaves its job `failure` with the running step cancelled,
 * and a job over its time limit ends `timed_out`.
 */
import {
  finalJobs, generatePast, type PastAttempt, type PastJob, type PastOutcome, type PastPipeline, type PastPool, type PastProject,
} from '../../../sim-kit/past-scenario.ts';
import { isoSeconds, type JobOutcome, type SimJob, type SimRun, type SimRunAttempt, type SimStep } from './world-entities.ts';
import { ACTORS, HOSTED_RUNNER_GROUP, MESSAGES } from './world-seed.ts';
import type { World } from './world.ts';

const LABELS: Record<string, string[]> = {
  hosted: ['ubuntu-latest'],
  x64: ['self-hosted', 'Linux', 'X64'],
  arm64: ['self-hosted', 'Linux', 'ARM64'],
};

const STEPS: Record<string, string[]> = {
  lint: ['Run actions/checkout@v4', 'Run actions/setup-node@v4', 'Run npm ci', 'Run npm run lint'],
  test: ['Run actions/checkout@v4', 'Run actions/setup-node@v4', 'Run npm ci', 'Run npm test'],
  'test (arm64)': ['Run actions/checkout@v4', 'Run npm ci', 'Run npm test'],
  e2e: ['Run actions/checkout@v4', 'Run npx playwright install', 'Run npm run e2e'],
  build: ['Run actions/checkout@v4', 'Run docker build .', 'Run docker push'],
  plan: ['Run actions/checkout@v4', 'Run terraform init', 'Run terraform plan'],
};

/** The projects of the past: the first repository large and getting slower, the second medium, the rest small. */
export function pastProjects(repos: readonly string[]): PastProject[] {
  return repos.map((name, i): PastProject => {
    if (i === 0) {
      return {
        name, perDay: 22, slowdownPerDay: 0.1, nightly: true,
        featureBranches: ['feature/login', 'fix/flaky-test', 'renovate/vitest-3.x'],
        jobs: [
          { name: 'lint', stage: 0, pool: 'hosted', minutes: 1.5 },
          { name: 'test', stage: 1, pool: 'x64', minutes: 6, flakeRate: 0.08 },
          { name: 'test (arm64)', stage: 1, pool: 'arm64', minutes: 14, share: 0.7 },
          { name: 'build', stage: 2, pool: 'x64', minutes: 3 },
        ],
      };
    }
    if (i === 1) {
      return {
        name, perDay: 12, featureBranches: ['feature/login', 'release/2.4'],
        jobs: [
          { name: 'lint', stage: 0, pool: 'hosted', minutes: 1 },
          { name: 'test', stage: 1, pool: 'x64', minutes: 4, flakeRate: 0.04 },
          { name: 'e2e', stage: 1, pool: 'hosted', minutes: 5, flakeRate: 0.1 },
          { name: 'build', stage: 2, pool: 'x64', minutes: 2 },
        ],
      };
    }
    return {
      name, perDay: 5,
      jobs: [
        { name: 'plan', stage: 0, pool: 'x64', minutes: 2 },
        { name: 'test (arm64)', stage: 1, pool: 'arm64', minutes: 5 },
      ],
    };
  });
}

/** Pools from the world's online org runners: linux x64 (shared), linux arm64 (starved), and GitHub-hosted. */
export function pastPools(world: World): PastPool[] {
  const having = (...labels: string[]) => world.runners
    .filter((r) => r.scope === 'org' && r.status === 'online')
    .filter((r) => labels.every((l) => r.labels.some((x) => x.name.toLowerCase() === l)))
    .map((r) => ({ name: r.name }));
  return [{ key: 'hosted', runners: [] }, { key: 'x64', runners: having('linux', 'x64') }, { key: 'arm64', runners: having('linux', 'arm64') }];
}

const CONCLUSION: Record<PastOutcome, JobOutcome> = {
  success: 'success', failure: 'failure', timeout: 'timed_out', infra: 'failure', canceled: 'cancelled', skipped: 'skipped',
};

/** A run's conclusion from its jobs' (as maybeCompleteRun decides it). */
function runConclusion(conclusions: readonly (string | null)[]): string {
  if (conclusions.some((c) => c === 'failure' || c === 'timed_out')) return 'failure';
  if (conclusions.some((c) => c === 'cancelled')) return 'cancelled';
  return conclusions.every((c) => c === 'skipped') ? 'skipped' : 'success';
}

/** Steps of a finished job, their times spread over its run; where a non-success job stops depends on why. */
function steps(names: readonly string[], pj: PastJob): SimStep[] {
  if (pj.outcome === 'skipped') return [];
  const planned = ['Set up job', ...names, 'Complete job'];
  const span = pj.finishedAt - pj.startedAt;
  // Code failures and timeouts stop in the last user step; a lost runner anywhere after set-up.
  const stopAt = pj.outcome === 'success' ? planned.length : pj.outcome === 'infra' ? Math.max(1, Math.floor(pj.startedAt / 1024) % (planned.length - 1)) : planned.length - 2;
  const weights = planned.map((n, i) => (i === 0 || i === planned.length - 1 ? 0.03 : n.includes('test') || n.includes('build') || n.includes('e2e') ? 4 : 1));
  const active = weights.slice(0, Math.min(stopAt + 1, planned.length)).reduce((a, b) => a + b, 0);
  let t = pj.startedAt;
  return planned.map((name, i): SimStep => {
    const number = i + 1;
    if (i > stopAt) {
      const cleanup = i === planned.length - 1 && pj.outcome !== 'infra';
      return { name, number, status: 'completed', conclusion: cleanup ? 'success' : 'skipped', startedAt: isoSeconds(new Date(pj.finishedAt)), completedAt: isoSeconds(new Date(pj.finishedAt)) };
    }
    const from = t;
    t = i === stopAt || i === planned.length - 1 ? pj.finishedAt : Math.min(pj.finishedAt, t + Math.round((span * (weights[i] ?? 1)) / active));
    const conclusion = i < stopAt ? 'success' : pj.outcome === 'failure' ? 'failure' : pj.outcome === 'success' ? 'success' : 'cancelled';
    return { name, number, status: 'completed', conclusion, startedAt: isoSeconds(new Date(from)), completedAt: isoSeconds(new Date(t)) };
  });
}

/** Creates the past's runs and jobs in `world`, oldest first. */
export function seedPast(world: World, opts: { days: number; seed: number; nowMs: number }): void {
  const timeline = generatePast({
    seed: opts.seed,
    nowMs: opts.nowMs,
    days: opts.days,
    projects: pastProjects(world.repos.map((r) => r.name)),
    pools: pastPools(world),
  });
  let hostedRunnerId = 900_000_000;
  const hosted = () => (hostedRunnerId += 1 + (hostedRunnerId % 97));
  // Ids grow with time, as GitHub's do: a re-run's jobs get ids after those of runs created before it.
  const runIds = new Map<PastPipeline, { runId: number; checkSuiteId: number }>();
  const jobIds = new Map<PastAttempt, number[]>();
  const moments = timeline.pipelines.flatMap((p) => p.attempts.map((a) => ({ p, a })));
  moments.sort((x, y) => x.a.createdAt - y.a.createdAt);
  for (const { p, a } of moments) {
    if (a.attempt === 1) runIds.set(p, world.allocateRunIds());
    // Every attempt lists every job (re-run or carried over).
    jobIds.set(a, p.attempts[0]!.jobs.map(() => world.allocateJobId()));
  }
  for (const p of timeline.pipelines) addRun(world, p, runIds.get(p)!, jobIds, hosted);
}

function addRun(
  world: World, p: PastPipeline, ids: { runId: number; checkSuiteId: number }, jobIds: ReadonlyMap<PastAttempt, number[]>, hostedRunnerId: () => number,
): void {
  const wfName = p.event === 'schedule' ? 'Nightly' : 'CI';
  const workflow = world.workflows.find((w) => w.repo === p.project && w.name === wfName) ?? world.workflows.find((w) => w.repo === p.project);
  if (!workflow) return;
  const message = MESSAGES[p.message % MESSAGES.length] ?? 'Update';
  const actor = p.event === 'schedule' ? ACTORS[0]! : ACTORS[p.actor % ACTORS.length]!;
  const latest = p.attempts[p.attempts.length - 1]!;
  const jobs: SimJob[] = [];
  const previousAttempts: SimRunAttempt[] = [];
  let carried = new Map<string, PastJob>();
  for (const attempt of p.attempts) {
    // A re-run of the failed jobs lists the jobs that had passed again, unchanged, under the new attempt.
    const rerun = new Set(attempt.jobs.map((j) => j.name));
    const listed = [...[...carried.values()].filter((j) => !rerun.has(j.name)), ...attempt.jobs].sort((a, b) => a.stage - b.stage);
    const reserved = jobIds.get(attempt) ?? [];
    const made = listed.map((pj, i) => makeJob(world, p, pj, attempt.attempt, ids.runId, reserved[i] ?? world.allocateJobId(), hostedRunnerId));
    jobs.push(...made);
    if (attempt !== latest) {
      previousAttempts.push({
        runAttempt: attempt.attempt,
        conclusion: runConclusion(made.map((j) => j.conclusion)),
        updatedAt: isoSeconds(new Date(Math.max(...listed.map((j) => j.finishedAt)))),
        runStartedAt: isoSeconds(new Date(attempt.createdAt)),
      });
    }
    carried = new Map(listed.map((j) => [j.name, j]));
  }
  const final = finalJobs(p);
  const run: SimRun = {
    id: ids.runId,
    repo: p.project,
    workflowId: workflow.id,
    runNumber: world.allocateRunNumber(workflow.id),
    runAttempt: latest.attempt,
    event: p.event,
    branch: p.branch,
    sha: p.sha,
    treeId: p.sha.split('').reverse().join(''),
    message,
    actor,
    checkSuiteId: ids.checkSuiteId,
    pullRequest: p.event === 'pull_request'
      ? { id: 2_100_000_000 + (p.actor * 7919) % 99_999_999, number: 10 + (p.message % 890), title: message, baseSha: p.sha.slice(20) + p.sha.slice(0, 20) }
      : null,
    createdAt: isoSeconds(new Date(p.createdAt)),
    jobIds: jobs.map((j) => j.id),
    status: 'completed',
    conclusion: runConclusion(jobs.filter((j) => (j.runAttempt ?? latest.attempt) === latest.attempt).map((j) => j.conclusion)),
    updatedAt: isoSeconds(new Date(Math.max(...final.map((j) => j.finishedAt)))),
    runStartedAt: isoSeconds(new Date(latest.createdAt)),
    ...(previousAttempts.length > 0 ? { previousAttempts } : {}),
  };
  world.runs.set(run.id, run);
  for (const j of jobs) world.jobs.set(j.id, j);
}

function makeJob(world: World, p: PastPipeline, pj: PastJob, attempt: number, runId: number, id: number, hostedRunnerId: () => number): SimJob {
  const labels = LABELS[pj.pool] ?? LABELS.hosted!;
  const runner = pj.runner === null ? undefined : world.runners.find((r) => r.name === pj.runner);
  const onHosted = pj.outcome !== 'skipped' && !runner;
  const hostedId = onHosted ? hostedRunnerId() : null;
  const st = steps(STEPS[pj.name] ?? ['Run actions/checkout@v4', `Run ${pj.name}`], pj);
  const conclusion = CONCLUSION[pj.outcome];
  return {
    id,
    runId,
    repo: p.project,
    name: pj.name,
    labels,
    outcome: conclusion,
    createdAt: isoSeconds(new Date(pj.queuedAt)),
    plannedSteps: st.map((s) => s.name),
    stopAt: Math.max(0, st.length - 2),
    status: 'completed',
    conclusion,
    startedAt: isoSeconds(new Date(pj.startedAt)),
    completedAt: isoSeconds(new Date(pj.finishedAt)),
    steps: st,
    runnerId: runner?.id ?? hostedId,
    runnerName: runner?.name ?? (hostedId === null ? null : `GitHub Actions ${hostedId}`),
    runnerGroupId: runner ? runner.groupId : hostedId === null ? null : HOSTED_RUNNER_GROUP.id,
    runnerGroupName: runner ? runner.groupName : hostedId === null ? null : HOSTED_RUNNER_GROUP.name,
    lastTouched: 0,
    runAttempt: attempt,
  };
}
