import type { ActionCall, ActionOutcome, ActionRequest } from '../../src/adapter-contract.ts';
import { ActionRefusal } from '../../src/errors.ts';
import { actionPaths as P } from './action-paths.ts';
import { expectSuccess, refuse, requireCovered, type ActionDeps } from './action-deps.ts';
import { asRecord, int, loose, str } from './fields.ts';
import { formatPipelineId, parseJobId, parsePipelineId } from './native-ids.ts';
import { isWorkflowClass } from './normalize.ts';

type Cancel = Extract<ActionRequest, { kind: 'cancelPipeline' }>;
type CancelJob = Extract<ActionRequest, { kind: 'cancelJob' }>;

/**
 * cancelPipeline:
 * - a build: its state is read first, because `POST …/stop` on a finished build answers the same
 *   redirect as on a running one and does nothing (→ ALREADY_FINISHED). Then `POST …/stop`
 *   (Job/Cancel). `force` on a Pipeline build: `POST …/term` (every running step fails with
 *   FlowInterruptedException), the state again, and `POST …/kill` (the hard kill, no cleanup)
 *   only if it still runs, as the build page offers them one after the other. A freestyle build
 *   has neither: force is its `stop`.
 * - a queued build (the `<job>#queue-<id>` stand-in): `POST /queue/cancelItem?id=` while it
 *   waits; once it left the queue for a build, that build is stopped instead.
 */
export async function cancelPipeline(deps: ActionDeps, request: Cancel, signal: AbortSignal, calls: ActionCall[] = []): Promise<ActionOutcome> {
  const ref = parsePipelineId(request.pipelineNativeId);
  if (!ref) throw refuse(deps, ActionRefusal.NotFound, `not a Jenkins build id: ${request.pipelineNativeId}`);
  requireCovered(deps, ref.fullName);
  if (ref.kind === 'build') {
    await cancelBuild(deps, calls, ref.fullName, ref.number, request.force, signal);
    return { calls, pipelineNativeId: request.pipelineNativeId };
  }
  const item = asRecord(await deps.client.getJson(calls, P.queueItem(ref.queueId), signal));
  const number = int(asRecord(item?.executable)?.number);
  if (number !== null) {
    await cancelBuild(deps, calls, ref.fullName, number, request.force, signal);
    return { calls, pipelineNativeId: request.pipelineNativeId };
  }
  if (item?.cancelled === true) throw refuse(deps, ActionRefusal.AlreadyFinished, `queue item ${ref.queueId} was already cancelled`);
  const path = P.cancelQueueItem(ref.queueId);
  expectSuccess(deps, 'POST', path, await deps.client.send(calls, 'POST', path, signal));
  return { calls, pipelineNativeId: request.pipelineNativeId };
}

/** cancelJob: a freestyle build's single Job is the build; a Pipeline stage cannot be cancelled alone. */
export async function cancelJob(deps: ActionDeps, request: CancelJob, signal: AbortSignal, calls: ActionCall[] = []): Promise<ActionOutcome> {
  const ref = parseJobId(request.jobNativeId);
  if (!ref) throw refuse(deps, ActionRefusal.NotFound, `not a Jenkins job id: ${request.jobNativeId}`);
  if (ref.kind === 'stage') {
    throw refuse(deps, ActionRefusal.NotSupported, 'Jenkins cannot cancel one stage of a Pipeline build; cancel the build (cancelPipeline)');
  }
  requireCovered(deps, ref.fullName);
  await cancelBuild(deps, calls, ref.fullName, ref.number, request.force, signal);
  return { calls, pipelineNativeId: formatPipelineId(ref.fullName, ref.number), jobNativeId: request.jobNativeId };
}

async function cancelBuild(deps: ActionDeps, calls: ActionCall[], fullName: string, number: number, force: boolean, signal: AbortSignal): Promise<void> {
  const statePath = P.buildState(fullName, number);
  const state = loose(await deps.client.getJson(calls, statePath, signal));
  if (state.building !== true) {
    throw refuse(deps, ActionRefusal.AlreadyFinished, `${fullName} #${number} already finished (${str(state.result) ?? 'no result'})`, { method: 'GET', path: statePath.split('?')[0] });
  }
  const post = async (how: 'stop' | 'term' | 'kill') => {
    const path = P.stop(fullName, number, how);
    expectSuccess(deps, 'POST', path, await deps.client.send(calls, 'POST', path, signal));
  };
  if (!force || !isWorkflowClass(state._class)) {
    await post('stop');
    return;
  }
  await post('term');
  const after = loose(await deps.client.getJson(calls, statePath, signal));
  if (after.building === true) await post('kill');
}
