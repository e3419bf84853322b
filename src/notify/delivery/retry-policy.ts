import type { SendOutcome } from '../sink.ts';

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
}

/** A receiver's Retry-After is honoured up to a day: beyond that it is more likely a mistake than a plan. */
const MAX_RETRY_AFTER_MS = 86_400_000;

/**
 * Exponential backoff with full jitter: after attempt n, a delay drawn uniformly between the
 * initial backoff and min(max, initial * 2^n), so senders that failed together do not retry
 * together. `random` in [0, 1).
 */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.min(attempt, 40));
  return policy.initialBackoffMs + random() * Math.max(0, ceiling - policy.initialBackoffMs);
}

export type Verdict =
  | { readonly kind: 'delivered'; readonly status: number | null }
  | { readonly kind: 'retry'; readonly status: number | null; readonly error: string; readonly delayMs: number }
  | { readonly kind: 'dead'; readonly status: number | null; readonly error: string };

/**
 * What follows an attempt: delivered; dead when the sink says the message can never be accepted
 * or the attempts are spent; otherwise retried after the receiver's Retry-After when it gave
 * one (429, 503), else after the backoff.
 */
export function verdictOf(outcome: SendOutcome, attempt: number, policy: RetryPolicy, random: () => number = Math.random): Verdict {
  if (outcome.ok) return { kind: 'delivered', status: outcome.status };
  if (outcome.kind === 'permanent') return { kind: 'dead', status: outcome.status, error: outcome.error };
  if (attempt >= policy.maxAttempts) return { kind: 'dead', status: outcome.status, error: `${outcome.error} (gave up after ${attempt} attempts)` };
  const delayMs = outcome.retryAfterMs !== undefined && outcome.retryAfterMs >= 0 ? Math.min(outcome.retryAfterMs, MAX_RETRY_AFTER_MS) : backoffMs(attempt, policy, random);
  return { kind: 'retry', status: outcome.status, error: outcome.error, delayMs };
}
