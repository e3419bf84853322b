/**
 * The entities of the simulated Buildkite organization (pipelines with their
 * steps, builds, jobs, agents), the specs that create them, and the pure
 * rules Buildkite applies to them: state vocabularies, which states are
 * terminal, agent query rules. Vocabularies follow the REST v2 API
 * (shared/reference/buildkite.md §2.1).
 */

/** REST build states (`_build_states.md`). `blocked` appears only as `passed` + `blocked: true` in REST. */
export type BuildState =
  | 'creating' | 'scheduled' | 'running' | 'passed' | 'failing' | 'failed' | 'blocked'
  | 'canceling' | 'canceled' | 'skipped' | 'not_run';

/** REST job states the simulator produces (`finished` is flattened to passed/failed, as REST does). */
export type JobState =
  | 'pending' | 'waiting' | 'waiting_failed' | 'blocked' | 'blocked_failed' | 'unblocked' | 'unblocked_failed'
  | 'limiting' | 'limited' | 'scheduled' | 'assigned' | 'accepted' | 'running' | 'passed' | 'failed'
  | 'canceling' | 'canceled' | 'expired' | 'timing_out' | 'timed_out' | 'skipped' | 'broken';

export type JobType = 'script' | 'waiter' | 'manual' | 'trigger';

export type ConnectionState = 'never_connected' | 'connected' | 'disconnected' | 'stopping' | 'stopped' | 'lost';

/** How a command step ends when it runs: `lost` loses its agent mid-job (exit_status -1). */
export type JobOutcome = 'passed' | 'failed' | 'timed_out' | 'lost';

export const FINISHED_BUILD: ReadonlySet<BuildState> = new Set(['passed', 'failed', 'blocked', 'canceled', 'skipped', 'not_run']);
/** Build states a cancel applies to (reference §4: otherwise 422). */
export const CANCELABLE_BUILD: ReadonlySet<BuildState> = new Set(['scheduled', 'running', 'failing']);
export const TERMINAL_JOB: ReadonlySet<JobState> = new Set([
  'passed', 'failed', 'canceled', 'expired', 'timed_out', 'skipped', 'broken', 'waiting_failed', 'blocked_failed',
  'unblocked', 'unblocked_failed',
]);
/** Job states that hold (or are about to hold) an agent. */
export const ON_AGENT: ReadonlySet<JobState> = new Set(['assigned', 'accepted', 'running', 'canceling', 'timing_out']);

/** A block step's input field (Buildkite: `text` or `select`, `required` by default). */
export interface BlockField {
  readonly key: string;
  readonly text?: string;
  readonly select?: string;
  readonly hint?: string;
  readonly required?: boolean;
  readonly default?: string;
  readonly options?: readonly { readonly label: string; readonly value: string }[];
}

/** A step of a pipeline's definition (what `pipeline.yml` would say). */
export type StepDef =
  | {
    readonly type: 'command'; readonly key: string; readonly label: string; readonly command: string;
    /** `agents: { queue }`; the job's agent_query_rules are `queue=<queue>`. */
    readonly queue: string;
    /** Lifecycle steps spent running (default 2). */
    readonly runSteps?: number;
    /** `soft_fail: true`: a failure leaves the build passing. */
    readonly softFail?: boolean;
    /** Default outcome when a build does not say otherwise (default passed). */
    readonly outcome?: JobOutcome;
    /** `branches:` filter; a build on another branch gets this job `broken`. */
    readonly branches?: readonly string[];
    /** `concurrency: 1` with this `concurrency_group`: a second job waits `limited`. */
    readonly concurrencyGroup?: string;
    /** `parallelism: N`: N jobs with parallel_group_index 0..N-1. */
    readonly parallelism?: number;
  }
  | { readonly type: 'wait'; readonly key?: string; readonly continueOnFailure?: boolean }
  | { readonly type: 'block'; readonly key: string; readonly label: string; readonly fields?: readonly BlockField[] }
  | { readonly type: 'trigger'; readonly key: string; readonly label: string; readonly trigger: string; readonly async?: boolean };

export interface SimPipeline {
  readonly id: string;
  readonly graphqlId: string;
  readonly slug: string;
  readonly name: string;
  readonly description: string;
  readonly repository: string;
  readonly defaultBranch: string;
  readonly createdAt: number;
  readonly steps: readonly StepDef[];
  /** Skip queued builds on a branch when a newer one is created (build state `skipped`). */
  readonly skipQueuedBranchBuilds: boolean;
  nextNumber: number;
}

export interface SimCreator {
  readonly id: string;
  readonly name: string;
  readonly email: string;
}

export interface SimJob {
  readonly id: string;
  readonly graphqlId: string;
  readonly type: JobType;
  readonly stepIndex: number;
  readonly step: StepDef;
  readonly stepId: string;
  state: JobState;
  exitStatus: number | null;
  softFailed: boolean;
  signalReason: string | null;
  agentId: string | null;
  createdAt: number;
  scheduledAt: number | null;
  runnableAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  /** Planned outcome when it runs. */
  outcome: JobOutcome;
  /** Lifecycle steps left while running. */
  stepsLeft: number;
  /** Lifecycle steps spent scheduled with no agent in the organization for its queue (expires at EXPIRY_STEPS). */
  starvedSteps: number;
  retried: boolean;
  retriedInJobId: string | null;
  retriesCount: number;
  retrySource: { job_id: string; retry_type: 'manual' | 'automatic'; retried_by?: { name: string; email: string } } | null;
  parallelIndex: number | null;
  parallelTotal: number | null;
  unblockedBy: SimCreator | null;
  unblockedAt: number | null;
  unblockFields: Record<string, string> | null;
  triggeredBuild: { pipeline: string; number: number } | null;
}

export interface SimBuild {
  readonly id: string;
  readonly graphqlId: string;
  readonly pipeline: SimPipeline;
  readonly number: number;
  state: BuildState;
  blocked: boolean;
  readonly branch: string;
  readonly commit: string;
  readonly message: string;
  readonly env: Record<string, string>;
  readonly metaData: Record<string, string>;
  readonly source: 'webhook' | 'api' | 'ui' | 'trigger_job' | 'schedule';
  readonly creator: SimCreator | null;
  readonly createdAt: number;
  scheduledAt: number;
  startedAt: number | null;
  failingAt: number | null;
  finishedAt: number | null;
  cancelReason: string | null;
  readonly rebuiltFrom: { id: string; number: number } | null;
  readonly pullRequest: { id: string; base: string; repository: string } | null;
  jobs: SimJob[];
}

export interface SimAgent {
  readonly id: string;
  readonly graphqlId: string;
  readonly name: string;
  readonly hostname: string;
  readonly metaData: readonly string[];
  readonly version: string;
  readonly ipAddress: string;
  readonly createdAt: number;
  connectionState: ConnectionState;
  disconnectedAt: number | null;
  lostAt: number | null;
  jobId: string | null;
  lastJobFinishedAt: number | null;
  priority: number;
}

export interface AgentSpec {
  readonly name: string;
  /** `key=value` tags, e.g. `queue=default`, `os=linux`. */
  readonly tags: readonly string[];
  readonly connectionState?: ConnectionState;
}

/** What a transition causes: a webhook event about a build, a job or an agent. */
export type WorldEvent =
  | { readonly event: BuildEvent; readonly build: SimBuild }
  | { readonly event: JobEvent; readonly build: SimBuild; readonly job: SimJob }
  | { readonly event: AgentEvent; readonly agent: SimAgent };

export type BuildEvent = 'build.scheduled' | 'build.running' | 'build.failing' | 'build.finished' | 'build.skipped';
export type JobEvent = 'job.scheduled' | 'job.started' | 'job.finished' | 'job.activated';
export type AgentEvent = 'agent.connected' | 'agent.disconnected' | 'agent.lost' | 'agent.stopping' | 'agent.stopped';

/** Steps a job waits scheduled with no agent for its queue before it `expired`. */
export const EXPIRY_STEPS = 6;

/** `queue=default` for a step (the agent query rules Buildkite stores on the job). */
export function queryRules(step: StepDef): string[] {
  return step.type === 'command' ? [`queue=${step.queue}`] : [];
}

/** An agent matches when it carries every `key=value` rule (a missing queue tag means `queue=default`). */
export function agentMatches(agent: SimAgent, rules: readonly string[]): boolean {
  const tags = new Set(agent.metaData);
  if (![...tags].some((t) => t.startsWith('queue='))) tags.add('queue=default');
  return rules.every((r) => tags.has(r));
}

/** Buildkite branch filter: space-separated patterns with `*` wildcards and `!` negation. */
export function branchMatches(patterns: readonly string[], branch: string): boolean {
  const wild = (p: string) => new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  const positive = patterns.filter((p) => !p.startsWith('!'));
  if (patterns.some((p) => p.startsWith('!') && wild(p.slice(1)).test(branch))) return false;
  return positive.length === 0 || positive.some((p) => wild(p).test(branch));
}

export function stepLabel(step: StepDef): string | null {
  return step.type === 'wait' ? null : step.label;
}

export function stepKey(step: StepDef): string | null {
  return step.key ?? null;
}

/** REST timestamps: `2015-05-09T21:05:59.874Z`. */
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
