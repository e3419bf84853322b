/**
 * Gateway-wide cache for upstream list calls (pipelines of a project, runners,
 * projects): concurrent identical requests share one upstream call
 * (single-flight), and a result is reused while younger than the TTL.
 * Callers overlay the live state on top, so webhooks keep cached lists current.
 */
export class ListCache {
  private readonly entries = new Map<string, { at: number; value: Promise<unknown> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly maxEntries = 5_000,
  ) {}

  /** `ttlMs` overrides the cache's own for this lookup (a caller that knows the state behind it is kept current). */
  get<T>(key: string, load: () => Promise<T>, ttlMs = this.ttlMs): Promise<T> {
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < ttlMs) return hit.value as Promise<T>;
    const value = load();
    this.entries.set(key, { at: now, value });
    // A failure is not cached: the next query asks again.
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}
