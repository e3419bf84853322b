/**
 * Remembers, across requests, ids a backend answered "not found" for (404, or
 * outside its configured set), so a client repeating forged ids costs no
 * upstream request until the entry expires. Bounded: the oldest entry goes
 * first. An entity that later arrives (webhook, poll) is served from the live
 * state, which the loaders consult before this cache.
 */
export class NotFoundCache {
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  private key(type: string, backend: string, nativeId: string): string {
    return `${type}\u0000${backend}\u0000${nativeId}`;
  }

  has(type: string, backend: string, nativeId: string): boolean {
    const key = this.key(type, backend, nativeId);
    const expires = this.entries.get(key);
    if (expires === undefined) return false;
    if (expires > this.now()) return true;
    this.entries.delete(key);
    return false;
  }

  add(type: string, backend: string, nativeId: string): void {
    const key = this.key(type, backend, nativeId);
    this.entries.delete(key);
    this.entries.set(key, this.now() + this.ttlMs);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  /** Forgets every answer (a reload changed the backends: an id may exist now). */
  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
