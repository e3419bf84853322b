/**
 * The entities of the simulated GitLab CI world (projects, pipelines, jobs,
 * runners, users), GitLab's status list, the specs that create them, the
 * transitions that can happen and the webhook events they cause. Types only,
 * plus GitLab's timestamp format.
 */
export const STATUSES = [
  'created', 'waiting_for_resource', 'preparing', 'waiting_for_callback', 'pending', 'running',
  'success', 'failed', 'canceling', 'canceled', 'skipped', 'manual', 'scheduled',
] as const;
export type Status = (typeof STATUSES)[number];
export const COMPLETED: ReadonlySet<Status> = new Set<Status>(['success', 'failed', 'canceled', 'skipped']);

export type JobOutcome = 'success' | 'failed' | 'canceled' | 'skipped';
export type JobWhen = 'on_success' | 'manual' | 'delayed';
export type RunnerType = 'instance_type' | 'group_type' | 'project_type';

export interface SimUser {
  readonly id: number;
  readonly username: string;
  readonly name: string;
  readonly email: string;
}

export interface SimProject {
  readonly id: number;
  readonly path: string;
  readonly name: string;
  readonly description: string;
  readonly defaultBranch: string;
  readonly createdAt: string;
  lastActivityAt: string;
}

export interface SimRunner {
  readonly id: number;
  readonly description: string;
  readonly tags: readonly string[];
  readonly type: RunnerType;
  /** Project ids a project_type runner is assigned to. */
  readonly projectIds: readonly number[];
  readonly runUntagged: boolean;
  readonly createdAt: string;
  readonly version: string;
  readonly managerId: number;
  readonly systemId: string;
  paused: boolean;
  online: boolean;
  neverContacted: boolean;
  stale: boolean;
  /** Last contact for runners that are not online (online ones contact continuously). */
  contactedAt: string | null;
  /** How many jobs it runs at once (config.toml `concurrent`/`limit`; autoscaling runners run many). */
  readonly concurrent: number;
  /** The jobs it is running now (at most `concurrent`). */
  readonly jobIds: Set<number>;
}

export interface SimPipeline {
  readonly id: number;
  readonly iid: number;
  readonly projectId: number;
  readonly ref: string;
  readonly tag: boolean;
  readonly sha: string;
  readonly beforeSha: string;
  readonly source: string;
  readonly name: string | null;
  readonly message: string;
  readonly user: SimUser;
  readonly createdAt: string;
  readonly stages: string[];
  readonly jobIds: number[];
  /** For child pipelines: the bridge that created it. */
  readonly parent: { readonly pipelineId: number; readonly jobId: number; readonly projectId: number } | null;
  status: Status;
  /** Variables it was created with (POST /projects/:id/pipeline `variables`), served by GET .../variables. */
  variables?: SimVariable[];
  /** spec:inputs it was created with (not exposed by the REST API, as on GitLab). */
  inputs?: Record<string, unknown>;
  /** True when it succeeded while an allowed-to-fail job failed. */
  warnings: boolean;
  processed: boolean;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface SimJob {
  readonly id: number;
  readonly kind: 'build' | 'bridge';
  readonly pipelineId: number;
  readonly projectId: number;
  readonly name: string;
  readonly stage: string;
  readonly stageIndex: number;
  readonly tags: readonly string[];
  readonly outcome: JobOutcome;
  readonly when: JobWhen;
  readonly allowFailure: boolean;
  readonly failureReason: string;
  readonly resourceGroup: string | null;
  readonly preparing: boolean;
  readonly callback: boolean;
  readonly environment: string | null;
  readonly user: SimUser;
  readonly createdAt: string;
  readonly retriesCount: number;
  /** Jobs of the child pipeline a bridge creates. */
  readonly downstream: readonly JobSpec[] | null;
  status: Status;
  queuedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  runnerId: number | null;
  retried: boolean;
  downstreamPipelineId: number | null;
  lastTouched: number;
  /** Extension: deploys to a protected environment that requires an approval (Premium deployment approvals). */
  approval?: boolean;
  /** Variables given when the manual job was played (`job_variables_attributes`). */
  jobVariables?: SimVariable[];
}

export interface SimVariable {
  readonly key: string;
  readonly value: string;
  readonly variable_type: 'env_var' | 'file';
}

/** A deployment of a job to its environment; only approval-blocked ones are modelled (status `blocked` until answered). */
export interface SimDeployment {
  readonly id: number;
  readonly iid: number;
  readonly projectId: number;
  readonly jobId: number;
  readonly environment: string;
  readonly createdAt: string;
  status: 'blocked' | 'created' | 'failed';
  updatedAt: string;
  readonly approvals: { readonly status: 'approved' | 'rejected'; readonly comment: string | null; readonly createdAt: string }[];
}

export interface RunnerSpec {
  description: string;
  tags: string[];
  type: RunnerType;
  paused?: boolean;
  online?: boolean;
  neverContacted?: boolean;
  /** Extension: no contact for over 7 days (status `stale`). */
  stale?: boolean;
  /** Extension: whether it picks untagged jobs (default true). */
  runUntagged?: boolean;
  /** Extension: project paths a project_type runner is assigned to (default: the first project). */
  projects?: string[];
  /** Jobs it runs at once (default 1). */
  concurrent?: number;
}

export interface JobSpec {
  name: string;
  stage: string;
  tags?: string[];
  outcome?: JobOutcome;
  when?: JobWhen;
  allowFailure?: boolean;
  failureReason?: string;
  /** true: the project's `production` resource group; a string names the group. */
  resourceGroup?: boolean | string;
  /** Extension: the job passes through `preparing` (prerequisites such as an environment) before `pending`. */
  preparing?: boolean;
  /** Extension: after the script the job waits for an external callback (`waiting_for_callback`). */
  callback?: boolean;
  environment?: string;
  /** Extension: the job's environment requires a deployment approval (blocked `manual` until approved). */
  approval?: boolean;
}

export interface PipelineSpec {
  project: string;
  ref?: string;
  source?: string;
  name?: string;
  jobs: JobSpec[];
  variables?: SimVariable[];
  inputs?: Record<string, unknown>;
  /**
   * Adds a trigger job (bridge) in a last `downstream` stage that creates a
   * child pipeline (`source: parent_pipeline`, `strategy: depend`). `true`
   * uses a default build+test child; an object sets its jobs.
   */
  downstream?: boolean | { name?: string; jobs: JobSpec[] };
}

export type WorldEvent =
  | { readonly kind: 'job'; readonly jobId: number }
  | { readonly kind: 'pipeline'; readonly pipelineId: number };

/** REST timestamps: ISO-8601 UTC with milliseconds, as GitLab renders them. */
export function isoMs(date: Date): string {
  return date.toISOString();
}

export type Transition =
  | { readonly type: 'process'; readonly pipeline: SimPipeline }
  | { readonly type: 'advance'; readonly job: SimJob }
  | { readonly type: 'start'; readonly job: SimJob; readonly runner: SimRunner }
  | { readonly type: 'finish'; readonly job: SimJob };
