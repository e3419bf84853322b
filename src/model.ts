/**
 * The unified CI model every adapter produces. Plain, immutable data:
 * normalizers build these, the live state stores them, resolvers read them.
 * The GraphQL schema (schema/*.graphql) is the public face of these types;
 * codegen maps GraphQL types onto them (see codegen.yml `mappers`).
 */

export const CI_STATUSES = [
  'PENDING', 'QUEUED', 'WAITING', 'RUNNING', 'CANCELING',
  'SUCCESS', 'UNSTABLE', 'FAILURE', 'TIMED_OUT', 'ERROR', 'CANCELED', 'SKIPPED',
  'UNKNOWN',
] as const;
export type CiStatus = (typeof CI_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<CiStatus> = new Set([
  'SUCCESS', 'UNSTABLE', 'FAILURE', 'TIMED_OUT', 'ERROR', 'CANCELED', 'SKIPPED',
]);

export type WaitReason =
  | 'CONCURRENCY' | 'APPROVAL' | 'MANUAL' | 'SCHEDULED' | 'RESOURCE' | 'CALLBACK' | 'INPUT' | 'OTHER';

export const RUNNER_STATES = ['IDLE', 'BUSY', 'OFFLINE', 'STALE', 'NEVER_CONTACTED', 'UNKNOWN'] as const;
export type RunnerState = (typeof RUNNER_STATES)[number];

/**
 * A provider's registry key (`github`, `gitlab`, ...): the `provider` of config entries,
 * of every AdapterFactory and of NativeStatus. An open set: whatever src/adapters.ts (or a
 * test) registers. Each adapter uses its own literal; the registry checks that they agree.
 */
export type ProviderKind = string;

/** What a registry key looks like: lower case, digits and inner dashes. */
export const PROVIDER_KIND = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

export type EntityType = 'Backend' | 'Project' | 'Pipeline' | 'Job' | 'Runner';

/** A unified status plus the reason when WAITING. */
export interface StatusMapping {
  readonly status: CiStatus;
  readonly waitReason: WaitReason | null;
}

/** The provider's own values, kept so no information is lost. */
export interface NativeStatus {
  readonly provider: ProviderKind;
  readonly status: string | null;
  readonly conclusion: string | null;
  readonly failureReason: string | null;
}

/**
 * Orders observations of one entity so an older event never overwrites a newer
 * one. Compared lexicographically, e.g. [attempt, lifecyclePhase, updatedAtMs].
 */
export type Revision = readonly number[];

interface EntityBase {
  /** Backend instance name from the config. */
  readonly backend: string;
  /** The adapter's own id; opaque to the core, parsed only by its adapter. */
  readonly nativeId: string;
  readonly revision: Revision;
}

export interface ProjectModel extends EntityBase {
  readonly type: 'Project';
  readonly name: string;
  readonly fullName: string;
  readonly url: string | null;
  readonly defaultBranch: string | null;
}

export interface ActorModel {
  readonly login: string;
  readonly url: string | null;
  readonly avatarUrl: string | null;
}

export interface PipelineModel extends EntityBase {
  readonly type: 'Pipeline';
  readonly projectNativeId: string;
  readonly number: number | null;
  readonly name: string | null;
  /** What the provider shows as the run's title (GitHub display_title, which run-name may build from inputs); absent or null where it has none. */
  readonly title?: string | null;
  readonly status: CiStatus;
  readonly waitReason: WaitReason | null;
  readonly native: NativeStatus;
  readonly attempt: number;
  readonly url: string | null;
  readonly branch: string | null;
  readonly ref: string | null;
  readonly commitSha: string | null;
  readonly event: string | null;
  readonly actor: ActorModel | null;
  /** ISO-8601 timestamps. */
  readonly createdAt: string;
  readonly queuedAt: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly updatedAt: string | null;
  /**
   * Set on a stand-in that has become another pipeline (a Jenkins queue item
   * once its build started): that pipeline's native id. A stand-in is watched
   * and fetched by id only; lists and unfiltered subscriptions show the
   * pipeline it became, so nothing appears twice.
   */
  readonly aliasOf?: string;
  /** Why `jobs` is empty when the backend can tell (a Jenkins Pipeline before its first stage); null or absent otherwise. */
  readonly jobsNote?: string | null;
}

export interface StepModel {
  readonly number: number;
  readonly name: string;
  readonly status: CiStatus;
  readonly native: NativeStatus;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

export interface JobModel extends EntityBase {
  readonly type: 'Job';
  readonly projectNativeId: string;
  readonly pipelineNativeId: string;
  readonly name: string;
  readonly status: CiStatus;
  readonly waitReason: WaitReason | null;
  readonly native: NativeStatus;
  readonly attempt: number;
  readonly url: string | null;
  readonly labels: readonly string[];
  /** Native id of the runner, when the backend says which one runs it. */
  readonly runnerNativeId: string | null;
  readonly runnerName: string | null;
  readonly branch: string | null;
  readonly createdAt: string | null;
  readonly queuedAt: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly steps: readonly StepModel[];
}

export type RunnerScope = 'REPOSITORY' | 'ORGANIZATION' | 'INSTANCE' | 'GROUP' | 'PROJECT';

export interface RunnerModel extends EntityBase {
  readonly type: 'Runner';
  readonly name: string;
  readonly state: RunnerState;
  readonly paused: boolean;
  readonly labels: readonly string[];
  readonly os: string | null;
  readonly scope: RunnerScope;
  readonly ephemeral: boolean | null;
  readonly version: string | null;
  /** Native id of the job it runs, when BUSY and known. */
  readonly currentJobNativeId: string | null;
  readonly native: NativeStatus;
  /**
   * Provisioned by the CI provider for one job and discarded after it (GitHub-hosted).
   * Absent means self-hosted or not known to be provider-hosted.
   */
  readonly hosted?: boolean;
}

export type EntityModel = ProjectModel | PipelineModel | JobModel | RunnerModel;
export type EntityByType = {
  Project: ProjectModel;
  Pipeline: PipelineModel;
  Job: JobModel;
  Runner: RunnerModel;
};

/** Compare two revisions lexicographically: <0 older, 0 same, >0 newer. */
export function compareRevisions(a: Revision, b: Revision): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function isTerminal(status: CiStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}
