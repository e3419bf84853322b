/**
 * The contract every adapter implements. ADAPTERS.md is its normative prose:
 * DO NOT CHANGE THIS INTERFACE WITHOUT UPDATING ADAPTERS.md.
 *
 * Adapters may import only from src/model.ts, src/errors.ts, src/ids.ts, src/adapter-contract.ts
 * and src/adapter-kit/. The core reaches an adapter only through its index.ts.
 */
import { z } from 'zod';
import type { Logger } from 'pino';
import type {
  EntityModel, JobModel, PipelineModel, ProjectModel, ProviderKind, RunnerModel, CiStatus,
} from './model.ts';

/** What a backend can do; exposed as Backend.capabilities. */
export interface Capabilities {
  readonly webhooks: boolean;
  readonly polling: boolean;
  readonly runners: boolean;
  readonly steps: boolean;
  /**
   * Derive runner busy/idle from job events that name a runner (default true).
   * False where runner listings are authoritative and one runner runs several
   * jobs at once (Jenkins executors), so a finished stage does not free an agent.
   */
  readonly runnerStateFromJobs?: boolean;
  /**
   * One runner may run several jobs at once (GitLab `concurrent`), and its
   * listing says busy without naming the jobs. Then a job that ends never
   * frees a runner busy with work no known job explains; its listing does.
   */
  readonly runnersRunSeveralJobs?: boolean;
}

/**
 * What the core's health keeps for a backend. Adapters report only the
 * rate-limit window their upstream announces; success and failure are counted
 * by the core's policy once per operation (src/resilience/backend-policy.ts),
 * not by a client per request or attempt.
 */
export interface HealthReporter {
  success(): void;
  failure(error: unknown): void;
  rateLimit(remaining: number | null, resetAt: Date | null): void;
}

/** The part of health an adapter reports: the upstream's rate-limit window. */
export type RateLimitReporter = Pick<HealthReporter, 'rateLimit'>;

/** Services the core injects; adapters own no globals and read no env. */
export interface AdapterContext {
  /** Backend instance name (config `backends[].name`). */
  readonly name: string;
  readonly log: Logger;
  /** Report the rate-limit window only (RateLimitReporter); the core's policy counts success and failure. */
  readonly health: HealthReporter;
  /** Injected clock, so tests and simulators can control time. */
  readonly now: () => Date;
  /** Resolves a secret reference (`{ env: NAME }`) to its value. */
  readonly secret: (ref: SecretRef | undefined) => string | undefined;
}

export type SecretRef = { readonly env: string } | { readonly value: string };

/**
 * A secret is referenced, never written inline in production configs:
 * `{ env: GITHUB_TOKEN }` reads the environment at start-up; `{ value: ... }`
 * exists for demo mode and tests. Adapters use this in their config schemas.
 */
export const secretRefSchema: z.ZodType<SecretRef> = z.union([
  z.object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name') }).strict(),
  z.object({ value: z.string().min(1) }).strict(),
]);

/**
 * DataLoader batch functions. Same length and order as the keys; a missing
 * entity is `null` and a failure for one key is an `Error` in its slot, never
 * a throw for the whole batch (see dataloader's batch-function contract).
 *
 * Every read (these, the lists, `poll`, `confirm`) receives an AbortSignal
 * from the core's policy (src/resilience): pass it to every request the read
 * sends (fetch `signal`, Octokit `request.signal`) and to every queue it
 * waits in, so a deadline or shutdown cancels the upstream work. The core
 * always passes one; it is optional only for direct calls in tests.
 */
export interface BatchFunctions {
  projects(nativeIds: readonly string[], signal?: AbortSignal): Promise<ReadonlyArray<ProjectModel | null | Error>>;
  pipelines(nativeIds: readonly string[], signal?: AbortSignal): Promise<ReadonlyArray<PipelineModel | null | Error>>;
  jobs(nativeIds: readonly string[], signal?: AbortSignal): Promise<ReadonlyArray<JobModel | null | Error>>;
  /** All jobs of each pipeline (latest attempt). */
  jobsOfPipelines(pipelineNativeIds: readonly string[], signal?: AbortSignal): Promise<ReadonlyArray<readonly JobModel[] | Error>>;
  /**
   * All jobs of each pipeline with every earlier attempt the pipeline holds, each with its
   * `attempt`, for the history (the backfill): flaky jobs are a failure and a pass of one job
   * on one commit. For adapters whose retries live inside the pipeline (GitLab: a retried job
   * is a new job id under the same name); absent, the backfill reads `jobsOfPipelines`.
   */
  jobAttemptsOfPipelines?(pipelineNativeIds: readonly string[], signal?: AbortSignal): Promise<ReadonlyArray<readonly JobModel[] | Error>>;
  runners(nativeIds: readonly string[], signal?: AbortSignal): Promise<ReadonlyArray<RunnerModel | null | Error>>;
  /**
   * The inputs each pipeline was started with (GitLab pipeline variables, Jenkins build parameters);
   * null for a pipeline the upstream tells nothing of. Absent where the API never exposes them
   * (GitHub): `Pipeline.inputs` is then null.
   */
  pipelineInputs?(pipelineNativeIds: readonly string[], signal?: AbortSignal): Promise<ReadonlyArray<readonly PipelineInputModel[] | null | Error>>;
}

export interface PipelineQuery {
  /** Restrict to these projects (native ids); all configured projects when absent. */
  readonly projectNativeIds?: readonly string[];
  readonly branch?: string;
  readonly status?: readonly CiStatus[];
  readonly createdAfter?: Date;
  readonly createdBefore?: Date;
  /** How many newest pipelines to return at most. */
  readonly limit: number;
}

/** A raw webhook delivery as received by the gateway. */
export interface WebhookRequest {
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly rawBody: Buffer;
  /**
   * Query parameters of the webhook URL, for providers that can only
   * authenticate with a URL token (Jenkins Notification plugin). Never logged.
   */
  readonly query?: Readonly<Record<string, string>>;
}

export type VerifyResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: string };

export interface WebhookHandler {
  /** Authenticates the delivery over the exact raw bytes (timing-safe). */
  verify(request: WebhookRequest): VerifyResult;
  /** Stable id of the delivery, for deduplication across retries. */
  deliveryId(request: WebhookRequest): string | undefined;
  /**
   * Pure: turns a verified, parsed payload into entity snapshots.
   * Unknown or unused events return [] (and are answered 2xx, never 5xx).
   */
  normalize(request: WebhookRequest, payload: unknown): readonly EntityModel[];
  /**
   * For pushes that are only hints (unsigned Jenkins Notification plugin posts):
   * called after the delivery was answered 202; fetches the authoritative state
   * upstream and returns it. Only what it returns is published; what `normalize`
   * returned is ignored when `confirm` exists.
   */
  confirm?(request: WebhookRequest, payload: unknown, signal?: AbortSignal): Promise<readonly EntityModel[]>;
}

export interface PollResult {
  /** Current snapshots; the core keeps only those newer than what it has. */
  readonly entities: readonly EntityModel[];
  /**
   * When to poll next, overriding the normal interval: later until a rate-limit
   * reset, or sooner while builds run (adaptive polling).
   */
  readonly nextPollAfterMs?: number;
}

/**
 * Actions (issue 15): what a caller with an `actions` grant may ask a backend to do.
 * The names are the permission model's (`scopes[].actions`): every mutation needs one.
 */
export type ActionPermission = 'cancel' | 'retry' | 'trigger' | 'approve';

/** A value of a trigger input or an approval parameter, as typed by the caller. */
export type ActionInputValue = string | number | boolean;

/**
 * One action, already authorized and checked by the core (ids decoded and owned by this
 * backend, inputs validated against `declaredInputs` where the adapter offers them).
 */
export type ActionRequest =
  | { readonly kind: 'cancelPipeline'; readonly pipelineNativeId: string; readonly force: boolean }
  | { readonly kind: 'cancelJob'; readonly jobNativeId: string; readonly force: boolean }
  | { readonly kind: 'retryPipeline'; readonly pipelineNativeId: string; readonly failedOnly: boolean }
  | { readonly kind: 'retryJob'; readonly jobNativeId: string }
  | {
    readonly kind: 'triggerPipeline';
    readonly projectNativeId: string;
    readonly ref: string;
    /** Which workflow or pipeline definition, where a project has several (GitHub: the workflow file name or id). */
    readonly workflow: string | null;
    readonly inputs: Readonly<Record<string, ActionInputValue>>;
  }
  | {
    readonly kind: 'approve' | 'reject';
    /** The waiting work: a pipeline (GitHub run with pending deployments, Jenkins build at an `input` step) or a job (GitLab manual job). */
    readonly target: { readonly type: 'Pipeline' | 'Job'; readonly nativeId: string };
    readonly comment: string | null;
    /** Parameters of the approval (GitLab job variables, Jenkins input parameters). */
    readonly inputs: Readonly<Record<string, ActionInputValue>>;
  };

export type ActionKind = ActionRequest['kind'];

/** One upstream request an action sends (or, planned for a dry run, would send). Paths carry no credentials. */
export interface ActionCall {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  /** Path and query below the backend's `url`. */
  readonly path: string;
  /** The status it answered; absent in a plan. */
  readonly status?: number;
}

export interface ActionOutcome {
  /** Every request sent, in order, with its status (reads the action needed included). */
  readonly calls: readonly ActionCall[];
  /**
   * The pipeline whose change the core follows until it shows: the target's pipeline, or for a trigger
   * or a re-run that makes a new pipeline, the new one when the upstream names it; null when it does not
   * (the core then looks for a pipeline of the project on the ref created after the action).
   */
  readonly pipelineNativeId: string | null;
  /** The job acted on, when the action targets one (retryJob may name the new job). */
  readonly jobNativeId?: string | null;
  /** Fresh snapshots read after the action, when the adapter read them anyway; the core ingests them. */
  readonly entities?: readonly EntityModel[];
}

/** A declared input of a workflow / pipeline / job, for validating a trigger before any write. */
export interface ActionInputDeclaration {
  readonly name: string;
  readonly type: 'string' | 'boolean' | 'number' | 'choice' | 'environment';
  readonly required: boolean;
  /** Allowed values of a `choice`. */
  readonly options?: readonly string[];
  readonly defaultValue?: ActionInputValue | null;
  readonly description?: string | null;
}

/**
 * Present on a `BackendAdapter` only when the backend is configured with write credentials
 * (`writeToken`): a read-only deployment holds no write power, and actions never use the read
 * credentials. Every upstream refusal is an `ActionRefusedError` (src/errors.ts) naming the
 * backend and the reason; transport failures are `UpstreamError` as for reads.
 */
export interface BackendActions {
  /** Which actions this provider can do at all (ADAPTERS.md §Actions has the table). */
  readonly supported: Readonly<Record<ActionKind, boolean>>;
  /** Pure: the calls `perform` would send, for `dryRun` (no upstream request). */
  plan(request: ActionRequest): readonly ActionCall[];
  perform(request: ActionRequest, signal: AbortSignal): Promise<ActionOutcome>;
  /**
   * The inputs the definition behind a trigger declares, where the API exposes them; null when it
   * does not (then inputs are passed through unchecked). Reads with the read credentials.
   */
  declaredInputs?(project: { readonly projectNativeId: string; readonly ref: string; readonly workflow: string | null }, signal: AbortSignal): Promise<readonly ActionInputDeclaration[] | null>;
}

/**
 * Live logs (issue 17, ADAPTERS.md §Logs): how a provider serves one job's log. The core owns
 * tails, watchers, rings, redaction and budgets; the adapter only says what the upstream offers
 * and reads bytes from an offset.
 */
export type LogAvailabilityKind = 'LIVE' | 'AFTER_COMPLETION' | 'NONE';

export interface LogAvailability {
  readonly kind: LogAvailabilityKind;
  /** One sentence a user reads: why live, why only after completion, why none. */
  readonly reason: string;
}

export interface LogRead {
  /**
   * The log's raw bytes from the requested offset on (empty when nothing new): ANSI codes and
   * section markers kept, never decoded or cut at a character boundary by the adapter.
   */
  readonly bytes: Uint8Array;
  /**
   * True only when the upstream says no more will be appended (Jenkins: no `X-More-Data: true`;
   * GitHub: always, it serves only finished logs). False when it cannot tell (GitLab's trace):
   * the core then ends the tail from the job's status, after one last read.
   */
  readonly complete: boolean;
  /**
   * Where the next read starts, when that is not `offset + bytes.length`: Jenkins' `X-Text-Size`
   * counts the console file, whose hidden annotations the body leaves out (and whose LF it sends
   * as CRLF). The core then keeps each read whole (it holds whole lines) and resumes only at read
   * boundaries. Absent: `offset + bytes.length`.
   */
  readonly nextOffset?: number;
}

export interface BackendLogs {
  /** Pure: whether `job`'s log can be read now, live or only once it completes, or not at all. */
  availability(job: JobModel): LogAvailability;
  /**
   * The log of a job this backend owns from byte `offset` (0: the start). An offset at or past
   * the current end gives empty bytes. Null when the upstream has no log for the job (not
   * started, erased, expired). Upstream failures are `UpstreamError`s naming the backend; the
   * signal (the core's deadline) goes to every request, a followed redirect included.
   */
  read(jobNativeId: string, offset: number, signal: AbortSignal): Promise<LogRead | null>;
  /**
   * The shortest sensible interval between two reads of one running job's log, in ms (GitLab:
   * the runner uploads the trace about every 3 s, so reading faster only costs requests).
   */
  readonly minPollIntervalMs: number;
  /**
   * The upstream log a job's log is read from, when several jobs share one (Jenkins: every stage
   * of a build is in the build's console log); the core keeps one tail per source. Absent: each
   * job is its own source.
   */
  logSource?(jobNativeId: string): string;
}

/** An input a pipeline was started with (GitLab variables, Jenkins parameters). */
export interface PipelineInputModel {
  readonly name: string;
  readonly value: string;
}

export interface BackendAdapter {
  readonly name: string;
  readonly provider: ProviderKind;
  /** Base URL of the upstream API. */
  readonly url: string;
  readonly capabilities: Capabilities;
  readonly batch: BatchFunctions;
  listProjects(signal?: AbortSignal): Promise<readonly ProjectModel[]>;
  /** Newest first (by createdAt), at most `limit`. */
  listPipelines(query: PipelineQuery, signal?: AbortSignal): Promise<readonly PipelineModel[]>;
  listRunners(signal?: AbortSignal): Promise<readonly RunnerModel[]>;
  /**
   * Whether an entity lies inside this backend's configured set (repositories,
   * organizations, groups, job roots), decided without an upstream call. Batch
   * functions and lists already refuse ids outside the set (null, no request);
   * the core also drops any entity this returns false for (defence in depth).
   */
  owns(entity: EntityModel): boolean;
  /**
   * The runner of `job` when only the job describes it (GitHub-hosted: a fresh
   * VM per job that no listing holds), built purely from the job; null for
   * runners that listings describe. The core serves `Job.runner` from it
   * without a runner lookup and derives no busy/idle for it (ADAPTERS.md §10).
   * Its `nativeId` is the job's `runnerNativeId`, and `batch.runners` loads it.
   */
  runnerFromJob?(job: JobModel): RunnerModel | null;
  /** Present when webhooks are configured for this backend. */
  readonly webhook?: WebhookHandler;
  /** Present when the provider serves job logs (`BackendLogs`); absent: every `Job.logAvailability` is NONE. */
  readonly logs?: BackendLogs;
  /** Present when write credentials are configured (see `BackendActions`). */
  readonly actions?: BackendActions;
  /**
   * One poll cycle; the core owns timers, backoff and jitter. Stateless apart
   * from what the adapter keeps to make polls cheap (ETags).
   */
  poll?(signal?: AbortSignal): Promise<PollResult>;
  /** Normal interval between polls, in ms; the core adds jitter and backoff. */
  readonly pollIntervalMs?: number;
  dispose(): Promise<void>;
}

/**
 * A simulated backend for demo mode: a real server on loopback speaking the
 * provider's API, sending signed webhooks once told where.
 */
export interface DemoBackend {
  /** The `backends[]` entry (without name and provider) pointing at the simulator. */
  readonly options: Record<string, unknown>;
  /** Starts the steady flow of activity, delivering webhooks to `webhookUrl`. */
  start(webhookUrl: string): void;
  stop(): Promise<void>;
}

/** What adapters/<provider>/index.ts exports by default. */
export interface AdapterFactory<Config = unknown> {
  /** The registry key (`ProviderKind`), the same literal as the adapter's `provider` and `native.provider`. */
  readonly provider: ProviderKind;
  /**
   * Shapes of this provider's credentials (global regexes, e.g. GitHub `ghp_...`): redacted
   * from logs, audit records and upstream error text once the provider is registered.
   */
  readonly secretPatterns?: readonly RegExp[];
  /**
   * How long the provider waits for a webhook answer before it counts the attempt as
   * failed (GitHub.com, GitLab.com: 10 s). The core holds a delivery's claim this long,
   * so a retry after an attempt that died is processed, not lost. Default 10 s.
   */
  readonly webhookTimeoutMs?: number;
  /** zod schema of one `backends[]` entry (beyond `name` and `provider`). */
  readonly configSchema: z.ZodType<Config, z.ZodTypeDef, unknown>;
  create(config: Config, context: AdapterContext): BackendAdapter;
  /** Starts this provider's simulator for demo mode (`npm start` with no config). */
  createDemo?(settings: { readonly seed?: number }): Promise<DemoBackend>;
}
