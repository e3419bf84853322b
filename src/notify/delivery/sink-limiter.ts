/**
 * One sink's limits on this instance: at most `concurrency` sends at once, and at most
 * `ratePerMinute` started per minute (a token bucket refilled continuously, holding up to a
 * second's worth, at least one, so a quiet sink does not then burst a minute's worth).
 */
export class SinkLimiter {
  private inFlight = 0;
  private tokens: number;
  private refilledAt: number;
  private readonly perMs: number;
  private readonly burst: number;

  constructor(private readonly concurrency: number, ratePerMinute: number, private readonly now: () => number) {
    this.perMs = ratePerMinute / 60_000;
    this.burst = Math.max(1, Math.floor(ratePerMinute / 60));
    this.tokens = this.burst;
    this.refilledAt = now();
  }

  /** How many sends may start now. */
  available(): number {
    this.refill();
    return Math.max(0, Math.min(this.concurrency - this.inFlight, Math.floor(this.tokens)));
  }

  /** Ms until a token is available again (0 when one is). */
  msUntilToken(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) / this.perMs);
  }

  get busy(): number {
    return this.inFlight;
  }

  /** A send starts: one slot and one token. */
  acquire(): void {
    this.refill();
    this.inFlight++;
    this.tokens -= 1;
  }

  release(): void {
    this.inFlight--;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + (t - this.refilledAt) * this.perMs);
    this.refilledAt = t;
  }
}
