import type { ActionCall, ActionOutcome, ActionRequest } from '../../src/adapter-contract.ts';
import { ActionRefusal } from '../../src/errors.ts';
import { refusalOf } from './action-client.ts';
import { inputJson } from './action-params.ts';
import { actionPaths as P } from './action-paths.ts';
import { buildOfTarget } from './action-plan.ts';
import { refuse, requireCovered, type ActionDeps } from './action-deps.ts';
import { isSuccess } from './action-client.ts';
import { asRecord, records, str } from './fields.ts';
import { formatPipelineId } from './native-ids.ts';

type Decide = Extract<ActionRequest, { kind: 'approve' | 'reject' }>;

/**
 * approve / reject of a Pipeline build paused at an `input` step:
 * `GET …/wfapi/pendingInputActions` names the pending input (none → NOT_WAITING; with parallel
 * branches waiting, the first, as wfapi's nextPendingInputAction). Approve without inputs:
 * `POST …/input/<id>/proceedEmpty`; with inputs: `POST …/input/<id>/submit` with the form the
 * input page sends (`proceed` = the button text, `json` = `{"parameter":[{name,value}]}`).
 * Reject: `POST …/input/<id>/abort`; the build ends ABORTED.
 *
 * Jenkins checks the input's `submitter` list (or Job/Build when it has none; Job/Cancel also
 * allows abort) and refuses with its Failure page, 400 "You need to be <submitter> to submit
 * this." → SUBMITTER_NOT_ALLOWED. An input answered meanwhile is gone (404) → NOT_WAITING.
 * Jenkins inputs have no comment field: `comment` is not sent.
 */
export async function decideInput(deps: ActionDeps, request: Decide, signal: AbortSignal, calls: ActionCall[] = []): Promise<ActionOutcome> {
  const build = buildOfTarget(request.target);
  if (!build) {
    throw refuse(deps, /#queue-/.test(request.target.nativeId) ? ActionRefusal.NotWaiting : ActionRefusal.NotFound, `${request.target.nativeId} is not a started Jenkins build`);
  }
  requireCovered(deps, build.fullName);
  const pending = records(await deps.client.getJson(calls, P.pendingInputs(build.fullName, build.number), signal));
  const input = pending.find((p) => str(p.id) !== null);
  if (!input) throw refuse(deps, ActionRefusal.NotWaiting, `${build.fullName} #${build.number} is not waiting for input`);
  const id = str(input.id)!;
  const names = Object.keys(request.inputs);
  if (request.kind === 'approve') {
    const declared = records(input.inputs).map((i) => str(i.name)).filter((n): n is string => n !== null);
    const unknown = names.find((n) => !declared.includes(n));
    if (unknown !== undefined) throw refuse(deps, ActionRefusal.InvalidInput, `the input "${str(input.message) ?? id}" has no parameter ${unknown}`, { input: unknown });
  }
  const verb = request.kind === 'reject' ? 'abort' : names.length > 0 ? 'submit' : 'proceedEmpty';
  const path = P.input(build.fullName, build.number, id, verb);
  const form = verb === 'submit' ? new URLSearchParams({ proceed: str(asRecord(input)?.proceedText) ?? 'Proceed', json: inputJson(request.inputs) }) : undefined;
  const res = await deps.client.send(calls, 'POST', path, signal, form);
  if (!isSuccess(res.status)) {
    if (res.status === 404) throw refuse(deps, ActionRefusal.NotWaiting, `the input of ${build.fullName} #${build.number} was answered meanwhile`, { status: 404, method: 'POST', path });
    throw refusalOf(deps.backend, 'POST', path, res);
  }
  return { calls, pipelineNativeId: formatPipelineId(build.fullName, build.number) };
}
