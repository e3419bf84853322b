import type { ActionCall, ActionRequest } from '../../src/adapter-contract.ts';
import { PLACEHOLDER, actionPaths as P } from './action-paths.ts';
import { parseJobId, parsePipelineId } from './native-ids.ts';

/**
 * Pure: the calls `perform` sends on the happy path, for a dry run. Values only Jenkins'
 * answers name appear as placeholders (`{queueId}`, `{inputId}`). Where the path depends on
 * what Jenkins answers (a freestyle build has no `term`; a job without parameters takes
 * `build`, not `buildWithParameters`), the plan assumes a Pipeline build and, for a retry,
 * a build with parameters; a trigger with no inputs plans `build`. Unsupported requests and
 * unparseable ids plan nothing (perform refuses them before any request).
 */
export function planAction(request: ActionRequest): ActionCall[] {
  switch (request.kind) {
    case 'cancelPipeline': {
      const ref = parsePipelineId(request.pipelineNativeId);
      if (!ref) return [];
      if (ref.kind === 'queue') return [get(P.queueItem(ref.queueId)), post(P.cancelQueueItem(ref.queueId))];
      return cancelBuild(ref.fullName, ref.number, request.force);
    }
    case 'cancelJob': {
      const ref = parseJobId(request.jobNativeId);
      return ref?.kind === 'build' ? cancelBuild(ref.fullName, ref.number, request.force) : [];
    }
    case 'retryPipeline': {
      const ref = parsePipelineId(request.pipelineNativeId);
      if (!ref || ref.kind !== 'build' || request.failedOnly) return [];
      return [get(P.buildParameters(ref.fullName, ref.number)), post(P.trigger(ref.fullName, true)), get(P.queueItem(PLACEHOLDER.queueId))];
    }
    case 'retryJob':
      return [];
    case 'triggerPipeline':
      return [
        get(P.jobParameters(request.projectNativeId)),
        post(P.trigger(request.projectNativeId, Object.keys(request.inputs).length > 0)),
        get(P.queueItem(PLACEHOLDER.queueId)),
      ];
    case 'approve':
    case 'reject': {
      const build = buildOfTarget(request.target);
      if (!build) return [];
      const verb = request.kind === 'reject' ? 'abort' : Object.keys(request.inputs).length > 0 ? 'submit' : 'proceedEmpty';
      return [get(P.pendingInputs(build.fullName, build.number)), post(P.input(build.fullName, build.number, PLACEHOLDER.inputId, verb))];
    }
  }
}

function cancelBuild(fullName: string, number: number, force: boolean): ActionCall[] {
  const state = get(P.buildState(fullName, number));
  // force: term (every running step interrupted), read again, kill only if it still runs.
  return force ? [state, post(P.stop(fullName, number, 'term')), state] : [state, post(P.stop(fullName, number))];
}

/** The build an approval targets: a Pipeline build, or the build of a Job (stage) id. */
export function buildOfTarget(target: { readonly type: 'Pipeline' | 'Job'; readonly nativeId: string }): { fullName: string; number: number } | null {
  if (target.type === 'Pipeline') {
    const ref = parsePipelineId(target.nativeId);
    return ref?.kind === 'build' ? { fullName: ref.fullName, number: ref.number } : null;
  }
  const ref = parseJobId(target.nativeId);
  return ref ? { fullName: ref.fullName, number: ref.number } : null;
}

const get = (path: string): ActionCall => ({ method: 'GET', path });
const post = (path: string): ActionCall => ({ method: 'POST', path });
