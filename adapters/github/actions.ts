/**
 * GitHub's side of the actions contract (BackendActions, issue 15). Writes (and the reads an
 * action needs, such as a job's run) go through ActionSender with the write token only;
 * `declaredInputs` reads the workflow file with the read client. ADAPTERS.md §Actions has the table.
 */
import type { ActionCall, ActionInputDeclaration, ActionOutcome, ActionRequest, BackendActions } from '../../src/adapter-contract.ts';
import { ActionRefusal, ActionRefusedError, isUpstreamError, withActionCalls } from '../../src/errors.ts';
import type { ActionSender } from './actions-http.ts';
import { encodeDispatchInput, parseDispatchInputs } from './actions-inputs.ts';
import { jobRefOf, paths, planCalls, runRefOf, workflowOf } from './actions-plan.ts';
import type { GithubClient } from './client.ts';
import { asRecord, idString, int, str } from './fields.ts';
import { formatPipelineId, parseProjectId, projectIdOf } from './native-ids.ts';

export interface GithubActionsDeps {
  readonly backend: string;
  readonly sender: ActionSender;
  /** The read client (read token): for declaredInputs only. */
  readonly readClient: GithubClient;
  readonly now: () => Date;
  /** A run was re-run: GitHub sends no webhook for it, so the poller follows it until it finishes. */
  readonly onRerun?: (pipelineNativeId: string) => void;
}

const DAY_MS = 86_400_000;
/** "You can re-run ... up to 30 days after the initial run" and "a maximum of 50 times" (docs: re-running workflows and jobs). */
const RERUN_WINDOW_MS = 30 * DAY_MS;
const MAX_RERUNS = 50;

export function createGithubActions(deps: GithubActionsDeps): BackendActions {
  const { backend, sender } = deps;

  /**
   * GitHub answers a re-run past 50 re-runs with 201 and a failed attempt, so the limits are
   * checked on the run before asking (its age too, whatever wording GitHub's refusal has).
   */
  const checkRerunLimits = (run: unknown): void => {
    const r = asRecord(run) ?? {};
    const attempt = int(r.run_attempt) ?? 1;
    const created = Date.parse(str(r.created_at) ?? '');
    if (attempt > MAX_RERUNS) {
      throw new ActionRefusedError(backend, ActionRefusal.RetryLimit, `GitHub allows at most ${MAX_RERUNS} re-runs of a workflow run; this one is at attempt ${attempt}`);
    }
    if (Number.isFinite(created) && deps.now().getTime() - created > RERUN_WINDOW_MS) {
      throw new ActionRefusedError(backend, ActionRefusal.RetryLimit, `GitHub re-runs a workflow run only up to 30 days after it started (created ${str(r.created_at)})`);
    }
  };

  /** Every request the action sent, success or not: a refusal carries them too (payload and audit show them all). */
  async function perform(request: ActionRequest, signal: AbortSignal): Promise<ActionOutcome> {
    planCalls(backend, request); // refuses what GitHub need not be asked about
    const calls: ActionCall[] = [];
    try {
      return await run(request, signal, calls);
    } catch (error) {
      throw withActionCalls(error, calls);
    }
  }

  async function run(request: ActionRequest, signal: AbortSignal, calls: ActionCall[]): Promise<ActionOutcome> {
    const send = (method: ActionCall['method'], path: string, body?: unknown) => sender.send(request.kind, method, path, body, calls, signal);
    switch (request.kind) {
      case 'cancelPipeline': {
        const r = runRefOf(backend, request.pipelineNativeId);
        await send('POST', paths.cancel(r, r.runId, request.force));
        return { calls, pipelineNativeId: request.pipelineNativeId };
      }
      case 'cancelJob': {
        // No per-job cancel on GitHub: the job's run is cancelled.
        const j = jobRefOf(backend, request.jobNativeId);
        const runId = idString(asRecord((await send('GET', paths.job(j, j.jobId))).data)?.run_id);
        if (!runId) throw new ActionRefusedError(backend, ActionRefusal.NotFound, `GitHub job ${j.jobId} names no run`);
        await send('POST', paths.cancel(j, runId, request.force));
        return { calls, pipelineNativeId: formatPipelineId(projectIdOf(j), runId), jobNativeId: request.jobNativeId };
      }
      case 'retryPipeline': {
        const r = runRefOf(backend, request.pipelineNativeId);
        checkRerunLimits((await send('GET', paths.run(r, r.runId))).data);
        await send('POST', paths.rerun(r, r.runId, request.failedOnly));
        deps.onRerun?.(formatPipelineId(projectIdOf(r), r.runId));
        return { calls, pipelineNativeId: request.pipelineNativeId };
      }
      case 'retryJob': {
        const j = jobRefOf(backend, request.jobNativeId);
        const runId = idString(asRecord((await send('GET', paths.job(j, j.jobId))).data)?.run_id);
        if (!runId) throw new ActionRefusedError(backend, ActionRefusal.NotFound, `GitHub job ${j.jobId} names no run`);
        checkRerunLimits((await send('GET', paths.run(j, runId))).data);
        await send('POST', paths.rerunJob(j, j.jobId));
        deps.onRerun?.(formatPipelineId(projectIdOf(j), runId));
        // The re-run job is a new job (GitHub job ids are per attempt); the core finds it in the new attempt.
        return { calls, pipelineNativeId: formatPipelineId(projectIdOf(j), runId), jobNativeId: null };
      }
      case 'triggerPipeline': {
        const p = parseProjectId(request.projectNativeId)!;
        const workflow = workflowOf(backend, request.workflow);
        const inputs: Record<string, string> = {};
        for (const [name, value] of Object.entries(request.inputs)) {
          const encoded = encodeDispatchInput(value);
          if (encoded === null) throw new ActionRefusedError(backend, ActionRefusal.InvalidInput, `input ${name}: ${String(value)} has no string form`, { input: name });
          inputs[name] = encoded;
        }
        const path = paths.dispatch(p, workflow);
        let data: unknown;
        try {
          // 200 with the run's id where GitHub supports return_run_details (github.com since 2026-02).
          ({ data } = await send('POST', path, { ref: request.ref, inputs, return_run_details: true }));
        } catch (error) {
          // Older GHES refuses the key (422): ask again without it; 204 names no run.
          if (!(error instanceof ActionRefusedError && error.details.status === 422 && error.message.includes('return_run_details'))) throw error;
          ({ data } = await send('POST', path, { ref: request.ref, inputs }));
        }
        const runId = idString(asRecord(data)?.workflow_run_id);
        return { calls, pipelineNativeId: runId ? formatPipelineId(projectIdOf(p), runId) : null };
      }
      case 'approve':
      case 'reject': {
        const r = runRefOf(backend, request.target.nativeId);
        const path = paths.pendingDeployments(r, r.runId);
        const pending = (await send('GET', path)).data;
        const list = Array.isArray(pending) ? pending.map((p) => asRecord(p) ?? {}) : [];
        if (list.length === 0) throw new ActionRefusedError(backend, ActionRefusal.NotWaiting, `GitHub run ${r.runId} waits for no deployment review`, { status: 200, method: 'GET', path });
        const mine = list.filter((p) => p.current_user_can_approve !== false);
        if (mine.length === 0) {
          throw new ActionRefusedError(backend, ActionRefusal.SubmitterNotAllowed, `the write token's identity is not a required reviewer of run ${r.runId}'s environments`, { status: 200, method: 'GET', path });
        }
        const environmentIds = mine.map((p) => Number(asRecord(p.environment)?.id)).filter((id) => Number.isSafeInteger(id));
        await send('POST', path, { environment_ids: environmentIds, state: request.kind === 'approve' ? 'approved' : 'rejected', comment: request.comment ?? '' });
        return { calls, pipelineNativeId: request.target.nativeId };
      }
    }
  }

  async function declaredInputs(
    project: { readonly projectNativeId: string; readonly ref: string; readonly workflow: string | null },
    signal: AbortSignal,
  ): Promise<readonly ActionInputDeclaration[] | null> {
    const p = parseProjectId(project.projectNativeId);
    const workflow = project.workflow?.trim().replace(/^\.github\/workflows\//, '') ?? '';
    if (!p || workflow === '' || workflow.includes('/')) return null;
    try {
      let file = workflow;
      if (/^\d+$/.test(workflow)) {
        // A workflow id: its resource names the file.
        const wf = await deps.readClient.get<unknown>('GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}', { owner: p.owner, repo: p.repo, workflow_id: workflow }, signal);
        const path = str(asRecord(wf.data)?.path) ?? '';
        if (!path.startsWith('.github/workflows/')) return null;
        file = path.slice('.github/workflows/'.length);
      }
      const res = await deps.readClient.get<unknown>(
        'GET /repos/{owner}/{repo}/contents/.github/workflows/{file}',
        { owner: p.owner, repo: p.repo, file, ref: project.ref },
        signal,
      );
      const body = asRecord(res.data);
      const content = str(body?.content);
      if (!body || body.encoding !== 'base64' || content === null) return null;
      return parseDispatchInputs(Buffer.from(content, 'base64').toString('utf8'));
    } catch (error) {
      // Unreadable (missing file or ref, no access): inputs pass unchecked and GitHub judges them.
      if (isUpstreamError(error) && error.details.status !== undefined && error.details.status < 500) return null;
      throw error;
    }
  }

  return {
    supported: {
      cancelPipeline: true, cancelJob: true, retryPipeline: true, retryJob: true, triggerPipeline: true, approve: true, reject: true,
    },
    plan: (request) => planCalls(backend, request),
    perform,
    declaredInputs,
  };
}
