/**
 * The seeded past of the simulated Jenkins: the neutral timeline of
 * sim-kit/past-scenario.ts turned into finished builds of the default job
 * tree, each holding one executor for its whole run (a `node` block). A
 * re-run of a flaky or broken build is a new build of the same commit,
 * restarted from the failed stage (Declarative "Restart from Stage"; freestyle
 * jobs are rebuilt). A `timeout` step ends a build ABORTED with an
 * InterruptedBuildAction (TimeoutStepExecution$ExceededTimeout); an agent
 * whose channel closed fails it with hudson.remoting.ChannelClosedException.
 * Queue time is what the Metrics plugin's TimeInQueueAction reports, and for
 * Pipeline builds also the wfapi `queueDurationMillis` (the `node` wait).
 */
import { generatePast, type PastAttempt, type PastJob, type PastPipeline, type PastPool, type PastProject } from '../../../sim-kit/past-scenario.ts';
import { createRandom, type Random } from '../../../sim-kit/seeded-random.ts';
import {
  BRANCH_CAUSE, SCM_CAUSE, TIMER_CAUSE, labelMatches, userCause,
  type BuildResult, type SimBuild, type SimCause, type SimComputer, type SimJob, type SimStage, type SimStepNode, type WfStatus,
} from './world-entities.ts';
import { ACTORS } from './world-seed.ts';
import type { World } from './world.ts';

interface JenkinsProject {
  readonly project: PastProject;
  /** The Jenkins job a branch builds in (a multibranch project has one per branch). */
  readonly jobFor: (branch: string) => SimJob | undefined;
}

/** The default tree's jobs that get a past: a busy multibranch monorepo getting slower, a service, a lint job, and an iOS app with one Mac. */
function pastProjects(world: World): JenkinsProject[] {
  const job = (name: string): SimJob | undefined => {
    const item = world.find(name);
    return item && (item.kind === 'pipeline' || item.kind === 'freestyle') ? item : undefined;
  };
  const out: JenkinsProject[] = [];
  if (job('monorepo/main')) {
    out.push({
      project: {
        name: 'monorepo', perDay: 18, slowdownPerDay: 0.1, nightly: true, singleNode: true, featureBranches: job('monorepo/feature%2Fx') ? ['feature/x'] : [],
        jobs: [
          { name: 'Checkout', stage: 0, pool: 'linux', minutes: 0.5 },
          { name: 'Build', stage: 1, pool: 'linux', minutes: 4 },
          { name: 'Test', stage: 2, pool: 'linux', minutes: 7, flakeRate: 0.08 },
          { name: 'Publish', stage: 3, pool: 'linux', minutes: 1.5, defaultBranchOnly: true },
        ],
      },
      jobFor: (branch) => job(`monorepo/${encodeURIComponent(branch)}`),
    });
  }
  const single = (name: string, project: Omit<PastProject, 'name'>): void => {
    const j = job(name);
    if (j) out.push({ project: { name, ...project }, jobFor: () => j });
  };
  single('team-a/service', {
    perDay: 10, singleNode: true,
    jobs: [
      { name: 'Checkout', stage: 0, pool: 'linux', minutes: 0.5 },
      { name: 'Build', stage: 1, pool: 'linux', minutes: 3 },
      { name: 'Test', stage: 2, pool: 'linux', minutes: 4, flakeRate: 0.05 },
      { name: 'Package', stage: 3, pool: 'linux', minutes: 1.5 },
    ],
  });
  single('team-a/lint', { perDay: 10, jobs: [{ name: 'lint', stage: 0, pool: 'linux', minutes: 1 }] });
  single('ios-app', {
    perDay: 10, singleNode: true,
    jobs: [
      { name: 'Checkout', stage: 0, pool: 'mac', minutes: 1 },
      { name: 'Build', stage: 1, pool: 'mac', minutes: 12 },
      { name: 'Test', stage: 2, pool: 'mac', minutes: 15, flakeRate: 0.05 },
    ],
  });
  return out;
}

/** Agents by label, with their executors as slots (the Mac was online all week; it dropped off only now). */
function pastPools(world: World): PastPool[] {
  const agents = (label: string) => world.computers
    .filter((c) => !c.builtIn && c.numExecutors > 0 && labelMatches(label, c))
    .map((c) => ({ name: c.name, slots: c.numExecutors }));
  return [{ key: 'linux', runners: agents('linux') }, { key: 'mac', runners: agents('mac') }];
}

interface Planned {
  readonly job: SimJob;
  readonly pipeline: PastPipeline;
  readonly attempt: PastAttempt;
}

/** Creates the past's builds in `world`, numbered in the order they started. */
export function seedPast(world: World, opts: { days: number; seed: number; nowMs: number }): void {
  const projects = pastProjects(world);
  const pools = pastPools(world);
  const timeline = generatePast({
    seed: opts.seed,
    nowMs: opts.nowMs,
    days: opts.days,
    projects: projects.map((p) => p.project),
    pools,
  });
  const planned: Planned[] = [];
  for (const pipeline of timeline.pipelines) {
    const job = projects.find((p) => p.project.name === pipeline.project)?.jobFor(pipeline.branch);
    if (job) for (const attempt of pipeline.attempts) planned.push({ job, pipeline, attempt });
  }
  planned.sort((a, b) => a.attempt.createdAt - b.attempt.createdAt);
  const random = createRandom(opts.seed ^ 0x1e4c_0b5d);
  for (const p of planned) addBuild(world, p, random);
}

const STAGE_STATUS: Record<PastJob['outcome'], WfStatus> = {
  success: 'SUCCESS', failure: 'FAILED', infra: 'FAILED', timeout: 'ABORTED', canceled: 'ABORTED', skipped: 'NOT_EXECUTED',
};

function stageError(pj: PastJob, agent: string): SimStage['error'] {
  switch (pj.outcome) {
    case 'failure': return { message: 'script returned exit code 1', type: 'hudson.AbortException' };
    case 'infra': return {
      message: `Channel "hudson.remoting.Channel@${(pj.startedAt % 0xffffff).toString(16)}:${agent}": Remote call on ${agent} failed. The channel is closing down or has closed down`,
      type: 'hudson.remoting.ChannelClosedException',
    };
    case 'timeout':
    case 'canceled': return { message: null, type: 'org.jenkinsci.plugins.workflow.steps.FlowInterruptedException' };
    default: return null;
  }
}

function addBuild(world: World, { job, pipeline, attempt }: Planned, random: Random): void {
  const ran = attempt.jobs.filter((j) => j.outcome !== 'skipped');
  const first = ran[0] ?? attempt.jobs[0];
  if (!first) return;
  const computer: SimComputer | undefined = world.computer(first.runner ?? '') ?? world.computers.find((c) => c.numExecutors > 0);
  if (!computer) return;
  const agent = computer.name;
  const pipelineJob = job.kind === 'pipeline';
  // A Pipeline build starts on a flyweight executor after the quiet period, then waits for its `node`; a freestyle build waits to start.
  const timestamp = pipelineJob ? first.queuedAt : first.startedAt;
  const end = Math.max(...attempt.jobs.map((j) => j.finishedAt));
  const failed = ran.find((j) => j.outcome !== 'success');
  const previous = [...job.builds].reverse().find((b) => b.sha === pipeline.sha);
  const number = job.nextBuildNumber++;
  let nodeSeq = 2;
  const stages: SimStage[] = [];
  if (pipelineJob) {
    for (const spec of job.stages) {
      const pj = attempt.jobs.find((j) => j.name === spec.name);
      const id = String(++nodeSeq);
      if (!pj || pj.outcome === 'skipped') {
        // Stages a restart skipped sit at the build's start; those a failure skipped at its end.
        const at = pj?.startedAt ?? (stages.some((x) => x.status !== 'NOT_EXECUTED') ? end : timestamp);
        stages.push({
          id, name: spec.name, execNode: agent, status: 'NOT_EXECUTED', startMs: at, durationMs: 0, pauseMs: 0, pauseStart: null,
          plannedSteps: spec.steps ?? [], outcome: 'SUCCESS', input: false, inputSpec: null, inputId: null, inputAnswer: null, steps: [], error: null,
        });
        continue;
      }
      const status = STAGE_STATUS[pj.outcome];
      const error = stageError(pj, agent);
      const names = spec.steps?.length ? spec.steps : ['Shell Script'];
      const span = pj.finishedAt - pj.startedAt;
      const steps: SimStepNode[] = names.map((name, i) => {
        const from = pj.startedAt + Math.floor((span * i) / names.length);
        const to = i === names.length - 1 ? pj.finishedAt : pj.startedAt + Math.floor((span * (i + 1)) / names.length);
        const last = i === names.length - 1;
        return { id: String(++nodeSeq), name, parentId: i === 0 ? id : String(nodeSeq - 1), status: last ? status : 'SUCCESS', startMs: from, durationMs: to - from, error: last ? error : null };
      });
      stages.push({
        id, name: spec.name, execNode: agent, status, startMs: pj.startedAt, durationMs: span, pauseMs: 0, pauseStart: null,
        plannedSteps: names, outcome: status === 'FAILED' ? 'FAILED' : status === 'ABORTED' ? 'ABORTED' : 'SUCCESS',
        input: false, inputSpec: null, inputId: null, inputAnswer: null, steps, error,
      });
    }
  }
  const result: BuildResult = !failed
    ? 'SUCCESS'
    : failed.outcome === 'timeout' || failed.outcome === 'canceled'
      ? 'ABORTED'
      : !pipelineJob && failed.outcome === 'failure' && random.chance(0.5)
        ? 'UNSTABLE' // lint warnings over the quality gate
        : 'FAILURE';
  const done = job.builds.filter((b) => b.result === 'SUCCESS' || b.result === 'UNSTABLE').slice(-3);
  const build: SimBuild = {
    job,
    number,
    queueId: world.allocateQueueId(),
    queuedAt: attempt.createdAt,
    timestamp,
    causes: causes(job, pipeline, attempt, previous, attempt.jobs[0] ?? first),
    sha: pipeline.sha,
    estimatedDuration: done.length > 0 ? Math.round(done.reduce((n, b) => n + b.duration, 0) / done.length) : -1,
    plan: job.stages,
    explicitResult: pipelineJob ? null : result,
    params: null,
    computer,
    executorIndex: 0,
    building: false,
    displayName: null,
    result,
    duration: Math.max(0, end - timestamp),
    stages,
    nextStage: stages.length,
    broken: result === 'FAILURE' || result === 'ABORTED' ? result : null,
    unstable: result === 'UNSTABLE',
    nodeSeq,
    freestyleIdx: job.freestyleSteps.length,
    lastTouched: 0,
    ...(failed?.outcome === 'timeout' ? { interruption: 'timeout' as const } : failed?.outcome === 'infra' ? { interruption: 'agent-lost' as const } : {}),
    timeInQueue: pipelineJob
      ? { waitingMs: timestamp - attempt.createdAt, buildableMs: Math.max(0, first.startedAt - timestamp), subTasks: 1 }
      : { waitingMs: Math.min(5000, first.startedAt - attempt.createdAt), buildableMs: Math.max(0, first.startedAt - attempt.createdAt - 5000), subTasks: 0 },
  };
  job.builds.push(build);
}

function causes(job: SimJob, p: PastPipeline, attempt: PastAttempt, previous: SimBuild | undefined, from: PastJob): SimCause[] {
  const user = userCause(ACTORS[p.actor % ACTORS.length] ?? 'alice');
  if (attempt.attempt > 1 && previous) {
    if (job.kind === 'pipeline') {
      return [{
        cls: 'org.jenkinsci.plugins.pipeline.modeldefinition.causes.RestartDeclarativePipelineCause',
        shortDescription: `Restarted from build #${previous.number}, stage ${from.name}`,
      }, user];
    }
    return [{ cls: 'com.sonyericsson.rebuild.RebuildCause', shortDescription: `Rebuilds build #${previous.number}` }, user];
  }
  if (p.event === 'schedule') return [TIMER_CAUSE];
  return [job.parent.kind === 'multibranch' ? BRANCH_CAUSE : SCM_CAUSE];
}
