import type { components } from '@octokit/openapi-types';
import type { CiStatus, RunnerState, StatusMapping, WaitReason } from '../../src/model.ts';

/**
 * GitHub status/conclusion → unified CiStatus (+ waitReason). Every table is
 * `satisfies Record<Union, ...>`, so adding a value to a union without a row is
 * a compile error. Values GitHub may add later map to UNKNOWN at run time, and
 * the raw strings are always kept in `native` by the normalizers.
 *
 * Debatable rows (reference §4.5 notes):
 * - `pending` → WAITING/CONCURRENCY: GitHub uses it for a run/job held by a
 *   concurrency group, which is not capacity (QUEUED) but a hold.
 * - conclusion `action_required` → WAITING/APPROVAL: GitHub reports it as a
 *   *completed* run (e.g. a fork PR awaiting approval), but for a user it is a
 *   run waiting for someone; treating it as terminal would hide it from
 *   "what is waiting" views. Whether the same run resumes is unverified, so
 *   the revision keeps it in the pre-start phase (see normalize.ts).
 * - `neutral` → SUCCESS: it did not fail (Backstage does the same); UIs can
 *   still show "neutral" from native.conclusion.
 * - `startup_failure` and `stale` → ERROR: the workflow never ran properly
 *   (invalid file, GitHub gave up on the suite); not the code's failure.
 * - `completed` with a null/unknown conclusion → UNKNOWN, not SUCCESS.
 */

const s = (status: Exclude<CiStatus, 'WAITING'>): StatusMapping => ({ status, waitReason: null });
const wait = (waitReason: WaitReason): StatusMapping => ({ status: 'WAITING', waitReason });
const UNKNOWN = s('UNKNOWN');

// ---- upstream unions -------------------------------------------------------
// REST `workflow-run.status/conclusion` are plain strings in the OpenAPI
// description, so the run unions are written out from the webhook enums (§1.2).
export const GITHUB_RUN_STATUSES = ['requested', 'queued', 'pending', 'waiting', 'in_progress', 'completed'] as const;
export type GithubRunStatus = (typeof GITHUB_RUN_STATUSES)[number];
export const GITHUB_RUN_CONCLUSIONS = [
  'success', 'failure', 'neutral', 'cancelled', 'skipped', 'timed_out', 'action_required', 'stale', 'startup_failure',
] as const;
export type GithubRunConclusion = (typeof GITHUB_RUN_CONCLUSIONS)[number];

/** From the REST `job` schema. */
export type GithubJobStatus = components['schemas']['job']['status'];
export type GithubJobConclusion = NonNullable<components['schemas']['job']['conclusion']>;
/** REST steps say queued|in_progress|completed; webhooks add pending (and waiting per §1.2). */
export type GithubStepStatus = NonNullable<components['schemas']['job']['steps']>[number]['status'] | 'pending' | 'waiting';
/** Step conclusions are plain strings upstream; the job set covers every value seen. */
export type GithubStepConclusion = GithubJobConclusion;

// ---- tables ----------------------------------------------------------------
const RUN_STATUS = {
  requested: s('PENDING'),
  queued: s('QUEUED'),
  pending: wait('CONCURRENCY'),
  waiting: wait('APPROVAL'),
  in_progress: s('RUNNING'),
  completed: UNKNOWN, // decided by the conclusion
} as const satisfies Record<GithubRunStatus, StatusMapping>;

const RUN_CONCLUSION = {
  success: s('SUCCESS'),
  neutral: s('SUCCESS'),
  failure: s('FAILURE'),
  timed_out: s('TIMED_OUT'),
  cancelled: s('CANCELED'),
  skipped: s('SKIPPED'),
  startup_failure: s('ERROR'),
  stale: s('ERROR'),
  action_required: wait('APPROVAL'),
} as const satisfies Record<GithubRunConclusion, StatusMapping>;

const JOB_STATUS = {
  requested: s('PENDING'),
  queued: s('QUEUED'),
  pending: wait('CONCURRENCY'),
  waiting: wait('APPROVAL'),
  in_progress: s('RUNNING'),
  completed: UNKNOWN,
} as const satisfies Record<GithubJobStatus, StatusMapping>;

const JOB_CONCLUSION = {
  success: s('SUCCESS'),
  neutral: s('SUCCESS'),
  failure: s('FAILURE'),
  timed_out: s('TIMED_OUT'),
  cancelled: s('CANCELED'),
  skipped: s('SKIPPED'),
  action_required: wait('APPROVAL'),
} as const satisfies Record<GithubJobConclusion, StatusMapping>;

/** Steps have no waitReason in the model, but the mapping stays uniform. */
const STEP_STATUS = {
  pending: s('PENDING'),
  queued: s('QUEUED'),
  waiting: wait('APPROVAL'),
  in_progress: s('RUNNING'),
  completed: UNKNOWN,
} as const satisfies Record<GithubStepStatus, StatusMapping>;

const STEP_CONCLUSION = JOB_CONCLUSION satisfies Record<GithubStepConclusion, StatusMapping>;

// ---- mappers ---------------------------------------------------------------
function lookup<K extends string>(table: Readonly<Record<K, StatusMapping>>, key: unknown): StatusMapping | undefined {
  return typeof key === 'string' && Object.hasOwn(table, key) ? table[key as K] : undefined;
}

function mapWith(
  statusTable: Readonly<Record<string, StatusMapping>>,
  conclusionTable: Readonly<Record<string, StatusMapping>>,
  status: unknown,
  conclusion: unknown,
): StatusMapping {
  // `completed` → the conclusion decides. A missing/unknown status with a known
  // conclusion is also treated as finished: the conclusion is only ever set
  // once GitHub has completed the run/job.
  const byStatus = status === 'completed' ? undefined : lookup(statusTable, status);
  if (byStatus) return byStatus;
  return lookup(conclusionTable, conclusion) ?? UNKNOWN;
}

/** Total: any input (including non-strings) gives a valid mapping. */
export function mapRunStatus(status: unknown, conclusion: unknown): StatusMapping {
  return mapWith(RUN_STATUS, RUN_CONCLUSION, status, conclusion);
}

export function mapJobStatus(status: unknown, conclusion: unknown): StatusMapping {
  return mapWith(JOB_STATUS, JOB_CONCLUSION, status, conclusion);
}

export function mapStepStatus(status: unknown, conclusion: unknown): StatusMapping {
  return mapWith(STEP_STATUS, STEP_CONCLUSION, status, conclusion);
}

/**
 * Self-hosted runner: `status` is online|offline, `busy` a boolean. GitHub
 * has no pause and no "stale" state (runners silently disappear after 14 days
 * without contact, ephemeral ones after 1 day).
 */
export function mapRunnerState(status: unknown, busy: unknown): RunnerState {
  if (status === 'offline') return 'OFFLINE';
  if (status === 'online' && busy === true) return 'BUSY';
  if (status === 'online' && busy === false) return 'IDLE';
  return 'UNKNOWN';
}

/**
 * The GitHub `status` filter value(s) that select a unified status on the
 * list-runs endpoint (it accepts statuses and conclusions). Statuses no GitHub
 * run can have map to []; UNKNOWN cannot be expressed (undefined).
 */
export const RUN_FILTER_VALUES: Readonly<Record<CiStatus, readonly string[] | undefined>> = {
  PENDING: ['requested'],
  QUEUED: ['queued'],
  WAITING: ['pending', 'waiting', 'action_required'],
  RUNNING: ['in_progress'],
  CANCELING: [],
  SUCCESS: ['success', 'neutral'],
  UNSTABLE: [],
  FAILURE: ['failure'],
  TIMED_OUT: ['timed_out'],
  ERROR: ['startup_failure', 'stale'],
  CANCELED: ['cancelled'],
  SKIPPED: ['skipped'],
  UNKNOWN: undefined,
};
