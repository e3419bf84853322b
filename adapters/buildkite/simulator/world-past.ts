/**
 * The seeded past of the simulated Buildkite organization: the neutral
 * timeline of sim-kit/past-scenario.ts turned into finished builds of the
 * web, api and ios pipelines. A re-run of a flaky job is a Buildkite job
 * retry inside the same build (the failed job `retried` with
 * `retried_in_job_id`, its retry with `retries_count` 1 and a manual
 * `retry_source`; the jobs the failure had stopped run once, after it). A job
 * on the incident's agent fails with exit status -1 (the agent was lost), a job
 * over its time limit ends `timed_out`, jobs a failure stopped stay
 * `waiting_failed`, and queue time is a job's `runnable_at` → `started_at`
 * (the one Mac is the starved pool).
 */
import {
  finalJobs, generatePast, overallOutcome, type PastJob, type PastPipeline, type PastPool, type PastProject,
} from '../../../sim-kit/past-scenario.ts';
import { agentMatches, type SimBuild, type SimJob, type SimPipeline, type StepDef } from './world-entities.ts';
import { graphqlId } from './world-state.ts';
import { ACTORS, FEATURE_BRANCHES, MESSAGES } from './world-seed.ts';
import type { World } from './world.ts';

/** Past projects by pipeline slug; job names are the pipelines' step keys. */
const PROJECTS: readonly PastProject[] = [
  {
    name: 'web', perDay: 20, slowdownPerDay: 0.1, nightly: true, featureBranches: [...FEATURE_BRANCHES],
    jobs: [
      { name: 'lint', stage: 0, pool: 'default', minutes: 1.5 },
      { name: 'test', stage: 0, pool: 'default', minutes: 6, flakeRate: 0.08 },
      { name: 'build', stage: 1, pool: 'default', minutes: 3 },
    ],
  },
  {
    name: 'api', perDay: 12, featureBranches: ['feature/login', 'release/2.4'],
    jobs: [
      { name: 'test', stage: 0, pool: 'default', minutes: 4, flakeRate: 0.04 },
      { name: 'lint', stage: 0, pool: 'default', minutes: 1 },
      { name: 'deploy', stage: 1, pool: 'deploy', minutes: 2, defaultBranchOnly: true },
    ],
  },
  {
    name: 'ios', perDay: 5,
    jobs: [
      { name: 'build', stage: 0, pool: 'macos', minutes: 8 },
      { name: 'ui-tests', stage: 0, pool: 'macos', minutes: 10, flakeRate: 0.05 },
    ],
  },
];

/** Pools from the connected agents of each queue; the one Mac is the starved pool. */
function pastPools(world: World): PastPool[] {
  return ['default', 'deploy', 'macos'].map((queue) => ({
    key: queue,
    runners: world.agents.filter((a) => a.connectionState === 'connected' && agentMatches(a, [`queue=${queue}`])).map((a) => ({ name: a.name })),
  }));
}

/** Creates the past's builds in `world`, oldest first (build numbers grow with time). */
export function seedPast(world: World, opts: { days: number; seed: number; nowMs: number }): void {
  const projects = PROJECTS.filter((p) => world.pipeline(p.name));
  const pools = pastPools(world).filter((p) => p.runners.length > 0);
  const usable = projects.map((p) => ({ ...p, jobs: p.jobs.filter((j) => pools.some((x) => x.key === j.pool)) })).filter((p) => p.jobs.length > 0);
  if (usable.length === 0) return;
  const timeline = generatePast({ seed: opts.seed, nowMs: opts.nowMs, days: opts.days, projects: usable, pools });
  for (const p of timeline.pipelines) addBuild(world, world.findPipeline(p.project), p);
}

function addBuild(world: World, pipeline: SimPipeline, p: PastPipeline): void {
  const id = world.uuid();
  const final = finalJobs(p);
  const outcome = overallOutcome(final);
  const ran = final.filter((j) => j.outcome !== 'skipped');
  const hardFails = p.attempts.flatMap((a) => a.jobs).filter((j) => j.outcome === 'failure' || j.outcome === 'timeout' || j.outcome === 'infra');
  const creator = ACTORS[p.actor % ACTORS.length]!;
  const build: SimBuild = {
    id, graphqlId: graphqlId('Build', id), pipeline, number: pipeline.nextNumber++,
    state: outcome === 'success' ? 'passed' : outcome === 'canceled' ? 'canceled' : outcome === 'skipped' ? 'not_run' : 'failed',
    blocked: false, branch: p.branch, commit: p.sha, message: MESSAGES[p.message % MESSAGES.length] ?? 'Update',
    env: {}, metaData: {}, source: p.event === 'schedule' ? 'schedule' : 'webhook', creator: p.event === 'schedule' ? null : creator,
    createdAt: p.createdAt, scheduledAt: p.createdAt,
    startedAt: ran.length > 0 ? Math.min(...p.attempts[0]!.jobs.filter((j) => j.outcome !== 'skipped').map((j) => j.startedAt)) : null,
    failingAt: hardFails.length > 0 ? Math.min(...hardFails.map((j) => j.finishedAt)) : null,
    finishedAt: Math.max(...p.attempts.flatMap((a) => a.jobs.map((j) => j.finishedAt))),
    cancelReason: null, rebuiltFrom: null,
    pullRequest: p.event === 'pull_request' ? { id: String(100 + (p.message % 900)), base: pipeline.defaultBranch, repository: pipeline.repository } : null,
    jobs: [],
  };
  const stepOf = (name: string): { step: StepDef; index: number } | undefined => {
    const index = pipeline.steps.findIndex((s) => s.key === name);
    return index >= 0 ? { step: pipeline.steps[index]!, index } : undefined;
  };
  const waitIndex = pipeline.steps.findIndex((s) => s.type === 'wait');
  const jobs: SimJob[] = [];
  const first = p.attempts[0]!;
  const retried = new Map<string, PastJob>();
  for (const later of p.attempts.slice(1)) for (const j of later.jobs) retried.set(j.name, j);
  for (const pj of first.jobs) {
    const at = stepOf(pj.name);
    if (!at) continue;
    const again = retried.get(pj.name);
    if (again && pj.outcome === 'skipped') {
      // Stopped by the failure, it ran once the retry had passed.
      jobs.push(pastJob(world, build, at.step, at.index, again, 0, null));
      continue;
    }
    const original = pastJob(world, build, at.step, at.index, pj, 0, null);
    jobs.push(original);
    if (again) {
      const fresh = pastJob(world, build, at.step, at.index, again, 1, { job_id: original.id, retry_type: 'manual', retried_by: { name: creator.name, email: creator.email } });
      fresh.createdAt = p.attempts.find((a) => a.jobs.includes(again))?.createdAt ?? again.queuedAt;
      original.retried = true;
      original.retriedInJobId = fresh.id;
      jobs.push(fresh);
    }
  }
  // The wait step between the stages: passed once every job before it passed, else stopped by the failure.
  if (waitIndex >= 0 && jobs.some((j) => j.stepIndex > waitIndex)) {
    const before = final.filter((j) => (stepOf(j.name)?.index ?? 0) < waitIndex);
    const ok = before.every((j) => j.outcome === 'success');
    const waiter = pastJob(world, build, pipeline.steps[waitIndex]!, waitIndex, null, 0, null);
    waiter.state = ok ? 'passed' : 'waiting_failed';
    waiter.finishedAt = ok ? Math.max(...before.map((j) => j.finishedAt)) : null;
    jobs.push(waiter);
  }
  build.jobs = jobs.sort((a, b) => a.stepIndex - b.stepIndex);
  if (build.state === 'canceled') build.cancelReason = `canceled by ${creator.name}`;
  world.builds.get(pipeline.slug)!.push(build);
  world.version++;
}

function pastJob(
  world: World, build: SimBuild, step: StepDef, stepIndex: number, pj: PastJob | null, retriesCount: number, retrySource: SimJob['retrySource'],
): SimJob {
  const id = world.uuid();
  const agent = pj?.runner ? world.agents.find((a) => a.name === pj.runner) : undefined;
  const ran = pj !== null && pj.outcome !== 'skipped';
  const job: SimJob = {
    id, graphqlId: graphqlId('Job', id),
    type: step.type === 'command' ? 'script' : step.type === 'wait' ? 'waiter' : step.type === 'block' ? 'manual' : 'trigger',
    stepIndex, step, stepId: `${build.id.slice(0, 24)}${String(stepIndex).padStart(12, '0')}`,
    state: 'passed', exitStatus: null, softFailed: false, signalReason: null, agentId: ran && agent ? agent.id : null,
    createdAt: build.createdAt, scheduledAt: build.createdAt,
    runnableAt: pj ? pj.queuedAt : null, startedAt: ran ? pj.startedAt : null, finishedAt: pj ? pj.finishedAt : null,
    outcome: 'passed', stepsLeft: 0, starvedSteps: 0,
    retried: false, retriedInJobId: null, retriesCount, retrySource,
    parallelIndex: null, parallelTotal: null, unblockedBy: null, unblockedAt: null, unblockFields: null, triggeredBuild: null,
  };
  switch (pj?.outcome) {
    case 'success':
      job.exitStatus = 0;
      break;
    case 'failure':
      job.state = 'failed';
      job.exitStatus = 1;
      break;
    case 'infra':
      // Buildkite lost contact with the agent.
      job.state = 'failed';
      job.exitStatus = -1;
      break;
    case 'timeout':
      job.state = 'timed_out';
      job.signalReason = 'agent_stop';
      break;
    case 'canceled':
      job.state = 'canceled';
      job.signalReason = 'cancel';
      break;
    case 'skipped':
      job.state = build.state === 'canceled' ? 'canceled' : 'waiting_failed';
      job.finishedAt = null;
      break;
    default:
      break;
  }
  world.jobIndex.set(id, { build, job });
  if (agent && job.finishedAt !== null && ran) agent.lastJobFinishedAt = Math.max(agent.lastJobFinishedAt ?? 0, job.finishedAt);
  return job;
}
