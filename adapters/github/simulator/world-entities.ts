/**
 * The entities of the simulated GitHub Actions world (repositories, workflows,
 * runs, jobs, steps, self-hosted runners), the specs that create them, and the
 * webhook events a transition causes. Types only, plus GitHub's timestamp format.
 */
export type JobOutcome = 'success' | 'failure' | 'cancelled' | 'skipped' | 'timed_out';
/** `waiting`: held by an environment's required reviewers (a pending deployment). */
export type RunStatus = 'queued' | 'in_progress' | 'completed' | 'waiting';
export type JobStatus = 'queued' | 'in_progress' | 'completed' | 'waiting';

export interface SimActor {
  readonly login: string;
  readonly id: number;
  readonly type: 'User' | 'Bot' | 'Organization';
}

export interface SimRepo {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly language: string;
  readonly defaultBranch: string;
  readonly createdAt: string;
  pushedAt: string;
  updatedAt: string;
}

export interface SimWorkflow {
  readonly id: number;
  readonly repo: string;
  readonly name: string;
  readonly path: string;
  readonly createdAt: string;
}

export interface SimPullRequest {
  readonly id: number;
  readonly number: number;
  readonly title: string;
  readonly baseSha: string;
}

export interface SimRun {
  readonly id: number;
  readonly repo: string;
  readonly workflowId: number;
  readonly runNumber: number;
  /** Grows by one per re-run (the run id stays). */
  runAttempt: number;
  readonly event: string;
  readonly branch: string;
  readonly sha: string;
  readonly treeId: string;
  readonly message: string;
  readonly actor: SimActor;
  readonly checkSuiteId: number;
  readonly pullRequest: SimPullRequest | null;
  readonly createdAt: string;
  readonly jobIds: number[];
  status: RunStatus;
  conclusion: string | null;
  updatedAt: string;
  runStartedAt: string;
  /** Earlier attempts of a re-run run, oldest first; the run itself is the latest. */
  previousAttempts?: readonly SimRunAttempt[];
  /** `run-name` rendered with the dispatch inputs (workflow_dispatch runs); else the commit message is the title. */
  displayTitle?: string;
  /** A cancel was requested: the next transition cancels every unfinished job of the attempt. */
  cancelRequested?: boolean;
  /** Re-run attempts send no webhooks (issue 15: GitHub sends none for a re-run). */
  silent?: boolean;
}

/** What an earlier attempt of a run looked like when it ended. */
export interface SimRunAttempt {
  readonly runAttempt: number;
  readonly conclusion: string;
  readonly updatedAt: string;
  readonly runStartedAt: string;
}

export interface SimStep {
  readonly name: string;
  readonly number: number;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: 'success' | 'failure' | 'cancelled' | 'skipped' | null;
  startedAt: string | null;
  completedAt: string | null;
}

export interface SimJob {
  readonly id: number;
  readonly runId: number;
  readonly repo: string;
  readonly name: string;
  readonly labels: readonly string[];
  readonly outcome: JobOutcome;
  readonly createdAt: string;
  /** Step names the runner will execute (GitHub shows steps only once a runner has the job). */
  readonly plannedSteps: readonly string[];
  /** Index of the step where a failing/cancelled/timed-out job stops. */
  readonly stopAt: number;
  status: JobStatus;
  conclusion: JobOutcome | null;
  startedAt: string;
  completedAt: string | null;
  steps: SimStep[];
  runnerId: number | null;
  runnerName: string | null;
  runnerGroupId: number | null;
  runnerGroupName: string | null;
  /** Fairness counter: the job advanced least recently goes next. */
  lastTouched: number;
  /** The run attempt this job belongs to (absent: the run's current attempt). */
  runAttempt?: number;
  /** The environment whose required reviewers hold this job (`waiting` until reviewed). */
  readonly environment?: string;
}

export interface SimRunnerLabel {
  readonly id: number;
  readonly name: string;
  readonly type: 'read-only' | 'custom';
}

export interface SimRunner {
  readonly id: number;
  readonly name: string;
  readonly os: string;
  readonly labels: readonly SimRunnerLabel[];
  readonly scope: 'org' | { readonly repo: string };
  readonly version: string;
  readonly groupId: number;
  readonly groupName: string;
  status: 'online' | 'offline';
  jobId: number | null;
}

export interface RunnerSpec {
  name: string;
  labels: string[];
  scope: 'org' | { repo: string };
  status?: 'online' | 'offline';
}

export interface JobSpec {
  name: string;
  labels?: string[];
  outcome?: JobOutcome;
  steps?: string[];
  /** An environment with required reviewers: the job waits for a deployment review. */
  environment?: string;
}

export interface RunSpec {
  repo: string;
  workflow?: string;
  branch?: string;
  event?: string;
  jobs: JobSpec[];
  /** The run's title when a `run-name` gives one. */
  displayTitle?: string;
}

export type WorldEvent =
  | { readonly event: 'workflow_run'; readonly action: 'requested' | 'in_progress' | 'completed'; readonly runId: number }
  | { readonly event: 'workflow_job'; readonly action: 'queued' | 'waiting' | 'in_progress' | 'completed'; readonly jobId: number };

/** GitHub's timestamp format: ISO-8601 UTC without milliseconds. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
