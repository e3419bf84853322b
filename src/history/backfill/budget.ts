/**
 * The backfill's request budget for one backend: a token bucket refilled at
 * `perMinute` per minute, holding at most one second's worth (at least 1), so
 * requests are spread evenly and live traffic always finds room. A take of
 * more than the bucket holds goes into debt that later takes wait off, so the
 * average rate holds for batches too. Real (monotonic) time: it paces sends.
 */
export class RequestBudget {
  private tokens: number;
  private atMs: number;
  readonly burst: number;

  constructor(readonly perMinute: number, private readonly clockMs: () => number = () => performance.now()) {
    this.burst = Math.max(1, Math.ceil(perMinute / 60));
    this.tokens = this.burst;
    this.atMs = clockMs();
  }

  /** Waits until `n` requests may be sent (rejects when `signal` aborts). */
  async take(n: number, signal: AbortSignal): Promise<void> {
    for (;;) {
      signal.throwIfAborted();
      this.refill();
      const need = Math.min(n, this.burst);
      if (this.tokens >= need) {
        this.tokens -= n;
        return;
      }
      await sleep(Math.ceil(((need - this.tokens) * 60_000) / this.perMinute), signal);
    }
  }

  private refill(): void {
    const now = this.clockMs();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.atMs) * this.perMinute) / 60_000);
    this.atMs = now;
  }
}

/** A timer that ends early (rejecting) when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
