/** The shapes of the simulators' shared past (sim-kit/past-scenario.ts): its options in, its timeline out. */

/**
 * Neutral job outcomes. `failure` is the code's fault (script failed),
 * `timeout` a job that hit its time limit, `infra` an infrastructure error
 * (runner lost / system failure), `skipped` a job an earlier failure skipped.
 */
export type PastOutcome = 'success' | 'failure' | 'timeout' | 'infra' | 'canceled' | 'skipped';

export interface PastRunner {
  /** The provider's runner/agent name. */
  readonly name: string;
  /** Jobs it runs at once (GitLab `concurrent`, Jenkins executors). Default 1. */
  readonly slots?: number;
}

export interface PastPool {
  readonly key: string;
  /** Empty: an elastic (hosted) pool, every job gets a fresh machine at once. */
  readonly runners: readonly PastRunner[];
}

export interface PastJobTemplate {
  readonly name: string;
  /** Jobs of stage k are queued when every job of stage k-1 is done. */
  readonly stage: number;
  readonly pool: string;
  /** Typical run time at the start of the window. */
  readonly minutes: number;
  /** Chance that a run fails for no reason of the code (a flaky test). */
  readonly flakeRate?: number;
  /** Only in this share of pipelines (e.g. an optional matrix leg). Default 1. */
  readonly share?: number;
  /** Only on the default branch (deploys). */
  readonly defaultBranchOnly?: boolean;
}

export interface PastProject {
  readonly name: string;
  /** Pipelines per weekday (weekends see a tenth of it). */
  readonly perDay: number;
  readonly jobs: readonly PastJobTemplate[];
  /** Fractional slow-down per day (0.06: 6 % slower every day). */
  readonly slowdownPerDay?: number;
  /** The whole pipeline holds one runner slot (a Jenkins `node` block). */
  readonly singleNode?: boolean;
  readonly defaultBranch?: string;
  /** Feature branches pipelines run on besides the default branch; none: default branch only. */
  readonly featureBranches?: readonly string[];
  /** One scheduled (nightly) pipeline per day on the default branch. */
  readonly nightly?: boolean;
}

export interface PastOptions {
  readonly seed: number;
  readonly nowMs: number;
  readonly days: number;
  readonly projects: readonly PastProject[];
  readonly pools: readonly PastPool[];
  /** Pool and runner of the infrastructure incident (default: the smallest runner of the first pool with two or more, see sim-kit/past/incident.ts). */
  readonly incident?: { readonly pool: string; readonly runner: string };
  /** Time limit after which a job is stopped as timed out (default 30 min). */
  readonly timeoutMinutes?: number;
}

export interface PastJob {
  readonly name: string;
  readonly stage: number;
  readonly pool: string;
  /** Null for skipped jobs. */
  readonly runner: string | null;
  /** When the job was queued (its stage became ready). */
  readonly queuedAt: number;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly outcome: PastOutcome;
  /** 1 for the first run, 2 for the first re-run/retry, … */
  readonly attempt: number;
}

export interface PastAttempt {
  readonly attempt: number;
  /** When the attempt was requested (the pipeline's creation for attempt 1). */
  readonly createdAt: number;
  /** Attempt 1: every job; later attempts: the jobs that were run again (failed ones and those they skipped). */
  readonly jobs: readonly PastJob[];
}

export interface PastPipeline {
  readonly project: string;
  readonly branch: string;
  readonly defaultBranch: boolean;
  readonly sha: string;
  readonly event: 'push' | 'pull_request' | 'schedule';
  /** Index into the provider's actor list. */
  readonly actor: number;
  /** Index into the provider's commit messages. */
  readonly message: number;
  readonly createdAt: number;
  readonly attempts: readonly PastAttempt[];
}

export interface PastTimeline {
  readonly from: number;
  readonly to: number;
  /** Oldest first. */
  readonly pipelines: readonly PastPipeline[];
  readonly incident: { readonly pool: string; readonly runner: string; readonly from: number; readonly to: number };
  /** Pool with the fewest runner slots per job minute. */
  readonly starvedPool: string | null;
  /** Red periods planned on each project's default branch (from the breaking commit to its fix). */
  readonly redPeriods: readonly { readonly project: string; readonly job: string; readonly from: number; readonly to: number }[];
}
