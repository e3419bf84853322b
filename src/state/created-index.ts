/**
 * Ids ordered by creation time, read newest first: the order of the pipeline
 * lists, so a page needs only its first matches instead of a sort of all.
 * A sorted array: runs mostly arrive newest (an append) and leave oldest
 * (LRU eviction), and a binary search finds any place in O(log n).
 */
export class CreatedIndex {
  private readonly times: number[] = [];
  private readonly ids: string[] = [];

  get size(): number {
    return this.ids.length;
  }

  add(time: number, id: string): void {
    const at = this.place(time, id);
    if (this.times[at] === time && this.ids[at] === id) return;
    if (at === this.ids.length) {
      this.times.push(time);
      this.ids.push(id);
      return;
    }
    this.times.splice(at, 0, time);
    this.ids.splice(at, 0, id);
  }

  remove(time: number, id: string): void {
    const at = this.place(time, id);
    if (this.times[at] !== time || this.ids[at] !== id) return;
    this.times.splice(at, 1);
    this.ids.splice(at, 1);
  }

  /** Ids newest first (ties by id, descending), from those created at or before `atOrBefore`. */
  *newestFirst(atOrBefore = Infinity): Generator<{ time: number; id: string }> {
    let i = atOrBefore === Infinity ? this.ids.length - 1 : this.place(atOrBefore, null) - 1;
    for (; i >= 0; i--) yield { time: this.times[i]!, id: this.ids[i]! };
  }

  /** The first position whose (time, id) is not below the given one; `id` null means past every id at `time`. */
  private place(time: number, id: string | null): number {
    let lo = 0, hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const t = this.times[mid]!;
      const below = t < time || (t === time && (id === null || this.ids[mid]! < id));
      if (below) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** The index time of a creation timestamp: unparsable sorts as oldest, like the pages' order (key 0). */
export function createdTime(createdAt: string | null): number {
  const t = createdAt ? Date.parse(createdAt) : 0;
  return Number.isNaN(t) ? 0 : t;
}
