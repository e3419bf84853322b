/**
 * The testing kit each adapter exports from adapters/<provider>/testing.ts
 * (default export), so test/contract/ runs one suite over every registered
 * adapter (the graphql-ws habit: one suite, every binding). Type-only: the
 * core never loads a kit; tests do.
 *
 * A kit states what it cannot do instead of leaving it out: a capability it
 * lacks is `{ unsupported: 'why' }`, and the suite asserts that declaration
 * rather than skipping silently.
 */
import type { LogAvailabilityKind, WebhookRequest } from './adapter-contract.ts';
import type { EntityModel, StatusMapping } from './model.ts';

/** A capability the kit declares it does not have, and why. */
export interface Unsupported {
  readonly unsupported: string;
}

/** One recorded native sample and the exact unified status it must map to. */
export interface StatusSample {
  /** Which native table the sample pins (e.g. 'job status', 'job failure_reason'). */
  readonly table: string;
  /** The native value of that table the sample pins. */
  readonly value: string;
  /** Builds the unified entity from the recorded sample through the adapter's real normalizer. */
  readonly normalize: (backend: string) => EntityModel;
  /** Exactly this status and wait reason: never "one of". */
  readonly expected: StatusMapping;
}

export interface StatusKit {
  /** Every documented native value per table; the suite requires a pinned sample for each. */
  readonly tables: Readonly<Record<string, readonly string[]>>;
  readonly samples: readonly StatusSample[];
}

/**
 * Successive observations of one entity, in the order they happened upstream.
 * The suite shuffles them, gives them generated timestamps, and checks that
 * whatever the arrival order only the last one survives.
 */
export interface Lifecycle {
  readonly label: string;
  /** Native states in upstream order (for messages). */
  readonly steps: readonly string[];
  /**
   * How timestamps relate to the order: 'any' when the revision must order
   * the steps whatever their times (phase-led revisions); 'ascending' when
   * upstream time leads and equal times must still order (phase breaks ties);
   * 'increasing' when only time can tell the steps apart (at least 1 s apart).
   */
  readonly times: 'any' | 'ascending' | 'increasing';
  /** Observation of step `index` carrying upstream time `atMs`. */
  readonly observe: (backend: string, index: number, atMs: number) => EntityModel;
}

export interface WebhookKit {
  /** backends[] keys that turn verification on (e.g. `{ webhookSecret: { value } }`). */
  readonly config: Record<string, unknown>;
  /** A delivery signed as the provider signs it, at upstream time `atMs`, with `secret` when given (a forger's). */
  readonly sign: (body: Buffer, deliveryId: string, atMs: number, secret?: string) => WebhookRequest;
  /** A body the provider would send (any event). */
  readonly body: Buffer;
  /** Whether the credential covers the body (a signature), so a changed byte is refused. */
  readonly bodyIntegrity: true | Unsupported;
  /** How old a signed delivery may be, when signatures carry a time. */
  readonly replayWindowMs: number | Unsupported;
}

/** An upstream for integration cases: the adapter's simulator, or a fake server where it has none. */
export interface ContractUpstream {
  /** The backends[] entry (without `name` and `provider`). */
  readonly backend: Record<string, unknown>;
  /** Where this backend's webhooks go, once the gateway listens (no-op for a poll-only upstream). */
  connect(webhookUrl: string): void;
  /**
   * Runs one job on a listed runner from start to end. `sync` makes the gateway
   * read the upstream (a poll); a kit calls it after each upstream change
   * webhooks do not report. Afterwards the gateway has published Pipeline,
   * Job (one naming its runner) and Runner events (the runner BUSY with the job, then not).
   */
  runJobOnRunner(sync: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

/** Which of the backend's credentials one request to the simulator carried (never the secret itself). */
export interface CredentialRecord {
  readonly method: string;
  /** Path and query as the simulator received them. */
  readonly path: string;
  /** `other`: a credential the simulator does not know; `none`: no credential at all. */
  readonly credential: 'read' | 'write' | 'other' | 'none';
}

/**
 * A simulator world for the actions contract (ADAPTERS.md §13), configured to accept the
 * read credentials for reads and the write credentials for writes.
 */
export interface ActionWorld {
  /** The backends[] entry (without `name` and `provider`) with the read credentials only. */
  readonly backend: Record<string, unknown>;
  /** backends[] keys that add the write credentials (e.g. `{ writeToken: { value } }`). */
  readonly writeCredentials: Record<string, unknown>;
  /** Native id of a pipeline that runs (with at least one job) and finishes only on later steps. */
  readonly runningPipeline: string;
  /** Native id of a finished pipeline (with at least one job). */
  readonly finishedPipeline: string;
  /** A well-formed native id of a pipeline inside the backend's scope that does not exist upstream. */
  readonly unknownPipeline: string;
  /** One transition of the simulator's world (no wall-clock wait); false when nothing can move. */
  step(): Promise<boolean>;
  /** Every request that reached the simulator since the world started, refused ones included, in arrival order. */
  credentialLog(): readonly CredentialRecord[];
  stop(): Promise<void>;
}

export interface ActionsKit {
  readonly startWorld: () => Promise<ActionWorld>;
  /** Whether cancelPipeline of a finished pipeline is refused `ALREADY_FINISHED`, or why the provider cannot tell. */
  readonly refusesCancelOfFinished: true | Unsupported;
}

/**
 * A simulator world for the logs contract (ADAPTERS.md §14): jobs whose log the test writes
 * exactly, as a runner would upload it.
 */
export interface LogWorld {
  /** The backends[] entry (without `name` and `provider`) pointing at the simulator. */
  readonly backend: Record<string, unknown>;
  /** Starts a job that runs (with an empty log) until `finish`; its native id. */
  startJob(): Promise<string>;
  /** Appends text to a running job's log. */
  append(jobNativeId: string, text: string): Promise<void>;
  /** Ends the job successfully: its log is complete and the job finished upstream. */
  finish(jobNativeId: string): Promise<void>;
  /** How many requests for this job's log reached the simulator (a followed redirect counts its API request only). */
  logRequests(jobNativeId: string): number;
  /** A well-formed native id of a job inside the backend's scope that does not exist upstream. */
  readonly unknownJob: string;
  stop(): Promise<void>;
}

export interface LogsKit {
  /** What `availability` says of a running job: LIVE where the upstream serves a growing log. */
  readonly whileRunning: Exclude<LogAvailabilityKind, 'NONE'>;
  readonly startWorld: () => Promise<LogWorld>;
}

export interface AdapterTestingKit {
  /** The registry key the kit belongs to. */
  readonly provider: string;
  readonly statuses: StatusKit;
  readonly lifecycles: readonly Lifecycle[];
  /**
   * A config and context to create the adapter with for unit cases; its URL is
   * never contacted by them.
   */
  readonly offlineConfig: Record<string, unknown>;
  readonly webhook: WebhookKit | Unsupported;
  /** Known ids of a started upstream, for the DataLoader batch contract. */
  readonly startUpstream: () => Promise<ContractUpstream>;
  /** Native ids a batch function must answer `null` for without failing (malformed or out of scope). */
  readonly unknownIds: Readonly<Record<'pipelines' | 'jobs' | 'projects', readonly string[]>>;
  /** The actions contract (`BackendActions`), or why the provider offers no actions. */
  readonly actions: ActionsKit | Unsupported;
  /** The logs contract (`BackendLogs`), or why the provider serves no logs. */
  readonly logs: LogsKit | Unsupported;
}
