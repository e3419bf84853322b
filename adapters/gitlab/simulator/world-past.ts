/**
 * The seeded past of the simulated GitLab group: the neutral timeline of
 * sim-kit/past-scenario.ts turned into finished pipelines with their jobs and
 * runners. A retry marks the failed job `retried` and adds a clone with
 * `retries_count` + 1 (listed with `include_retried=true`); the later-stage
 * jobs the failure skipped are reset and run again under their own ids, as
 * Ci::ResetSkippedJobsService does. Queue time is `queued_duration`
 * (started_at − queued_at). A runner that broke leaves `runner_system_failure`;
 * a job it left hanging is dropped with `stuck_or_timeout_failure`.
 */
import { generatePast, type PastAttempt, type PastJob, type PastOutcome, type PastPipeline, type PastPool, type PastProject } from '../../../sim-kit/past-scenario.ts';
import { isoMs, type JobOutcome, type SimJob, type SimPipeline, type SimProject, type Status } from './world-entities.ts';
import { MESSAGES, USERS } from './world-seed.ts';
import type { World } from './world.ts';

const STAGES = ['build', 'test', 'deploy'];
const TAGS: Record<string, string[]> = { docker: ['docker', 'linux'], arm64: ['docker', 'linux', 'arm64'] };

/** The first project large and getting slower, the second medium, the rest small. */
export function pastProjects(paths: readonly string[]): PastProject[] {
  return paths.map((name, i): PastProject => {
    if (i === 0) {
      return {
        name, perDay: 20, slowdownPerDay: 0.1, nightly: true, featureBranches: ['feature/billing', 'fix/timeouts', 'renovate/node-22'],
        jobs: [
          { name: 'compile', stage: 0, pool: 'docker', minutes: 3 },
          { name: 'test:unit', stage: 1, pool: 'docker', minutes: 6, flakeRate: 0.08 },
          { name: 'test:arm64', stage: 1, pool: 'arm64', minutes: 14, share: 0.7 },
          { name: 'deploy:staging', stage: 2, pool: 'docker', minutes: 2, defaultBranchOnly: true },
        ],
      };
    }
    if (i === 1) {
      return {
        name, perDay: 12, featureBranches: ['feature/dark-mode', 'fix/layout'],
        jobs: [
          { name: 'install', stage: 0, pool: 'docker', minutes: 2 },
          { name: 'lint', stage: 1, pool: 'docker', minutes: 1.5 },
          { name: 'test:e2e', stage: 1, pool: 'docker', minutes: 7, flakeRate: 0.1 },
          { name: 'pages', stage: 2, pool: 'docker', minutes: 1, defaultBranchOnly: true },
        ],
      };
    }
    return {
      name, perDay: 5,
      jobs: [
        { name: 'validate', stage: 0, pool: 'docker', minutes: 1.5 },
        { name: 'plan:arm64', stage: 1, pool: 'arm64', minutes: 5 },
      ],
    };
  });
}

/** Pools from the world's online instance/group runners: docker (shared, autoscaling) and arm64 (one runner, starved). */
export function pastPools(world: World): PastPool[] {
  const having = (tags: readonly string[], exclude: string | null) => world.runners
    .filter((r) => r.type !== 'project_type' && r.online && !r.paused && !r.stale && !r.neverContacted)
    .filter((r) => tags.every((t) => r.tags.includes(t)) && (exclude === null || !r.tags.includes(exclude)))
    .map((r) => ({ name: r.description, slots: r.concurrent }));
  return [{ key: 'docker', runners: having(TAGS.docker!, 'arm64') }, { key: 'arm64', runners: having(TAGS.arm64!, null) }];
}

const STATUS: Record<PastOutcome, JobOutcome> = {
  success: 'success', failure: 'failed', timeout: 'failed', infra: 'failed', canceled: 'canceled', skipped: 'skipped',
};
const REASON: Partial<Record<PastOutcome, string>> = {
  failure: 'script_failure', timeout: 'stuck_or_timeout_failure', infra: 'runner_system_failure',
};

/** Creates the past's pipelines and jobs in `world`, oldest first. */
export function seedPast(world: World, opts: { days: number; seed: number; nowMs: number }): void {
  const timeline = generatePast({
    seed: opts.seed,
    nowMs: opts.nowMs,
    days: opts.days,
    projects: pastProjects(world.projects.map((p) => p.path)),
    pools: pastPools(world),
  });
  // Ids grow with time, as GitLab's do: a retry's job gets an id after those of pipelines created before it.
  const pipelineIds = new Map<PastPipeline, { pipelineId: number; iid: number }>();
  const jobIds = new Map<PastAttempt, number[]>();
  const moments = timeline.pipelines.flatMap((p) => p.attempts.map((a) => ({ p, a })));
  moments.sort((x, y) => x.a.createdAt - y.a.createdAt);
  for (const { p, a } of moments) {
    const project = world.projectByPath(p.project);
    if (!project) continue;
    if (a.attempt === 1) pipelineIds.set(p, world.allocatePipeline(project.id));
    jobIds.set(a, a.jobs.map(() => world.allocateJobId()));
  }
  for (const p of timeline.pipelines) {
    const project = world.projectByPath(p.project);
    const ids = pipelineIds.get(p);
    if (project && ids) addPipeline(world, project, p, ids, jobIds);
  }
}

function addPipeline(world: World, project: SimProject, p: PastPipeline, ids: { pipelineId: number; iid: number }, jobIds: ReadonlyMap<PastAttempt, number[]>): void {
  const user = p.event === 'schedule' ? USERS[0]! : USERS[p.actor % USERS.length]!;
  const stages = STAGES.filter((_, i) => p.attempts[0]!.jobs.some((j) => j.stage === i));
  const pipeline: SimPipeline = {
    id: ids.pipelineId,
    iid: ids.iid,
    projectId: project.id,
    ref: p.branch,
    tag: false,
    sha: p.sha,
    beforeSha: p.sha.slice(7) + p.sha.slice(0, 7),
    source: p.event === 'schedule' ? 'schedule' : 'push',
    name: null,
    message: MESSAGES[p.message % MESSAGES.length] ?? 'Update',
    user,
    createdAt: isoMs(new Date(p.createdAt)),
    stages,
    jobIds: [],
    parent: null,
    status: 'created',
    warnings: false,
    processed: true,
    updatedAt: isoMs(new Date(p.createdAt)),
    startedAt: null,
    finishedAt: null,
  };
  world.pipelines.set(pipeline.id, pipeline);
  const latest = new Map<string, SimJob>();
  for (const attempt of p.attempts) {
    const reserved = jobIds.get(attempt) ?? [];
    for (const [i, pj] of attempt.jobs.entries()) {
      const before = latest.get(pj.name);
      if (before && before.status === 'skipped') {
        // A skipped job is reset to `created` and runs again under its own id.
        Object.assign(before, timing(world, pj));
        continue;
      }
      if (before) before.retried = true;
      const job = makeJob(world, pipeline, pj, reserved[i] ?? world.allocateJobId(), before ? before.retriesCount + 1 : 0, isoMs(new Date(attempt.createdAt)), user);
      world.jobs.set(job.id, job);
      pipeline.jobIds.push(job.id);
      latest.set(pj.name, job);
    }
  }
  const final = [...latest.values()];
  const ran = final.filter((j) => j.startedAt !== null);
  const ends = final.flatMap((j) => (j.finishedAt ? [Date.parse(j.finishedAt)] : []));
  pipeline.status = final.some((j) => j.status === 'failed') ? 'failed' : final.some((j) => j.status === 'canceled') ? 'canceled' : 'success';
  pipeline.startedAt = ran.length > 0 ? ran.map((j) => j.startedAt!).sort()[0]! : null;
  pipeline.finishedAt = isoMs(new Date(Math.max(...ends, p.createdAt)));
  pipeline.updatedAt = pipeline.finishedAt;
}

/** The fields a run of `pj` sets on a job (a skipped job never got a runner or times). */
function timing(world: World, pj: PastJob): Pick<SimJob, 'status' | 'queuedAt' | 'startedAt' | 'finishedAt' | 'runnerId' | 'outcome' | 'failureReason'> {
  const status: Status = STATUS[pj.outcome];
  const skipped = pj.outcome === 'skipped';
  const runner = pj.runner === null ? undefined : world.runners.find((r) => r.description === pj.runner);
  return {
    status,
    outcome: STATUS[pj.outcome],
    failureReason: REASON[pj.outcome] ?? 'script_failure',
    queuedAt: skipped ? null : isoMs(new Date(pj.queuedAt)),
    startedAt: skipped ? null : isoMs(new Date(pj.startedAt)),
    finishedAt: skipped ? null : isoMs(new Date(pj.finishedAt)),
    runnerId: runner?.id ?? null,
  };
}

function makeJob(world: World, pipeline: SimPipeline, pj: PastJob, id: number, retriesCount: number, createdAt: string, user: SimPipeline['user']): SimJob {
  const stage = STAGES[pj.stage] ?? 'test';
  return {
    id,
    kind: 'build',
    pipelineId: pipeline.id,
    projectId: pipeline.projectId,
    name: pj.name,
    stage,
    stageIndex: Math.max(0, pipeline.stages.indexOf(stage)),
    tags: [...(TAGS[pj.pool] ?? TAGS.docker!)],
    when: 'on_success',
    allowFailure: false,
    resourceGroup: null,
    preparing: false,
    callback: false,
    environment: stage === 'deploy' ? 'staging' : null,
    user,
    createdAt,
    retriesCount,
    downstream: null,
    retried: false,
    downstreamPipelineId: null,
    lastTouched: 0,
    ...timing(world, pj),
  };
}
