import type { ActionCall, ActionOutcome, ActionRequest } from '../../src/adapter-contract.ts';
import { asRecord, int, str } from '../../src/adapter-kit/fields.ts';
import { ActionRefusal } from '../../src/errors.ts';
import { entitiesOf, followBuild, refuse, requireCovered, type ActionContext } from './action-deps.ts';
import { formatPipelineId, parsePipelineId, type BuildRef } from './native-ids.ts';

type Cancel = Extract<ActionRequest, { kind: 'cancelPipeline' }>;
type Retry = Extract<ActionRequest, { kind: 'retryPipeline' }>;

/** Build states a cancel applies to; Buildkite answers 422 for the others (reference §4). */
const CANCELABLE = new Set(['scheduled', 'running', 'failing']);
/** Job states Buildkite retries (reference §4: failed, timed_out, canceled; soft failures are `failed`). */
export const RETRYABLE_JOB_STATES: ReadonlySet<string> = new Set(['failed', 'timed_out', 'canceled']);
/** Job types that run and so can run again (a wait or block step never runs on an agent). */
export const RETRYABLE_JOB_TYPES: ReadonlySet<string> = new Set(['script', 'trigger']);

export function buildRefOf(ctx: ActionContext, pipelineNativeId: string): BuildRef {
  const ref = parsePipelineId(pipelineNativeId);
  if (!ref) throw refuse(ctx, ActionRefusal.NotFound, `not a Buildkite build id: ${pipelineNativeId}`);
  requireCovered(ctx, ref.slug);
  return ref;
}

export const buildState = (build: unknown): string | null => str(asRecord(build)?.state);
export const jobsOf = (build: unknown): Record<string, unknown>[] =>
  (Array.isArray(asRecord(build)?.jobs) ? (asRecord(build)!.jobs as unknown[]) : []).map((j) => ({ ...asRecord(j) }));

/**
 * cancelPipeline: `PUT …/builds/{n}/cancel`. Buildkite refuses a build that is not scheduled,
 * running or failing with 422 (→ ALREADY_FINISHED) and changes nothing, so no read comes first.
 * `force` changes nothing: REST has one cancel (the agent gets `cancel-grace-period` to stop).
 * The answer is the build, usually `canceling`; it is followed until it leaves the cancelable
 * states (at most `actionFollowMs`).
 */
export async function cancelPipeline(ctx: ActionContext, request: Cancel, signal: AbortSignal, calls: ActionCall[]): Promise<ActionOutcome> {
  const ref = buildRefOf(ctx, request.pipelineNativeId);
  const answer = await ctx.client.send(request.kind, calls, 'PUT', ctx.paths.cancel(ref.slug, ref.number), signal);
  const build = await followBuild(ctx, request.kind, calls, ref.slug, ref.number, answer.data, (b) => !CANCELABLE.has(buildState(b) ?? ''), signal);
  return { calls, pipelineNativeId: request.pipelineNativeId, ...entitiesOf(ctx, build) };
}

/**
 * retryPipeline:
 * - `failedOnly: false`: `PUT …/rebuild`, a new build copying commit, branch, message, env and PR
 *   data; the outcome names it (its number is in the answer).
 * - `failedOnly: true`: the build is read (every attempt) and each latest-attempt job that failed,
 *   timed out or was canceled is retried, `PUT …/jobs/{id}/retry` one by one, as the build page's
 *   "Retry failed jobs" does. Nothing to retry → NOT_RETRYABLE before any write; a canceled build's
 *   jobs cannot be retried (Buildkite: 422) → NOT_RETRYABLE, rebuild it instead.
 */
export async function retryPipeline(ctx: ActionContext, request: Retry, signal: AbortSignal, calls: ActionCall[]): Promise<ActionOutcome> {
  const ref = buildRefOf(ctx, request.pipelineNativeId);
  if (!request.failedOnly) {
    const answer = await ctx.client.send(request.kind, calls, 'PUT', ctx.paths.rebuild(ref.slug, ref.number), signal);
    const number = int(asRecord(answer.data)?.number);
    return { calls, pipelineNativeId: number === null ? null : formatPipelineId(ref.slug, number), ...entitiesOf(ctx, answer.data) };
  }
  const build = (await ctx.client.send(request.kind, calls, 'GET', ctx.paths.build(ref.slug, ref.number), signal)).data;
  const state = buildState(build);
  if (state === 'canceled' || state === 'canceling') {
    throw refuse(ctx, ActionRefusal.NotRetryable, `${request.pipelineNativeId} was canceled: Buildkite retries no job of a canceled build; rebuild it (retryPipeline without failedOnly)`);
  }
  const failed = jobsOf(build).filter((j) => str(j.id) !== null && j.retried !== true && RETRYABLE_JOB_TYPES.has(str(j.type) ?? '') && RETRYABLE_JOB_STATES.has(str(j.state) ?? ''));
  if (failed.length === 0) throw refuse(ctx, ActionRefusal.NotRetryable, `${request.pipelineNativeId} has no failed, timed-out or canceled job to retry (state ${state ?? 'unknown'})`);
  for (const job of failed) {
    await ctx.client.send(request.kind, calls, 'PUT', ctx.paths.retryJob(ref.slug, ref.number, String(job.id)), signal);
  }
  return { calls, pipelineNativeId: request.pipelineNativeId };
}
