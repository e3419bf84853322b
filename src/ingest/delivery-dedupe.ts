/**
 * Remembers delivery ids for `ttlMs` (bounded by `maxEntries`) so a redelivered
 * or replayed webhook has no second effect. GitHub redeliveries keep the same
 * X-GitHub-Delivery; GitLab retries keep Idempotency-Key.
 */
export class DeliveryDedupe {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  /** True the first time a key is seen within the TTL; records it. */
  firstSeen(key: string): boolean {
    const now = this.now();
    const at = this.seen.get(key);
    if (at !== undefined && now - at < this.ttlMs) return false;
    this.seen.delete(key);
    this.seen.set(key, now);
    this.prune(now);
    return true;
  }

  /** Forget a key, so a delivery that failed to apply can be retried. */
  forget(key: string): void {
    this.seen.delete(key);
  }

  private prune(now: number): void {
    for (const [k, at] of this.seen) {
      if (this.seen.size <= this.maxEntries && now - at < this.ttlMs) break;
      this.seen.delete(k);
    }
  }
}
