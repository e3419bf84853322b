import { ErrorCode, UpstreamError } from '../errors.ts';

/**
 * Each identity's budget of upstream reads per minute (a token bucket of
 * `perMinute`, refilled continuously): what one key can make the gateway ask
 * of a backend, whatever its queries look like. A unit is one id sent to an
 * adapter's batch function or one list call that missed the cache, which is
 * close to one upstream request (GitHub and GitLab read one id per request).
 * Per process; idle identities are forgotten oldest first beyond `maxIdentities`.
 */
export class UpstreamBudget {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(
    /** A reload sets it: buckets refill at the new rate and hold at most the new size from their next use. */
    public perMinute: number,
    private readonly now: () => number,
    private readonly maxIdentities = 100_000,
  ) {}

  /** Takes `n` units for `identity` if it has them; false (and nothing taken) otherwise. */
  tryTake(identity: string, n: number): boolean {
    const nowMs = this.now();
    const bucket = this.buckets.get(identity) ?? { tokens: this.perMinute, atMs: nowMs };
    const tokens = Math.min(this.perMinute, bucket.tokens + ((nowMs - bucket.atMs) * this.perMinute) / 60_000);
    const ok = tokens >= n;
    this.buckets.delete(identity);
    this.buckets.set(identity, { tokens: ok ? tokens - n : tokens, atMs: nowMs });
    if (this.buckets.size > this.maxIdentities) {
      const oldest = this.buckets.keys().next();
      if (!oldest.done) this.buckets.delete(oldest.value);
    }
    return ok;
  }
}

/** The error in the slots (and the GraphQL error) of reads refused by the budget; not a backend failure. */
export function budgetExceeded(backend: string, perMinute: number): UpstreamError {
  return new UpstreamError(backend, ErrorCode.UpstreamBudgetExceeded, `upstream budget of this identity spent (${perMinute} reads/min; config limits.upstreamCallsPerIdentityPerMinute); state already known is still served`);
}

export function isBudgetExceeded(error: unknown): boolean {
  return error instanceof UpstreamError && error.code === ErrorCode.UpstreamBudgetExceeded;
}
