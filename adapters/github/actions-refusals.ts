/**
 * GitHub's 4xx answers to an action, as the typed reason the gateway reports (pure). Rate limits,
 * 5xx and transport failures are not refusals: they stay UpstreamError, as for reads.
 */
import type { ActionKind } from '../../src/adapter-contract.ts';
import { ActionRefusal } from '../../src/errors.ts';

export interface Refusal {
  readonly reason: ActionRefusal;
  /** The input GitHub names, for INVALID_INPUT. */
  readonly input?: string;
}

const RERUN_KINDS: ReadonlySet<ActionKind> = new Set(['retryPipeline', 'retryJob']);
const CANCEL_KINDS: ReadonlySet<ActionKind> = new Set(['cancelPipeline', 'cancelJob']);
const REVIEW_KINDS: ReadonlySet<ActionKind> = new Set(['approve', 'reject']);

/** The input a 422 of the dispatch API names: `Unexpected inputs provided: ["a"]`, `Required input 'a' not provided`, `for input 'a'`, `properties/a`. */
export function inputNamedIn(message: string): string | undefined {
  const unexpected = /Unexpected inputs provided: (\[.*\])/.exec(message)?.[1];
  if (unexpected !== undefined) {
    try {
      const names: unknown = JSON.parse(unexpected);
      if (Array.isArray(names) && typeof names[0] === 'string') return names[0];
    } catch {
      // fall through to the other shapes
    }
  }
  return /(?:Required input|for input) '([^']+)'/i.exec(message)?.[1]
    ?? /'properties\/([^']+)'/.exec(message)?.[1];
}

export function refusalFor(kind: ActionKind, status: number, message: string): Refusal {
  if (RERUN_KINDS.has(kind) && /over a month|30 days|maximum number of (?:re-?runs|attempts)|limited to 50/i.test(message)) return { reason: ActionRefusal.RetryLimit };
  if (RERUN_KINDS.has(kind) && /already running|no failed jobs/i.test(message)) return { reason: ActionRefusal.NotRetryable };
  if (status === 401 || status === 403) return { reason: ActionRefusal.Forbidden };
  if (status === 404) return { reason: ActionRefusal.NotFound };
  if (CANCEL_KINDS.has(kind) && status === 409) return { reason: ActionRefusal.AlreadyFinished };
  if (kind === 'triggerPipeline' && status === 422) {
    if (/No ref found for/i.test(message)) return { reason: ActionRefusal.UnknownRef };
    if (/does not have 'workflow_dispatch' trigger/i.test(message)) return { reason: ActionRefusal.NotSupported };
    const input = inputNamedIn(message);
    if (input !== undefined && input !== 'inputs') return { reason: ActionRefusal.InvalidInput, input };
    if (/input/i.test(message)) return { reason: ActionRefusal.InvalidInput };
  }
  if (REVIEW_KINDS.has(kind) && (status === 409 || status === 422)) return { reason: ActionRefusal.NotWaiting };
  return { reason: ActionRefusal.Refused };
}
