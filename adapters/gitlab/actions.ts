import type { ActionOutcome, ActionRequest, BackendActions } from '../../src/adapter-contract.ts';
import type { EntityModel } from '../../src/model.ts';
import { ActionRefusal, ActionRefusedError, withActionCalls } from '../../src/errors.ts';
import { ActionSender, type ActionSenderOptions } from './actions-http.ts';
import {
  encodeInputs, encodeJobVariables, GITLAB_ACTIONS_SUPPORTED, invalidVariableKey, paths, planGitlabAction, SPEC_INPUT_PREFIX,
} from './actions-plan.ts';
import { asRecord, idString, str } from './fields.ts';
import { formatJobId, formatPipelineId, parseJobId, parsePipelineId } from './native-ids.ts';
import { toJob, toPipeline } from './normalize.ts';

/**
 * GitLab's side of the actions contract. Every request carries the write token only (see
 * ActionSender). GitLab answers some impossible actions with success and no change (cancel of
 * a finished pipeline or job: 200/201 unchanged; retry of a pipeline with nothing failed: 201),
 * so the action reads the target first with the same token and refuses before any write.
 */
const FINISHED = new Set(['success', 'failed', 'canceled', 'skipped']);
/** Statuses in which no job is playable (GitLab's `playable?` needs manual, scheduled, or a finished action job). */
const NOT_PLAYABLE = new Set(['created', 'waiting_for_resource', 'preparing', 'waiting_for_callback', 'pending', 'running', 'canceling']);

export function createGitlabActions(opts: ActionSenderOptions): BackendActions {
  const refuse = (reason: ActionRefusal, message: string, extra: { input?: string } = {}) =>
    new ActionRefusedError(opts.backend, reason, message, extra);

  const pipelineEntity = (data: unknown, projectId: string): EntityModel[] => {
    try {
      return [toPipeline(opts.backend, data, projectId)];
    } catch {
      return [];
    }
  };
  const jobEntity = (data: unknown, projectId: string): EntityModel[] => {
    try {
      return [toJob(opts.backend, data, projectId)];
    } catch {
      return [];
    }
  };
  const pipelineIdOfJob = (data: unknown, projectId: string): string | null => {
    const id = idString(asRecord(asRecord(data)?.pipeline)?.id);
    return id === null ? null : formatPipelineId(projectId, id);
  };

  async function run(request: ActionRequest, http: ActionSender): Promise<Omit<ActionOutcome, 'calls'>> {
    switch (request.kind) {
      case 'cancelPipeline': {
        const { projectId, pipelineId } = parsePipelineId(request.pipelineNativeId)!;
        const before = await http.get(paths.pipeline(projectId, pipelineId));
        const status = str(asRecord(before.data)?.status);
        if (status !== null && FINISHED.has(status)) {
          throw refuse(ActionRefusal.AlreadyFinished, `pipeline ${pipelineId} already finished (${status}); GitLab would answer 200 and change nothing`);
        }
        const res = await http.post(paths.pipelineCancel(projectId, pipelineId));
        if (request.force) {
          // GitLab's pipeline cancel has no force; force-cancel (Maintainer) each job left in `canceling`.
          const canceling = await http.get(paths.pipelineJobs(projectId, pipelineId, ['canceling']));
          for (const job of Array.isArray(canceling.data) ? canceling.data : []) {
            const jobId = idString(asRecord(job)?.id);
            if (jobId !== null) await http.post(paths.jobCancel(projectId, jobId, true));
          }
        }
        return { pipelineNativeId: request.pipelineNativeId, entities: pipelineEntity(res.data, projectId) };
      }
      case 'cancelJob': {
        const { projectId, jobId } = parseJobId(request.jobNativeId)!;
        const before = await http.get(paths.job(projectId, jobId));
        const status = str(asRecord(before.data)?.status);
        if (status !== null && FINISHED.has(status)) {
          throw refuse(ActionRefusal.AlreadyFinished, `job ${jobId} already finished (${status}); GitLab would answer 201 and change nothing`);
        }
        let res = await http.post(paths.jobCancel(projectId, jobId));
        // force only acts on a job in `canceling` (GitLab 17.10+, Maintainer), so cancel first.
        if (request.force) res = await http.post(paths.jobCancel(projectId, jobId, true));
        return { pipelineNativeId: pipelineIdOfJob(res.data, projectId), jobNativeId: request.jobNativeId, entities: jobEntity(res.data, projectId) };
      }
      case 'retryPipeline': {
        const { projectId, pipelineId } = parsePipelineId(request.pipelineNativeId)!;
        // GitLab retries only failed and canceled jobs, whatever failedOnly says; with none it answers 201 and does nothing.
        const scope = ['failed', 'canceled'];
        const some = (res: { data: unknown }) => Array.isArray(res.data) && res.data.length > 0;
        // Trigger jobs are retried too, and the jobs listing leaves them out: ask for them only when no build failed.
        if (!some(await http.get(paths.pipelineJobs(projectId, pipelineId, scope))) && !some(await http.get(paths.pipelineBridges(projectId, pipelineId, scope)))) {
          throw refuse(ActionRefusal.NotRetryable, `pipeline ${pipelineId} has no failed or canceled job to retry`);
        }
        const res = await http.post(paths.pipelineRetry(projectId, pipelineId));
        return { pipelineNativeId: request.pipelineNativeId, entities: pipelineEntity(res.data, projectId) };
      }
      case 'retryJob': {
        const { projectId, jobId } = parseJobId(request.jobNativeId)!;
        const res = await http.post(paths.jobRetry(projectId, jobId));
        const newId = idString(asRecord(res.data)?.id);
        // No entity: a REST job carries no attempt, so the new job would first show as attempt 1;
        // the core's re-read of the pipeline's jobs numbers it.
        return { pipelineNativeId: pipelineIdOfJob(res.data, projectId), jobNativeId: newId === null ? null : formatJobId(projectId, newId) };
      }
      case 'triggerPipeline': {
        const projectId = request.projectNativeId;
        const bad = invalidVariableKey(request.inputs);
        if (bad !== null) {
          throw refuse(ActionRefusal.InvalidInput, `input "${bad}" is not a valid GitLab variable key (letters, digits and _) or spec input name`, { input: bad });
        }
        const { variables, inputs } = encodeInputs(request.inputs);
        let res;
        try {
          res = await http.post(paths.pipelineCreate(projectId), { ref: request.ref, variables, ...(inputs ? { inputs } : {}) });
        } catch (error) {
          throw callerNamed(error, request.inputs);
        }
        const id = idString(asRecord(res.data)?.id);
        return { pipelineNativeId: id === null ? null : formatPipelineId(projectId, id), entities: pipelineEntity(res.data, projectId) };
      }
      case 'approve':
      case 'reject':
        return answer(request, http);
    }
  }

  /** Approve plays a manual job or approves its blocked deployment; reject only rejects a deployment. */
  async function answer(request: Extract<ActionRequest, { kind: 'approve' | 'reject' }>, http: ActionSender): Promise<Omit<ActionOutcome, 'calls'>> {
    if (request.target.type !== 'Job') {
      throw refuse(ActionRefusal.NotSupported, 'GitLab waits on jobs, not pipelines: approve or reject the manual job (or the job of the blocked deployment)');
    }
    const { projectId, jobId } = parseJobId(request.target.nativeId)!;
    const job = await http.get(paths.job(projectId, jobId));
    const status = str(asRecord(job.data)?.status);
    const pipelineNativeId = pipelineIdOfJob(job.data, projectId);
    const jobNativeId = request.target.nativeId;
    let deploymentId: string | null = null;
    if (status === 'manual') {
      const blocked = await http.get(paths.blockedDeployments(projectId));
      const mine = (Array.isArray(blocked.data) ? blocked.data : []).find((d) => idString(asRecord(asRecord(d)?.deployable)?.id) === jobId);
      deploymentId = idString(asRecord(mine)?.id);
    }
    if (deploymentId !== null) {
      const first = Object.keys(request.inputs)[0];
      if (first !== undefined) throw refuse(ActionRefusal.InvalidInput, 'a deployment approval takes no variables', { input: first });
      await http.post(paths.deploymentApproval(projectId, deploymentId), {
        status: request.kind === 'approve' ? 'approved' : 'rejected',
        ...(request.comment !== null ? { comment: request.comment } : {}),
      });
      return { pipelineNativeId, jobNativeId };
    }
    if (request.kind === 'reject') {
      if (status !== 'manual') throw refuse(ActionRefusal.NotWaiting, `job ${jobId} is not waiting (${status ?? 'unknown'})`);
      throw refuse(ActionRefusal.NotSupported, `GitLab cannot reject manual job ${jobId}: only a deployment awaiting approval can be rejected`);
    }
    if (status !== null && NOT_PLAYABLE.has(status)) {
      throw refuse(ActionRefusal.NotWaiting, `job ${jobId} is not waiting (${status}); GitLab would answer 400 "Unplayable Job"`);
    }
    // Finished or delayed: GitLab decides (a delayed job is playable, and so is a finished manual job: a replay); it answers 400 "Unplayable Job" otherwise.
    const variables = encodeJobVariables(request.inputs);
    const res = await http.post(paths.jobPlay(projectId, jobId), variables.length > 0 ? { job_variables_attributes: variables } : undefined);
    return { pipelineNativeId: pipelineIdOfJob(res.data, projectId) ?? pipelineNativeId, jobNativeId, entities: jobEntity(res.data, projectId) };
  }

  return {
    supported: GITLAB_ACTIONS_SUPPORTED,
    plan: planGitlabAction,
    async perform(request, signal) {
      planGitlabAction(request); // throws for ids this adapter cannot address, before any request
      const http = new ActionSender(opts, signal);
      try {
        return { ...(await run(request, http)), calls: http.calls };
      } catch (error) {
        // A refusal carries every request sent before it, so the payload and the audit show them all.
        throw withActionCalls(error, http.calls);
      }
    },
  };
}

/** GitLab names spec inputs without the `inputs.` prefix the caller used: name them as the caller did. */
function callerNamed(error: unknown, inputs: Readonly<Record<string, unknown>>): unknown {
  if (!(error instanceof ActionRefusedError) || error.details.input === undefined) return error;
  const named = `${SPEC_INPUT_PREFIX}${error.details.input}`;
  if (!Object.hasOwn(inputs, named) || Object.hasOwn(inputs, error.details.input)) return error;
  const message = error.message.replace(/^\[[^\]]*\]\s*/, '');
  return new ActionRefusedError(error.backend, error.reason, message, { ...error.details, input: named }, { cause: error });
}
