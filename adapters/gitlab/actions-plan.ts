import type { ActionCall, ActionInputValue, ActionKind, ActionRequest } from '../../src/adapter-contract.ts';
import { buildQuery } from './client.ts';
import { parseJobId, parsePipelineId, parseProjectId } from './native-ids.ts';

/**
 * The pure half of GitLab actions: which REST calls each action sends (doc/api/pipelines.md,
 * jobs.md, deployments.md), and how trigger inputs become GitLab's `variables` / `inputs`.
 * `plan` lists the happy path; `perform` (actions.ts) sends exactly these calls then, and
 * fewer when a read already shows the action cannot succeed.
 */
export const GITLAB_ACTIONS_SUPPORTED: Readonly<Record<ActionKind, boolean>> = {
  cancelPipeline: true,
  cancelJob: true,
  retryPipeline: true,
  retryJob: true,
  triggerPipeline: true,
  // Manual jobs (play) and deployments awaiting approval (Premium); reject only the latter.
  approve: true,
  reject: true,
};

/** Caller inputs named `inputs.<name>` go to `spec:inputs` (GitLab 17.10+); every other name is a pipeline variable. */
export const SPEC_INPUT_PREFIX = 'inputs.';

/** Ci::Variable key rule (app/models/concerns/ci/has_variable.rb): letters, digits and `_`, at most 255. */
const VARIABLE_KEY = /^[A-Za-z0-9_]{1,255}$/;

export interface EncodedInputs {
  readonly variables: readonly { readonly key: string; readonly value: string }[];
  /** Typed values as JSON carries them; absent when none was given (older GitLab rejects the key). */
  readonly inputs?: Readonly<Record<string, ActionInputValue>>;
}

/** The first caller input GitLab would refuse as a variable key, or null. */
export function invalidVariableKey(inputs: Readonly<Record<string, ActionInputValue>>): string | null {
  for (const name of Object.keys(inputs)) {
    if (name.startsWith(SPEC_INPUT_PREFIX)) {
      if (name.length === SPEC_INPUT_PREFIX.length) return name;
      continue;
    }
    if (!VARIABLE_KEY.test(name)) return name;
  }
  return null;
}

/** Variables carry strings only (GitLab stores `value` as text); spec inputs keep their type. */
export function encodeInputs(inputs: Readonly<Record<string, ActionInputValue>>): EncodedInputs {
  const variables: { key: string; value: string }[] = [];
  const spec: [string, ActionInputValue][] = [];
  for (const [name, value] of Object.entries(inputs)) {
    if (name.startsWith(SPEC_INPUT_PREFIX)) spec.push([name.slice(SPEC_INPUT_PREFIX.length), value]);
    else variables.push({ key: name, value: String(value) });
  }
  // fromEntries defines own properties: an input named `__proto__` stays an input, never a prototype.
  return spec.length > 0 ? { variables, inputs: Object.fromEntries(spec) } : { variables };
}

/** Job variables of a play: `job_variables_attributes` takes key/value strings (no spec inputs). */
export function encodeJobVariables(inputs: Readonly<Record<string, ActionInputValue>>): { key: string; value: string }[] {
  return Object.entries(inputs).map(([key, value]) => ({ key, value: String(value) }));
}

const project = (id: string) => `/projects/${id}`;

export const paths = {
  pipeline: (p: string, id: string) => `${project(p)}/pipelines/${id}`,
  pipelineCancel: (p: string, id: string) => `${project(p)}/pipelines/${id}/cancel`,
  pipelineRetry: (p: string, id: string) => `${project(p)}/pipelines/${id}/retry`,
  pipelineJobs: (p: string, id: string, scope: readonly string[]) => `${project(p)}/pipelines/${id}/jobs${buildQuery({ 'scope[]': scope })}`,
  pipelineBridges: (p: string, id: string, scope: readonly string[]) => `${project(p)}/pipelines/${id}/bridges${buildQuery({ 'scope[]': scope })}`,
  pipelineCreate: (p: string) => `${project(p)}/pipeline`,
  job: (p: string, id: string) => `${project(p)}/jobs/${id}`,
  jobCancel: (p: string, id: string, force = false) => `${project(p)}/jobs/${id}/cancel${force ? '?force=true' : ''}`,
  jobRetry: (p: string, id: string) => `${project(p)}/jobs/${id}/retry`,
  jobPlay: (p: string, id: string) => `${project(p)}/jobs/${id}/play`,
  blockedDeployments: (p: string) => `${project(p)}/deployments${buildQuery({ status: 'blocked', per_page: 100 })}`,
  deploymentApproval: (p: string, id: string) => `${project(p)}/deployments/${id}/approval`,
};

/** A native id this adapter cannot address: the core decoded it, so this is a bug or a foreign id. */
export class UnaddressableTargetError extends Error {
  override readonly name = 'UnaddressableTargetError';
}

function pipelineRef(id: string) {
  const ref = parsePipelineId(id);
  if (!ref) throw new UnaddressableTargetError(`not a GitLab pipeline id: ${id}`);
  return ref;
}

function jobRef(id: string) {
  const ref = parseJobId(id);
  if (!ref) throw new UnaddressableTargetError(`not a GitLab job id: ${id}`);
  return ref;
}

const get = (path: string): ActionCall => ({ method: 'GET', path });
const post = (path: string): ActionCall => ({ method: 'POST', path });

/**
 * Pure: the happy path's calls. A force-cancel of a pipeline also force-cancels each job the
 * listing finds in `canceling`; those per-job calls cannot be known before the listing.
 */
export function planGitlabAction(request: ActionRequest): readonly ActionCall[] {
  switch (request.kind) {
    case 'cancelPipeline': {
      const { projectId, pipelineId } = pipelineRef(request.pipelineNativeId);
      return [
        get(paths.pipeline(projectId, pipelineId)),
        post(paths.pipelineCancel(projectId, pipelineId)),
        ...(request.force ? [get(paths.pipelineJobs(projectId, pipelineId, ['canceling']))] : []),
      ];
    }
    case 'cancelJob': {
      const { projectId, jobId } = jobRef(request.jobNativeId);
      return [
        get(paths.job(projectId, jobId)),
        post(paths.jobCancel(projectId, jobId)),
        ...(request.force ? [post(paths.jobCancel(projectId, jobId, true))] : []),
      ];
    }
    case 'retryPipeline': {
      const { projectId, pipelineId } = pipelineRef(request.pipelineNativeId);
      return [get(paths.pipelineJobs(projectId, pipelineId, ['failed', 'canceled'])), post(paths.pipelineRetry(projectId, pipelineId))];
    }
    case 'retryJob': {
      const { projectId, jobId } = jobRef(request.jobNativeId);
      return [post(paths.jobRetry(projectId, jobId))];
    }
    case 'triggerPipeline': {
      const projectId = parseProjectId(request.projectNativeId);
      if (!projectId) throw new UnaddressableTargetError(`not a GitLab project id: ${request.projectNativeId}`);
      return [post(paths.pipelineCreate(projectId))];
    }
    case 'approve':
    case 'reject': {
      if (request.target.type !== 'Job') return [];
      const { projectId, jobId } = jobRef(request.target.nativeId);
      // Happy path: approve plays a manual job, reject answers a deployment awaiting approval.
      return [
        get(paths.job(projectId, jobId)),
        get(paths.blockedDeployments(projectId)),
        request.kind === 'approve' ? post(paths.jobPlay(projectId, jobId)) : post(paths.deploymentApproval(projectId, ':deployment_id')),
      ];
    }
  }
}
