/**
 * Buildkite's side of the actions contract (ADAPTERS.md §13, adapters/buildkite/ACTIONS.md).
 * Every request an action causes goes through BuildkiteActionClient with the write token only.
 *
 * Wiring (index.ts), one line:
 *
 *   const actions = writeToken === undefined ? undefined : createBuildkiteActions({
 *     backend: ctx.name, organization: config.organization, url: config.url, writeToken,
 *     timeoutMs: config.requestTimeoutMs, now: ctx.now, covers: (slug) => <slug in the configured pipelines>,
 *     followMs: config.actionFollowMs, toEntities: (build) => <the read side's build (+ jobs) normalizer>,
 *   });
 */
import type { ActionCall, ActionKind, ActionOutcome, ActionRequest, BackendActions } from '../../src/adapter-contract.ts';
import type { EntityModel } from '../../src/model.ts';
import { ActionRefusal, withActionCalls } from '../../src/errors.ts';
import { cancelPipeline, retryPipeline } from './action-build.ts';
import { BuildkiteActionClient } from './action-client.ts';
import { refuse, type ActionContext } from './action-deps.ts';
import { decide, REJECT_REFUSAL, retryJob } from './action-job.ts';
import { actionPaths } from './action-paths.ts';
import { planAction } from './action-plan.ts';
import { triggerPipeline } from './action-trigger.ts';

/** What createBuildkiteActions takes: all of it from the config and the context, nothing read yet. */
export interface BuildkiteActionsDeps {
  /** The backend instance name (ctx.name): every refusal and UpstreamError names it. */
  readonly backend: string;
  /** The organization slug every path is under. */
  readonly organization: string;
  /** The backend's `url` (https://api.buildkite.com); paths are `/v2/...` below it. */
  readonly url: string;
  /** The resolved `writeToken`: only actions hold it. */
  readonly writeToken: string;
  readonly timeoutMs: number;
  readonly now: () => Date;
  /** Whether a pipeline slug lies inside the configured set (ids outside it are NOT_FOUND, no request). */
  readonly covers: (slug: string) => boolean;
  /** `actionFollowMs`: how long a cancel or an approval re-reads the build until the change shows (0: only the write's answer). */
  readonly followMs: number;
  /** Between two follow-up reads (default 500 ms: the per-user budget is 50 requests a minute). */
  readonly followIntervalMs?: number;
  /** The read side's normalizer of a build object (with `jobs`): the builds actions get back become outcome entities. */
  readonly toEntities?: (build: unknown) => readonly EntityModel[];
  readonly fetch?: typeof fetch;
}

/**
 * What Buildkite's REST API cannot do: cancel one job (GraphQL `jobTypeCommandCancel` only,
 * api_differences.md) and reject a block step (there is only unblock).
 */
export const BUILDKITE_SUPPORTED: Readonly<Record<ActionKind, boolean>> = {
  cancelPipeline: true,
  cancelJob: false,
  retryPipeline: true,
  retryJob: true,
  triggerPipeline: true,
  approve: true,
  reject: false,
};

const CANCEL_JOB_REFUSAL =
  "Buildkite's REST API cannot cancel a single job (only GraphQL's jobTypeCommandCancel can); cancel the build (cancelPipeline)";

export function createBuildkiteActions(deps: BuildkiteActionsDeps): BackendActions {
  const ctx: ActionContext = {
    backend: deps.backend,
    client: new BuildkiteActionClient({ backend: deps.backend, baseUrl: deps.url, token: deps.writeToken, timeoutMs: deps.timeoutMs, now: deps.now, ...(deps.fetch ? { fetch: deps.fetch } : {}) }),
    paths: actionPaths(deps.organization),
    covers: deps.covers,
    followMs: deps.followMs,
    followIntervalMs: deps.followIntervalMs ?? 500,
    ...(deps.toEntities ? { toEntities: deps.toEntities } : {}),
  };
  return {
    supported: BUILDKITE_SUPPORTED,
    plan: (request) => planAction(ctx.paths, request),
    perform: (request, signal) => perform(ctx, request, signal),
  };
}

/** Every request an action sent, success or not: a refusal carries them too, so the payload and the audit show them all. */
async function perform(ctx: ActionContext, request: ActionRequest, signal: AbortSignal): Promise<ActionOutcome> {
  const calls: ActionCall[] = [];
  try {
    return await dispatch(ctx, request, signal, calls);
  } catch (error) {
    throw withActionCalls(error, calls);
  }
}

function dispatch(ctx: ActionContext, request: ActionRequest, signal: AbortSignal, calls: ActionCall[]): Promise<ActionOutcome> {
  switch (request.kind) {
    case 'cancelPipeline': return cancelPipeline(ctx, request, signal, calls);
    case 'cancelJob': return Promise.reject(refuse(ctx, ActionRefusal.NotSupported, CANCEL_JOB_REFUSAL));
    case 'retryPipeline': return retryPipeline(ctx, request, signal, calls);
    case 'retryJob': return retryJob(ctx, request, signal, calls);
    case 'triggerPipeline': return triggerPipeline(ctx, request, signal, calls);
    case 'approve': return decide(ctx, request, signal, calls);
    case 'reject': return Promise.reject(refuse(ctx, ActionRefusal.NotSupported, REJECT_REFUSAL));
  }
}
