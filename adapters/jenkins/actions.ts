import type { ActionCall, ActionKind, ActionOutcome, ActionRequest, BackendActions } from '../../src/adapter-contract.ts';
import { ActionRefusal, withActionCalls } from '../../src/errors.ts';
import { decideInput } from './action-approve.ts';
import { cancelJob, cancelPipeline } from './action-cancel.ts';
import { refuse, type ActionDeps } from './action-deps.ts';
import { toDeclarations } from './action-params.ts';
import { planAction } from './action-plan.ts';
import { retryPipeline, triggerPipeline } from './action-trigger.ts';
import { nullOn404, type JenkinsClient } from './client.ts';
import { JOB_PARAMETERS_TREE } from './action-params.ts';
import { jobPath } from './native-ids.ts';

/**
 * Jenkins' side of the actions contract (ADAPTERS.md §Actions). What Jenkins cannot do:
 * cancel one stage (cancelJob of a stage), re-run only failed stages (retryPipeline failedOnly),
 * re-run one job (retryJob). Every request goes through the write client (write credentials only).
 */
export const JENKINS_SUPPORTED: Readonly<Record<ActionKind, boolean>> = {
  cancelPipeline: true,
  // Only a freestyle build's single Job (the build itself); Pipeline stages cannot be cancelled alone.
  cancelJob: true,
  retryPipeline: true,
  retryJob: false,
  triggerPipeline: true,
  approve: true,
  reject: true,
};

export function createActions(deps: ActionDeps, readClient: JenkinsClient): BackendActions {
  return {
    supported: JENKINS_SUPPORTED,
    plan: (request) => planAction(request),
    perform: (request, signal) => perform(deps, request, signal),
    // With the read credentials: validating a trigger is a read.
    declaredInputs: async (project, signal) => {
      if (!deps.jobs.covers(project.projectNativeId)) return null;
      const job = await nullOn404(readClient.getJson(`${jobPath(project.projectNativeId)}/api/json`, JOB_PARAMETERS_TREE, undefined, signal));
      return job === null ? null : toDeclarations(job);
    },
  };
}

/** Every request an action sent, success or not: a refusal carries them too, so the payload and the audit show them all. */
async function perform(deps: ActionDeps, request: ActionRequest, signal: AbortSignal): Promise<ActionOutcome> {
  const calls: ActionCall[] = [];
  try {
    return await dispatch(deps, request, signal, calls);
  } catch (error) {
    throw withActionCalls(error, calls);
  }
}

function dispatch(deps: ActionDeps, request: ActionRequest, signal: AbortSignal, calls: ActionCall[]): Promise<ActionOutcome> {
  switch (request.kind) {
    case 'cancelPipeline': return cancelPipeline(deps, request, signal, calls);
    case 'cancelJob': return cancelJob(deps, request, signal, calls);
    case 'retryPipeline': return retryPipeline(deps, request, signal, calls);
    case 'retryJob':
      return Promise.reject(refuse(deps, ActionRefusal.NotSupported, 'Jenkins cannot re-run one stage or job of a build; retry the pipeline (a new build with the same parameters)'));
    case 'triggerPipeline': return triggerPipeline(deps, request, signal, calls);
    case 'approve':
    case 'reject': return decideInput(deps, request, signal, calls);
  }
}
