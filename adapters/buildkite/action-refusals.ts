/**
 * Buildkite's 4xx answers to an action, as the typed reason the gateway reports (pure). Rate limits,
 * 5xx and transport failures are not refusals: they stay UpstreamError, as for reads.
 *
 * What Buildkite answers (shared/reference/buildkite.md §4):
 * - cancel of a build that is not `scheduled`, `running` or `failing` → 422;
 * - retry of a job that is not failed, timed out or canceled (without `permit_on_passed`), of a
 *   job already retried once, or of a job of a canceled build → 422;
 * - unblock of a job that is not a block step → 400 "This job type cannot be unblocked";
 * - create build with invalid attributes → 422;
 * - a token without the `write_builds` scope, or a user without the pipeline permission → 401/403.
 */
import type { ActionKind } from '../../src/adapter-contract.ts';
import { ActionRefusal } from '../../src/errors.ts';

export interface Refusal {
  readonly reason: ActionRefusal;
  /** The input Buildkite names, for INVALID_INPUT. */
  readonly input?: string;
  /** Our explanation in place of Buildkite's bare message, when it needs one. */
  readonly explain?: string;
}

const RETRY_KINDS: ReadonlySet<ActionKind> = new Set(['retryPipeline', 'retryJob']);
const DECIDE_KINDS: ReadonlySet<ActionKind> = new Set(['approve', 'reject']);

export function refusalFor(kind: ActionKind, status: number, message: string): Refusal {
  if (status === 401 || status === 403) {
    const scope = /scope/i.test(message) ? '' : ' (the write token needs the write_builds scope and the pipeline\'s Build permission)';
    return { reason: ActionRefusal.Forbidden, explain: `${message}${scope}` };
  }
  if (status === 404) return { reason: ActionRefusal.NotFound };
  if (kind === 'cancelPipeline' && status === 422) return { reason: ActionRefusal.AlreadyFinished };
  if (RETRY_KINDS.has(kind) && status === 422) return { reason: ActionRefusal.NotRetryable };
  if (DECIDE_KINDS.has(kind) && (status === 400 || status === 422)) {
    const field = /field[s]?\W+([A-Za-z0-9_-]+)/i.exec(message)?.[1];
    if (/field/i.test(message) && !/cannot be unblocked/i.test(message)) return { reason: ActionRefusal.InvalidInput, ...(field ? { input: field } : {}) };
    return { reason: ActionRefusal.NotWaiting };
  }
  if (kind === 'triggerPipeline' && status === 422) {
    // `commit` and `message` are inputs (action-trigger.ts); the branch is the request's `ref`.
    const input = /\b(commit|message)\b/i.exec(message)?.[1]?.toLowerCase();
    return { reason: ActionRefusal.InvalidInput, ...(input ? { input } : {}) };
  }
  return { reason: ActionRefusal.Refused };
}
