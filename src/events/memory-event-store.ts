import type { ChangeEvent, ChangeEventByType, EventType, WithCursor } from './event-types.ts';
import { formatCursor, newEpoch, parseCursor } from './event-cursor.ts';
import type { Deliver, EventStore, EventStoreHooks, HistoryLimits, HistoryRead } from './event-store.ts';

interface Entry {
  readonly seq: number;
  readonly at: number;
  readonly event: WithCursor<ChangeEvent>;
}

/** One event type's history: a ring (array + head, compacted) bounded by count and age. */
class Ring {
  private entries: Entry[] = [];
  private head = 0;
  /** Highest sequence number evicted: a cursor below it has lost events. */
  evictedMax = 0;

  constructor(private readonly limits: HistoryLimits) {}

  push(entry: Entry): void {
    this.entries.push(entry);
    while (this.size > this.limits.maxEvents) this.evict();
    this.trimAge(entry.at);
  }

  trimAge(now: number): void {
    const oldest = now - this.limits.maxAgeSeconds * 1000;
    while (this.size > 0 && this.entries[this.head]!.at < oldest) this.evict();
  }

  get size(): number {
    return this.entries.length - this.head;
  }

  /** At most `limit` entries with seq > after, oldest first (binary search: seqs increase); `more` when others follow. */
  after(after: number, limit: number): { entries: Entry[]; more: boolean } {
    let lo = this.head;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.seq <= after) lo = mid + 1;
      else hi = mid;
    }
    const end = Math.min(this.entries.length, lo + limit);
    return { entries: this.entries.slice(lo, end), more: end < this.entries.length };
  }

  private evict(): void {
    this.evictedMax = this.entries[this.head]!.seq;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * The embedded default: cursors are a per-process sequence under a random
 * epoch, history is a bounded ring per event type, delivery is synchronous.
 */
export class MemoryEventStore implements EventStore {
  readonly epoch = newEpoch();
  private seq = 0;
  private readonly rings: Record<EventType, Ring>;

  constructor(
    private readonly deliver: Deliver,
    limits: HistoryLimits,
    private readonly now: () => number = Date.now,
    private readonly hooks: EventStoreHooks = {},
  ) {
    this.rings = { Job: new Ring(limits), Pipeline: new Ring(limits), Runner: new Ring(limits) };
  }

  append(event: ChangeEvent): void {
    const seq = ++this.seq;
    const cursored = { ...event, cursor: formatCursor('m', this.epoch, seq) } as WithCursor<ChangeEvent>;
    this.rings[event.type].push({ seq, at: this.now(), event: cursored });
    this.deliver(cursored);
    this.hooks.appended?.(event, null);
  }

  readAfter<K extends EventType>(type: K, cursor: string, limit: number): HistoryRead<WithCursor<ChangeEventByType[K]>> {
    const parsed = parseCursor(cursor);
    if (!parsed || parsed.position[1] !== 0n) return { ok: false, reason: 'invalid', detail: 'not a cursor' };
    if (parsed.store !== 'm' || parsed.epoch !== this.epoch) return { ok: false, reason: 'lost', detail: 'the cursor is from another gateway process or an earlier start' };
    const position = Number(parsed.position[0]);
    if (position > this.seq) return { ok: false, reason: 'lost', detail: 'the cursor is ahead of this gateway' };
    const ring = this.rings[type];
    ring.trimAge(this.now());
    if (ring.evictedMax > position) return { ok: false, reason: 'lost', detail: 'events after the cursor are no longer retained' };
    const page = ring.after(position, limit);
    const events = page.entries.map((e) => e.event as WithCursor<ChangeEventByType[K]>);
    return { ok: true, events, next: page.more && events.length > 0 ? events.at(-1)!.cursor : null };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
