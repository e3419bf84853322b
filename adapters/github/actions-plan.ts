/**
 * Pure: which GitHub REST calls an action makes, in order (the dry run's answer and perform's
 * script). GitHub has no per-job cancel, so `cancelJob` cancels the job's run, found by reading
 * the job first (`{run_id}` in the plan). Re-runs read the run first to check GitHub's re-run
 * limits (30 days, 50 re-runs) before asking. Approvals read the pending deployments first.
 */
import type { ActionCall, ActionRequest } from '../../src/adapter-contract.ts';
import { ActionRefusal, ActionRefusedError } from '../../src/errors.ts';
import { parseJobId, parsePipelineId, parseProjectId, type RepoRef } from './native-ids.ts';

const repoPath = (r: RepoRef): string => `/repos/${encodeURIComponent(r.owner)}/${encodeURIComponent(r.repo)}`;

export const paths = {
  run: (r: RepoRef, runId: string) => `${repoPath(r)}/actions/runs/${runId}`,
  job: (r: RepoRef, jobId: string) => `${repoPath(r)}/actions/jobs/${jobId}`,
  cancel: (r: RepoRef, runId: string, force: boolean) => `${repoPath(r)}/actions/runs/${runId}/${force ? 'force-cancel' : 'cancel'}`,
  rerun: (r: RepoRef, runId: string, failedOnly: boolean) => `${repoPath(r)}/actions/runs/${runId}/${failedOnly ? 'rerun-failed-jobs' : 'rerun'}`,
  rerunJob: (r: RepoRef, jobId: string) => `${repoPath(r)}/actions/jobs/${jobId}/rerun`,
  dispatch: (r: RepoRef, workflow: string) => `${repoPath(r)}/actions/workflows/${encodeURIComponent(workflow)}/dispatches`,
  pendingDeployments: (r: RepoRef, runId: string) => `${repoPath(r)}/actions/runs/${runId}/pending_deployments`,
} as const;

/** The plan's stand-in for the run id that reading the job reveals. */
export const RUN_ID_PLACEHOLDER = '{run_id}';

function refuse(backend: string, reason: ActionRefusal, message: string, input?: string): never {
  throw new ActionRefusedError(backend, reason, message, input === undefined ? {} : { input });
}

export function runRefOf(backend: string, id: string): RepoRef & { runId: string } {
  return parsePipelineId(id) ?? refuse(backend, ActionRefusal.NotFound, `not a GitHub pipeline id: ${id}`);
}

export function jobRefOf(backend: string, id: string): RepoRef & { jobId: string } {
  return parseJobId(id) ?? refuse(backend, ActionRefusal.NotFound, `not a GitHub job id: ${id}`);
}

/** The workflow to dispatch: GitHub needs one (a file name such as deploy.yml, or its numeric id). */
export function workflowOf(backend: string, workflow: string | null): string {
  const w = workflow?.trim().replace(/^\.github\/workflows\//, '') ?? '';
  if (w === '') refuse(backend, ActionRefusal.InvalidInput, 'GitHub needs `workflow` (a workflow file name such as deploy.yml, or its id) to dispatch', 'workflow');
  if (w.includes('/')) refuse(backend, ActionRefusal.InvalidInput, `not a workflow file name or id: ${w}`, 'workflow');
  return w;
}

/** The calls `request` sends on its happy path; refusals GitHub need not be asked about are thrown. */
export function planCalls(backend: string, request: ActionRequest): ActionCall[] {
  switch (request.kind) {
    case 'cancelPipeline': {
      const r = runRefOf(backend, request.pipelineNativeId);
      return [{ method: 'POST', path: paths.cancel(r, r.runId, request.force) }];
    }
    case 'cancelJob': {
      const j = jobRefOf(backend, request.jobNativeId);
      return [{ method: 'GET', path: paths.job(j, j.jobId) }, { method: 'POST', path: paths.cancel(j, RUN_ID_PLACEHOLDER, request.force) }];
    }
    case 'retryPipeline': {
      const r = runRefOf(backend, request.pipelineNativeId);
      return [{ method: 'GET', path: paths.run(r, r.runId) }, { method: 'POST', path: paths.rerun(r, r.runId, request.failedOnly) }];
    }
    case 'retryJob': {
      const j = jobRefOf(backend, request.jobNativeId);
      return [
        { method: 'GET', path: paths.job(j, j.jobId) },
        { method: 'GET', path: paths.run(j, RUN_ID_PLACEHOLDER) },
        { method: 'POST', path: paths.rerunJob(j, j.jobId) },
      ];
    }
    case 'triggerPipeline': {
      const p = parseProjectId(request.projectNativeId) ?? refuse(backend, ActionRefusal.NotFound, `not a GitHub repository: ${request.projectNativeId}`);
      return [{ method: 'POST', path: paths.dispatch(p, workflowOf(backend, request.workflow)) }];
    }
    case 'approve':
    case 'reject': {
      if (request.target.type !== 'Pipeline') {
        refuse(backend, ActionRefusal.NotSupported, 'GitHub approves or rejects a run waiting for a deployment review: target a Pipeline, not a Job');
      }
      const names = Object.keys(request.inputs);
      if (names.length > 0) refuse(backend, ActionRefusal.InvalidInput, 'a GitHub deployment review takes no inputs', names[0]);
      const r = runRefOf(backend, request.target.nativeId);
      const path = paths.pendingDeployments(r, r.runId);
      return [{ method: 'GET', path }, { method: 'POST', path }];
    }
  }
}
