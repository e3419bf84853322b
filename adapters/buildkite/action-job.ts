import type { ActionCall, ActionOutcome, ActionRequest } from '../../src/adapter-contract.ts';
import { asRecord, str } from '../../src/adapter-kit/fields.ts';
import { ActionRefusal } from '../../src/errors.ts';
import { RETRYABLE_JOB_TYPES, buildRefOf, buildState, jobsOf } from './action-build.ts';
import { entitiesOf, followBuild, refuse, requireCovered, type ActionContext } from './action-deps.ts';
import { blockFields, checkFields, fieldValue } from './action-fields.ts';
import { formatJobId, formatPipelineId, parseJobId, type JobRef } from './native-ids.ts';

type RetryJob = Extract<ActionRequest, { kind: 'retryJob' }>;
type Decide = Extract<ActionRequest, { kind: 'approve' | 'reject' }>;

/** Job states that end the job; a retry of one that has not ended would be refused anyway. */
const ENDED = new Set(['passed', 'failed', 'canceled', 'expired', 'timed_out', 'skipped', 'broken', 'waiting_failed', 'blocked_failed', 'unblocked', 'unblocked_failed']);

function jobRefOf(ctx: ActionContext, jobNativeId: string): JobRef {
  const ref = parseJobId(jobNativeId);
  if (!ref) throw refuse(ctx, ActionRefusal.NotFound, `not a Buildkite job id: ${jobNativeId}`);
  requireCovered(ctx, ref.slug);
  return ref;
}

/**
 * retryJob: the build is read first (with every attempt, so the job is found even once retried)
 * to refuse what Buildkite would refuse, with a clearer reason and no write:
 * - a job already retried (Buildkite retries each job id once, reference §6.7): NOT_RETRYABLE,
 *   naming its newer attempt to retry instead;
 * - a wait or block step (never runs), a job that has not ended, a job of a canceled build:
 *   NOT_RETRYABLE.
 * A passed job is asked about: a step with `retry.manual.permit_on_passed` allows it, which the
 * job object does not show (otherwise Buildkite answers 422 → NOT_RETRYABLE).
 * Then `PUT …/jobs/{id}/retry`; the answer is the new job, which the outcome names.
 */
export async function retryJob(ctx: ActionContext, request: RetryJob, signal: AbortSignal, calls: ActionCall[]): Promise<ActionOutcome> {
  const ref = jobRefOf(ctx, request.jobNativeId);
  const build = (await ctx.client.send(request.kind, calls, 'GET', ctx.paths.build(ref.slug, ref.number), signal)).data;
  const job = jobsOf(build).find((j) => j.id === ref.jobId);
  if (!job) throw refuse(ctx, ActionRefusal.NotFound, `build ${ref.slug}/${ref.number} has no job ${ref.jobId}`);
  const type = str(job.type) ?? 'unknown';
  const state = str(job.state) ?? 'unknown';
  const newer = str(job.retried_in_job_id);
  if (job.retried === true) {
    // The newer attempt's id cannot be named here: error texts redact UUID-long runs as opaque.
    throw refuse(ctx, ActionRefusal.NotRetryable, `Buildkite retries a job once; this one was retried already${newer ? ': retry its newest attempt (the job of this step with the highest attempt)' : ''}`);
  }
  if (!RETRYABLE_JOB_TYPES.has(type)) throw refuse(ctx, ActionRefusal.NotRetryable, `a ${type === 'manual' ? 'block' : type} step never runs on an agent, so it cannot be retried`);
  if (buildState(build) === 'canceled' || buildState(build) === 'canceling') {
    throw refuse(ctx, ActionRefusal.NotRetryable, `build ${ref.slug}/${ref.number} was canceled: Buildkite retries no job of a canceled build; rebuild it (retryPipeline)`);
  }
  if (!ENDED.has(state)) throw refuse(ctx, ActionRefusal.NotRetryable, `the job is ${state}: Buildkite retries only failed, timed-out or canceled jobs`);
  const answer = await ctx.client.send(request.kind, calls, 'PUT', ctx.paths.retryJob(ref.slug, ref.number, ref.jobId), signal);
  const newId = str(asRecord(answer.data)?.id);
  return { calls, pipelineNativeId: formatPipelineId(ref.slug, ref.number), jobNativeId: newId ? formatJobId(ref.slug, ref.number, newId) : null };
}

/**
 * approve: unblock a block step (`type: manual`, state `blocked`): `PUT …/jobs/{id}/unblock` with
 * `{fields}`. The build is read first to find the step (a Pipeline target: its first blocked step;
 * a Job target: that job, which must be a blocked block step, else NOT_WAITING) and to check the
 * inputs against the step's fields (action-fields.ts). `comment` is not sent: an unblock has none.
 * The unblocking user is the write token's; `unblocker` is not sent. Buildkite answers the job; if
 * it still shows `blocked`, the build is followed (at most `actionFollowMs`) until it is released.
 *
 * reject: NOT_SUPPORTED. Buildkite has no reject for a block step: unblocking is the only answer
 * (a block step waits until someone unblocks it), and stopping the build is cancelPipeline.
 */
export async function decide(ctx: ActionContext, request: Decide, signal: AbortSignal, calls: ActionCall[]): Promise<ActionOutcome> {
  if (request.kind === 'reject') throw refuse(ctx, ActionRefusal.NotSupported, REJECT_REFUSAL);
  const target = request.target.type === 'Job' ? jobRefOf(ctx, request.target.nativeId) : null;
  const ref = target ?? buildRefOf(ctx, request.target.nativeId);
  const buildPath = ctx.paths.build(ref.slug, ref.number);
  const build = (await ctx.client.send(request.kind, calls, 'GET', buildPath, signal)).data;
  const where = `build ${ref.slug}/${ref.number}`;
  const blocked = (j: Record<string, unknown>) => j.type === 'manual' && j.state === 'blocked';
  let job: Record<string, unknown> | undefined;
  if (target) {
    job = jobsOf(build).find((j) => j.id === target.jobId);
    if (!job) throw refuse(ctx, ActionRefusal.NotFound, `${where} has no job ${target.jobId}`);
    if (job.type !== 'manual') throw refuse(ctx, ActionRefusal.NotWaiting, `the job is not a block step (type ${str(job.type) ?? 'unknown'}): nothing to approve`);
    if (!blocked(job)) throw refuse(ctx, ActionRefusal.NotWaiting, `the block step is ${str(job.state) ?? 'unknown'}, not blocked`);
  } else {
    job = jobsOf(build).find((j) => blocked(j) && j.retried !== true);
    if (!job) throw refuse(ctx, ActionRefusal.NotWaiting, `${where} waits at no block step (state ${buildState(build) ?? 'unknown'})`);
  }
  const jobId = String(job.id);
  const fields = blockFields(job, build);
  if (fields) {
    const bad = checkFields(fields, request.inputs);
    if (bad) throw refuse(ctx, ActionRefusal.InvalidInput, bad.why, { input: bad.input });
  }
  const values = Object.fromEntries(Object.entries(request.inputs).map(([k, v]) => [k, fieldValue(v)]));
  const path = ctx.paths.unblock(ref.slug, ref.number, jobId);
  const answer = await ctx.client.send(request.kind, calls, 'PUT', path, signal, Object.keys(values).length > 0 ? { fields: values } : {});
  // Buildkite answers the job: released already, nothing to follow (the core re-reads the build);
  // still `blocked`, the build is followed until the step is released.
  const released = str(asRecord(answer.data)?.state) !== 'blocked';
  const after = released ? null : await followBuild(ctx, request.kind, calls, ref.slug, ref.number, null, (b) => !jobsOf(b).some((j) => j.id === jobId && blocked(j)), signal);
  return { calls, pipelineNativeId: formatPipelineId(ref.slug, ref.number), jobNativeId: formatJobId(ref.slug, ref.number, jobId), ...entitiesOf(ctx, after) };
}

export const REJECT_REFUSAL =
  'Buildkite has no reject for a block step: its REST API can only unblock one (approve); to stop the build instead, cancel it (cancelPipeline)';
