import type { CiStatus, RunnerState, StatusMapping, WaitReason } from '../../src/model.ts';

/**
 * Buildkite state → unified CiStatus (+ waitReason), per
 * /work/shared/reference/buildkite.md §2. Every table is
 * `satisfies Record<Union, ...>`, so a value added to a union without a row is
 * a compile error; values Buildkite adds later map to UNKNOWN at run time, and
 * normalizers keep the raw strings in `native`.
 *
 * Decisions (J = the reference's judgement calls, taken as proposed unless noted):
 * - Build `failing` → RUNNING (J): a job hard-failed but others still run and a
 *   retry can still make the build pass; `native.status` keeps `failing`.
 * - A blocked build is read from the `blocked` flag, not the state: REST and
 *   webhooks say `passed` + `blocked: true` (notify/EventBridge say `blocked`)
 *   → WAITING/APPROVAL (J). The flag overrides only `passed`/`blocked`: a build
 *   that failed before its block step stays FAILURE.
 * - Build `waiting` → PENDING, `waiting_failed` → FAILURE (J; REST model only).
 * - Job `failed`: `soft_failed: true` → UNSTABLE (the build passes); else
 *   `exit_status == -1` (Buildkite lost contact with the agent) or an infra
 *   `signal_reason` → ERROR (J: not the code's fault); else FAILURE.
 *   DIFFERENT from the reference: `signal_reason: cancel` on a failed job →
 *   CANCELED (someone cancelled it while it ran; the reference lists `cancel`
 *   among the signal reasons without a mapping, and FAILURE would blame the code).
 * - Job `accepted` → QUEUED (J), `timing_out` → CANCELING (J), `expired` → ERROR
 *   (J), `broken` → SKIPPED (J), `platform_limit*` → WAITING/RESOURCE (J),
 *   `limiting`/`limited` → WAITING/CONCURRENCY, block step `blocked` →
 *   WAITING/APPROVAL (J), `unblocked`/`unblocked_failed` → SUCCESS (J),
 *   `waiting_failed`/`blocked_failed` → SKIPPED (J).
 * - GraphQL's `finished` → by `passed` / `exit_status` (0 SUCCESS, else as failed).
 */
export const BUILD_STATES = [
  'creating', 'scheduled', 'running', 'passed', 'failing', 'failed', 'blocked',
  'canceling', 'canceled', 'skipped', 'not_run', 'waiting', 'waiting_failed',
] as const;
export type BuildState = (typeof BUILD_STATES)[number];

export const JOB_STATES = [
  'pending', 'waiting', 'waiting_failed', 'blocked', 'blocked_failed', 'unblocked', 'unblocked_failed',
  'limiting', 'limited', 'scheduled', 'reserved', 'assigned', 'accepted', 'running', 'finished',
  'passed', 'failed', 'canceling', 'canceled', 'expired', 'timing_out', 'timed_out', 'skipped', 'broken',
  'platform_limiting', 'platform_limited',
] as const;
export type JobState = (typeof JOB_STATES)[number];

/** `signal_reason` values: non-null means the agent ended the job. */
export const SIGNAL_REASONS = [
  'agent_stop', 'cancel', 'process_run_error', 'agent_refused', 'signature_rejected', 'stack_error', 'agent_incompatible',
] as const;
export type SignalReason = (typeof SIGNAL_REASONS)[number];

export const AGENT_CONNECTION_STATES = ['never_connected', 'connected', 'disconnected', 'stopping', 'stopped', 'lost'] as const;
export type AgentConnectionState = (typeof AGENT_CONNECTION_STATES)[number];

const s = (status: Exclude<CiStatus, 'WAITING'>): StatusMapping => ({ status, waitReason: null });
const wait = (waitReason: WaitReason): StatusMapping => ({ status: 'WAITING', waitReason });
export const UNKNOWN_MAPPING = s('UNKNOWN');

const BUILD = {
  creating: s('PENDING'),
  scheduled: s('QUEUED'),
  running: s('RUNNING'),
  passed: s('SUCCESS'),
  failing: s('RUNNING'),
  failed: s('FAILURE'),
  blocked: wait('APPROVAL'),
  canceling: s('CANCELING'),
  canceled: s('CANCELED'),
  skipped: s('SKIPPED'),
  not_run: s('SKIPPED'),
  waiting: s('PENDING'),
  waiting_failed: s('FAILURE'),
} as const satisfies Record<BuildState, StatusMapping>;

/** `failed` and `finished` are refined by soft_failed / exit_status / signal_reason (mapJobStatus). */
const JOB = {
  pending: s('PENDING'),
  waiting: s('PENDING'),
  waiting_failed: s('SKIPPED'),
  blocked: wait('APPROVAL'),
  blocked_failed: s('SKIPPED'),
  unblocked: s('SUCCESS'),
  unblocked_failed: s('SUCCESS'),
  limiting: wait('CONCURRENCY'),
  limited: wait('CONCURRENCY'),
  scheduled: s('QUEUED'),
  reserved: s('QUEUED'),
  assigned: s('QUEUED'),
  accepted: s('QUEUED'),
  running: s('RUNNING'),
  finished: s('SUCCESS'),
  passed: s('SUCCESS'),
  failed: s('FAILURE'),
  canceling: s('CANCELING'),
  canceled: s('CANCELED'),
  expired: s('ERROR'),
  timing_out: s('CANCELING'),
  timed_out: s('TIMED_OUT'),
  skipped: s('SKIPPED'),
  broken: s('SKIPPED'),
  platform_limiting: wait('RESOURCE'),
  platform_limited: wait('RESOURCE'),
} as const satisfies Record<JobState, StatusMapping>;

type FailureOutcome = 'ERROR' | 'CANCELED';

/** A failed job the agent ended: the platform (ERROR), or a cancel while it ran. */
const SIGNAL_REASON = {
  agent_stop: 'ERROR',
  cancel: 'CANCELED',
  process_run_error: 'ERROR',
  agent_refused: 'ERROR',
  signature_rejected: 'ERROR',
  stack_error: 'ERROR',
  agent_incompatible: 'ERROR',
} as const satisfies Record<SignalReason, FailureOutcome>;

const AGENT = {
  never_connected: 'NEVER_CONTACTED',
  connected: 'IDLE',
  disconnected: 'OFFLINE',
  stopping: 'IDLE',
  stopped: 'OFFLINE',
  lost: 'OFFLINE',
} as const satisfies Record<AgentConnectionState, RunnerState>;

function lookup<K extends string, V>(table: Readonly<Record<K, V>>, key: unknown): V | undefined {
  return typeof key === 'string' && Object.hasOwn(table, key) ? table[key as K] : undefined;
}

/** Total: any state (including non-strings) gives a valid mapping; unknown → UNKNOWN. */
export function mapBuildStatus(state: unknown, blocked: unknown): StatusMapping {
  if (blocked === true && (state === 'passed' || state === 'blocked')) return BUILD.blocked;
  return lookup(BUILD, state) ?? UNKNOWN_MAPPING;
}

export interface JobStateFields {
  readonly state: unknown;
  readonly softFailed?: unknown;
  readonly exitStatus?: unknown;
  readonly signalReason?: unknown;
  /** GraphQL/EventBridge `passed` for a `finished` job. */
  readonly passed?: unknown;
}

export function mapJobStatus(j: JobStateFields): StatusMapping {
  if (j.state === 'finished') {
    if (j.passed === true || j.exitStatus === 0) return JOB.passed;
    return failedJob(j);
  }
  if (j.state === 'failed') return failedJob(j);
  return lookup(JOB, j.state) ?? UNKNOWN_MAPPING;
}

function failedJob(j: JobStateFields): StatusMapping {
  if (j.softFailed === true) return s('UNSTABLE');
  const bySignal = lookup(SIGNAL_REASON, j.signalReason);
  if (bySignal) return s(bySignal);
  if (j.exitStatus === -1) return s('ERROR');
  return JOB.failed;
}

/** The failure detail worth keeping in `native.failureReason`: the signal reason, or "exit_status -1" (agent lost). */
export function jobFailureReason(j: JobStateFields): string | null {
  if (j.state !== 'failed' && j.state !== 'finished') return null;
  if (typeof j.signalReason === 'string' && j.signalReason.length > 0) return j.signalReason;
  if (j.exitStatus === -1) return 'agent_lost';
  return null;
}

/**
 * Agent → RunnerState: connected/stopping are BUSY with a job, else IDLE
 * (an `assigned` job counts: the agent holds it, J); disconnected, stopped and
 * lost are OFFLINE; never_connected NEVER_CONTACTED. Stopping agents take no
 * new jobs, so they read as paused (J).
 */
export function mapAgentState(connectionState: unknown, hasJob: boolean): RunnerState {
  const base = lookup(AGENT, connectionState);
  if (base === undefined) return 'UNKNOWN';
  return base === 'IDLE' && hasJob ? 'BUSY' : base;
}

export function agentPaused(connectionState: unknown, paused: unknown): boolean {
  return paused === true || connectionState === 'stopping';
}

/**
 * The native build states selecting a unified status on the builds listing
 * (`state[]=`, several allowed); [] when no Buildkite build can have it,
 * undefined when the listing cannot select it (UNKNOWN). Blocked builds read
 * `passed` + `blocked: true`, so SUCCESS and WAITING are still filtered locally.
 */
export const BUILD_FILTER_STATES: Readonly<Record<CiStatus, readonly BuildState[] | undefined>> = {
  PENDING: ['creating', 'waiting'],
  QUEUED: ['scheduled'],
  WAITING: ['blocked'],
  RUNNING: ['running', 'failing'],
  CANCELING: ['canceling'],
  SUCCESS: ['passed'],
  UNSTABLE: [],
  FAILURE: ['failed', 'waiting_failed'],
  TIMED_OUT: [],
  ERROR: [],
  CANCELED: ['canceled'],
  SKIPPED: ['skipped', 'not_run'],
  UNKNOWN: undefined,
};

/** Build states that still change: polls re-read these every cycle. */
export const ACTIVE_BUILD_STATES: readonly BuildState[] = ['creating', 'scheduled', 'running', 'failing', 'canceling'];
