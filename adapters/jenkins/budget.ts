/**
 * A per-backend request budget: a token bucket of `perMinute` tokens refilled
 * continuously. Every request the client sends takes a token (user reads
 * included, so heavy reading slows polling down, never the other way round);
 * the poller asks before each optional detail read and defers what does not fit
 * to the next cycle. Jenkins has no API rate limit of its own (§3.7): this is
 * the gateway being a polite client.
 */
export class RequestBudget {
  private tokens: number;
  private lastMs: number;

  constructor(
    readonly perMinute: number,
    private readonly now: () => Date,
  ) {
    this.tokens = perMinute;
    this.lastMs = now().getTime();
  }

  private refill(): void {
    const t = this.now().getTime();
    const elapsed = Math.max(0, t - this.lastMs);
    this.lastMs = t;
    this.tokens = Math.min(this.perMinute, this.tokens + (elapsed * this.perMinute) / 60_000);
  }

  /** Whole tokens available now (may be negative after forced requests). */
  available(): number {
    this.refill();
    return Math.floor(this.tokens);
  }

  /** Takes `n` tokens if they are there. */
  tryTake(n = 1): boolean {
    this.refill();
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Takes a token even when the bucket is empty (requests that must go: the cheap base queries, user reads). */
  take(n = 1): void {
    this.refill();
    this.tokens = Math.max(-this.perMinute, this.tokens - n);
  }

  /** Milliseconds until `n` tokens are available. */
  msUntil(n = 1): number {
    this.refill();
    if (this.tokens >= n) return 0;
    return Math.ceil(((n - this.tokens) * 60_000) / this.perMinute);
  }
}
