import type { CiStatus, RunnerState, StatusMapping, WaitReason } from '../../src/model.ts';

/**
 * Jenkins native values → unified CiStatus (+ waitReason). Every table is
 * `satisfies Record<Union, ...>`, so a value added to a union without a row is
 * a compile error; values Jenkins (or a plugin) adds later map to UNKNOWN at
 * run time, and the raw strings stay in `native`.
 *
 * Sources: core `hudson/model/Result.java` (build results), pipeline-stage-view
 * `StatusExt` (wfapi stage/node status), core `hudson/model/Queue.java` (queue
 * item kinds), reference ci-backends.md §3 and the §7 corrections.
 *
 * Debatable rows:
 * - NOT_BUILT → SKIPPED: Jenkins did not build it (e.g. a downstream job that
 *   was never reached); not a failure.
 * - ABORTED → CANCELED: the `timeout` step also aborts, and cannot be told
 *   apart without cause inspection (§4.5 note d).
 * - wfapi NOT_EXECUTED → SKIPPED: stages not reached yet are absent from
 *   `wfapi/describe`; NOT_EXECUTED is a stage skipped by `when`, after an
 *   earlier failure, or by restart-from-stage (§7).
 * - Queue `WaitingItem` (quiet period) → WAITING/SCHEDULED: the build waits for
 *   a timer, not for capacity.
 * - Queue `BlockedItem` → WAITING/CONCURRENCY when `why` says another build of
 *   the job is in progress (non-concurrent jobs), else WAITING/RESOURCE
 *   (throttling, lockable resources, upstream/downstream blocking).
 * - A lost agent → ERROR (infrastructure), not FAILURE: a stage or step FAILED
 *   with an agent-loss `error.type`, or ABORTED in a build whose
 *   InterruptedBuildAction names a removed node. The list is what Jenkins'
 *   own `retry(conditions: [agent()])` (workflow-durable-task-step
 *   AgentErrorCondition) retries, as far as wfapi shows it: wfapi's ErrorExt
 *   has only the outermost exception's class, so a ClosedChannelException or
 *   EOFException deeper in the cause chain, and a MissingContextVariableException
 *   for FilePath/Computer (also what a `sh` outside `node` throws: the
 *   pipeline's own mistake), stay FAILURE. Freestyle builds have no stage view
 *   and stay FAILURE.
 */
const s = (status: Exclude<CiStatus, 'WAITING'>): StatusMapping => ({ status, waitReason: null });
const wait = (waitReason: WaitReason): StatusMapping => ({ status: 'WAITING', waitReason });
const UNKNOWN = s('UNKNOWN');

export const JENKINS_RESULTS = ['SUCCESS', 'UNSTABLE', 'FAILURE', 'NOT_BUILT', 'ABORTED'] as const;
export type JenkinsResult = (typeof JENKINS_RESULTS)[number];

/** pipeline-stage-view `StatusExt`. SKIPPED is listed for safety: older docs mention it. */
export const WFAPI_STATUSES = [
  'NOT_EXECUTED', 'ABORTED', 'SUCCESS', 'IN_PROGRESS', 'PAUSED_PENDING_INPUT', 'FAILED', 'UNSTABLE', 'SKIPPED',
] as const;
export type WfapiStatus = (typeof WFAPI_STATUSES)[number];

export const QUEUE_ITEM_KINDS = ['WaitingItem', 'BlockedItem', 'BuildableItem'] as const;
export type QueueItemKind = (typeof QUEUE_ITEM_KINDS)[number];

const RESULT = {
  SUCCESS: s('SUCCESS'),
  UNSTABLE: s('UNSTABLE'),
  FAILURE: s('FAILURE'),
  NOT_BUILT: s('SKIPPED'),
  ABORTED: s('CANCELED'),
} as const satisfies Record<JenkinsResult, StatusMapping>;

const WFAPI = {
  SUCCESS: s('SUCCESS'),
  FAILED: s('FAILURE'),
  UNSTABLE: s('UNSTABLE'),
  ABORTED: s('CANCELED'),
  IN_PROGRESS: s('RUNNING'),
  PAUSED_PENDING_INPUT: wait('INPUT'),
  NOT_EXECUTED: s('SKIPPED'),
  SKIPPED: s('SKIPPED'),
} as const satisfies Record<WfapiStatus, StatusMapping>;

/**
 * wfapi `error.type` of a FAILED stage or step whose agent's channel broke:
 * remoting's ChannelClosedException ("Remote call on <agent> failed. The
 * channel is closing down or has closed down") and RequestAbortedException (a
 * call the closing channel aborted), and the JDK's ClosedChannelException and
 * EOFException that AgentErrorCondition looks for.
 */
export const AGENT_LOSS_ERROR_TYPES = [
  'hudson.remoting.ChannelClosedException',
  'hudson.remoting.RequestAbortedException',
  'java.nio.channels.ClosedChannelException',
  'java.io.EOFException',
] as const;
export type AgentLossErrorType = (typeof AGENT_LOSS_ERROR_TYPES)[number];

/**
 * InterruptedBuildAction causes (`_class`) of a Pipeline build whose agent went
 * away: when a node is removed (a cloud agent deleted), or does not come back
 * after a controller restart, the `node` body is cancelled with a
 * FlowInterruptedException(ABORTED) carrying one of these causes
 * (workflow-durable-task-step ExecutorStepExecution), so its stage reads ABORTED.
 */
export const AGENT_REMOVED_CAUSES = [
  'org.jenkinsci.plugins.workflow.support.steps.ExecutorStepExecution$RemovedNodeCause',
  'org.jenkinsci.plugins.workflow.support.steps.ExecutorStepExecution$RemovedNodeTimeoutCause',
] as const;

const FAILED_BY_ERROR_TYPE = {
  'hudson.remoting.ChannelClosedException': s('ERROR'),
  'hudson.remoting.RequestAbortedException': s('ERROR'),
  'java.nio.channels.ClosedChannelException': s('ERROR'),
  'java.io.EOFException': s('ERROR'),
} as const satisfies Record<AgentLossErrorType, StatusMapping>;

function lookup<K extends string>(table: Readonly<Record<K, StatusMapping>>, key: unknown): StatusMapping | undefined {
  return typeof key === 'string' && Object.hasOwn(table, key) ? table[key as K] : undefined;
}

/**
 * A build: `result` is null while building (and briefly after, while
 * post-build steps run: `building` decides).
 */
export function mapBuildStatus(result: unknown, building: unknown): StatusMapping {
  if (building === true) return s('RUNNING');
  return lookup(RESULT, result) ?? UNKNOWN;
}

/**
 * A wfapi stage or flow node `status`, with its `error.type` and whether the
 * build's agent was removed (`agentRemoved`): both tell a lost agent (ERROR)
 * from the pipeline's own failure or an abort.
 */
export function mapStageStatus(status: unknown, errorType: unknown = null, agentRemoved = false): StatusMapping {
  if (status === 'FAILED') return lookup(FAILED_BY_ERROR_TYPE, errorType) ?? WFAPI.FAILED;
  if (status === 'ABORTED' && agentRemoved) return s('ERROR');
  return lookup(WFAPI, status) ?? UNKNOWN;
}

/** The agent-removal cause among a build's InterruptedBuildAction causes (`_class` values), or null. */
export function agentRemovedCause(causeClasses: readonly (string | null)[]): string | null {
  return causeClasses.find((c): c is string => c !== null && (AGENT_REMOVED_CAUSES as readonly string[]).includes(c)) ?? null;
}

const CONCURRENCY_WHY = /already in progress|is already running|waiting for the (?:previous|other) build|concurren/i;

/** A queue item, from its `_class` short name and `why`. */
export function mapQueueItem(kind: unknown, why: unknown): StatusMapping {
  const table = {
    WaitingItem: wait('SCHEDULED'),
    BlockedItem: typeof why === 'string' && CONCURRENCY_WHY.test(why) ? wait('CONCURRENCY') : wait('RESOURCE'),
    BuildableItem: s('QUEUED'),
  } as const satisfies Record<QueueItemKind, StatusMapping>;
  return lookup(table, kind) ?? s('QUEUED');
}

/** A queue item given only flags (when `_class` was not returned). */
export function queueKindOf(kindClass: string | null, blocked: unknown, buildable: unknown): string {
  if (kindClass) return kindClass;
  if (blocked === true) return 'BlockedItem';
  if (buildable === true) return 'BuildableItem';
  return 'WaitingItem';
}

/**
 * A computer. `offline` is `temporarilyOffline || channel == null`, so a
 * temporarily-offline agent still running a build is reported BUSY (paused);
 * an idle one reads OFFLINE (paused): Jenkins cannot tell whether it is connected.
 */
export function mapComputerState(offline: unknown, temporarilyOffline: unknown, busyExecutors: number): RunnerState {
  if (offline === true && temporarilyOffline !== true) return 'OFFLINE';
  if (temporarilyOffline === true) return busyExecutors > 0 ? 'BUSY' : 'OFFLINE';
  if (offline === false) return busyExecutors > 0 ? 'BUSY' : 'IDLE';
  return 'UNKNOWN';
}

/** Which Jenkins results select a unified status (for local list filtering and docs). */
export const RESULT_TABLE: Readonly<Record<JenkinsResult, StatusMapping>> = RESULT;
export const WFAPI_TABLE: Readonly<Record<WfapiStatus, StatusMapping>> = WFAPI;
