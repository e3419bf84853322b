import type { ActionCall, ActionOutcome, ActionRequest } from '../../src/adapter-contract.ts';
import { ActionRefusal } from '../../src/errors.ts';
import { checkInputs, buildParameters, parametersForm, toDeclarations } from './action-params.ts';
import { actionPaths as P } from './action-paths.ts';
import { expectSuccess, followQueueItem, refuse, requireCovered, type ActionDeps } from './action-deps.ts';
import { parsePipelineId } from './native-ids.ts';

type Trigger = Extract<ActionRequest, { kind: 'triggerPipeline' }>;
type Retry = Extract<ActionRequest, { kind: 'retryPipeline' }>;

/**
 * triggerPipeline: `POST /job/<path>/buildWithParameters` with the inputs as form fields (never in
 * the path), or `POST …/build` for a job without parameters (buildWithParameters refuses those).
 * The job's ParametersDefinitionProperty is read first: it picks the endpoint and checks every
 * input by name, type and choice, because Jenkins silently drops parameters it does not define.
 * Jenkins answers 201 with `Location: …/queue/item/<id>/`; the item is followed to its build.
 *
 * `ref`: a plain job builds whatever its SCM configuration says, so `ref` is not sent (Jenkins
 * has nowhere to put it). A multibranch branch job IS its branch: a `ref` naming another branch
 * triggers the sibling job of that branch (`<multibranch>/<encoded branch>`), and a branch with
 * no job is UNKNOWN_REF, refused before any write.
 */
export async function triggerPipeline(deps: ActionDeps, request: Trigger, signal: AbortSignal, calls: ActionCall[] = []): Promise<ActionOutcome> {
  requireCovered(deps, request.projectNativeId);
  const fullName = await jobForRef(deps, request.projectNativeId, request.ref);
  const declared = toDeclarations(await deps.client.getJson(calls, P.jobParameters(fullName), signal));
  const names = Object.keys(request.inputs);
  if (declared.length === 0 && names.length > 0) {
    throw refuse(deps, ActionRefusal.InvalidInput, `${fullName} has no parameters; got ${names[0]}`, { input: names[0] });
  }
  const bad = checkInputs(declared, request.inputs);
  if (bad) throw refuse(deps, ActionRefusal.InvalidInput, bad.why, { input: bad.input });
  const parameterized = declared.length > 0;
  const path = P.trigger(fullName, parameterized || names.length > 0);
  const res = await deps.client.send(calls, 'POST', path, signal, parameterized ? parametersForm(request.inputs) : undefined);
  expectSuccess(deps, 'POST', path, res);
  return { calls, pipelineNativeId: await followQueueItem(deps, calls, fullName, res.location, signal) };
}

/**
 * retryPipeline: a new build of the same job with the same parameters (what the Rebuilder
 * plugin's "Rebuild" does): the build's ParametersAction is read and posted to
 * buildWithParameters (`build` when it has none). Password parameters are not exported by
 * Jenkins, so the new build gets their job default. `failedOnly` is NOT_SUPPORTED: Declarative
 * "Restart from Stage" re-runs a chosen stage and everything after it, not the failed jobs only,
 * and no REST endpoint re-runs just the failed stages.
 */
export async function retryPipeline(deps: ActionDeps, request: Retry, signal: AbortSignal, calls: ActionCall[] = []): Promise<ActionOutcome> {
  const ref = parsePipelineId(request.pipelineNativeId);
  if (!ref) throw refuse(deps, ActionRefusal.NotFound, `not a Jenkins build id: ${request.pipelineNativeId}`);
  if (request.failedOnly) {
    throw refuse(deps, ActionRefusal.NotSupported, 'Jenkins cannot re-run only the failed stages through its API (Declarative "Restart from Stage" re-runs a stage and all after it)');
  }
  if (ref.kind === 'queue') throw refuse(deps, ActionRefusal.NotRetryable, `${request.pipelineNativeId} is still queued; it has not run yet`);
  requireCovered(deps, ref.fullName);
  const params = buildParameters(await deps.client.getJson(calls, P.buildParameters(ref.fullName, ref.number), signal));
  const path = P.trigger(ref.fullName, params !== null);
  const form = params === null ? undefined : parametersForm(Object.fromEntries(params.map((p) => [p.name, p.value])));
  const res = await deps.client.send(calls, 'POST', path, signal, form);
  expectSuccess(deps, 'POST', path, res);
  return { calls, pipelineNativeId: await followQueueItem(deps, calls, ref.fullName, res.location, signal) };
}

async function jobForRef(deps: ActionDeps, fullName: string, ref: string): Promise<string> {
  const entry = await deps.jobs.get(fullName);
  if (!entry) throw refuse(deps, ActionRefusal.NotFound, `no job ${fullName}`);
  if (entry.branch === null || ref === '' || ref === entry.branch) return fullName;
  const sibling = `${fullName.slice(0, fullName.lastIndexOf('/'))}/${encodeURIComponent(ref)}`;
  if (!(await deps.jobs.get(sibling))) throw refuse(deps, ActionRefusal.UnknownRef, `the multibranch project has no job for branch ${ref}`);
  return sibling;
}
