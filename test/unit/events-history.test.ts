import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events/event-bus.ts';
import { formatCursor, newEpoch, parseCursor } from '../../src/events/event-cursor.ts';
import type { Deliver, EventStore, HistoryRead } from '../../src/events/event-store.ts';
import type { ChangeEvent, RunnerEvent, WithCursor } from '../../src/events/event-types.ts';
import { MemoryEventStore } from '../../src/events/memory-event-store.ts';
import { runnerEvent as event } from '../helpers/runner-events.ts';

const tick = () => new Promise((r) => setImmediate(r));

/** Everything queued in the iterator right now (never waits for more). */
async function drain<T>(it: { size: number; next(): Promise<IteratorResult<T>> }): Promise<T[]> {
  const out: T[] = [];
  while (it.size > 0) out.push((await it.next()).value as T);
  return out;
}

function memoryBus(limits = { maxEvents: 100, maxAgeSeconds: 3600 }, now: () => number = Date.now, queueLimit = 1000) {
  let store: MemoryEventStore | undefined;
  const bus = new EventBus(queueLimit, (deliver) => (store = new MemoryEventStore(deliver, limits, now)));
  return { bus, store: store! };
}

describe('event cursors and history (in memory)', () => {
  it('should give every event an increasing cursor under one epoch', async () => {
    const { bus, store } = memoryBus();
    const it = bus.subscribe('Runner', () => true);
    for (let i = 0; i < 5; i++) bus.publish(event('a', i));
    const got = await drain(it);
    const parsed = got.map((e) => parseCursor(e.cursor)!);
    expect(parsed.map((p) => p.epoch)).toEqual(Array(5).fill(store.epoch));
    expect(parsed.map((p) => Number(p.position[0]))).toEqual([1, 2, 3, 4, 5]);
  });

  it('should replay what came after the cursor, then go live, filtered', async () => {
    const { bus } = memoryBus();
    const first = bus.subscribe('Runner', () => true);
    for (let i = 0; i < 6; i++) bus.publish(event(i % 2 ? 'odd' : 'even', i));
    const seen = await drain(first);
    await first.return();
    const resumed = bus.subscribe('Runner', (e) => e.runner.name === 'even', seen[1]!.cursor);
    bus.publish(event('even', 6)); // published while the history is being read: buffered, not lost
    await tick();
    bus.publish(event('even', 8));
    bus.publish(event('odd', 9));
    expect((await drain(resumed)).map((e) => e.sequence)).toEqual([2, 4, 6, 8]);
  });

  it('should end with HISTORY_LOST when events after the cursor were evicted by count', async () => {
    const { bus } = memoryBus({ maxEvents: 3, maxAgeSeconds: 3600 });
    const first = bus.subscribe('Runner', () => true);
    bus.publish(event('a', 0));
    const [e0] = await drain(first);
    for (let i = 1; i < 5; i++) bus.publish(event('a', i));
    // Retained: #2..#4. After #1 nothing is missing; after #0, #1 is gone.
    const ok = bus.subscribe('Runner', () => true, (await drain(first))[0]!.cursor);
    await tick();
    expect((await drain(ok)).map((e) => e.sequence)).toEqual([2, 3, 4]);
    const lost = bus.subscribe('Runner', () => true, e0!.cursor);
    await expect(lost.next()).rejects.toMatchObject({ extensions: { code: 'HISTORY_LOST' }, message: expect.stringMatching(/Refetch/) });
    expect((await lost.next()).done).toBe(true);
    await first.return();
    await ok.return();
    expect(bus.subscriberCount).toBe(0);
  });

  it('should end with HISTORY_LOST when events after the cursor are older than the age limit', async () => {
    let now = 1_000_000;
    const { bus } = memoryBus({ maxEvents: 100, maxAgeSeconds: 60 }, () => now);
    const first = bus.subscribe('Runner', () => true);
    bus.publish(event('a', 0));
    bus.publish(event('a', 1));
    const [e0] = await drain(first);
    now += 61_000;
    const lost = bus.subscribe('Runner', () => true, e0!.cursor);
    await expect(lost.next()).rejects.toMatchObject({ extensions: { code: 'HISTORY_LOST' } });
  });

  it('should end with HISTORY_LOST for a cursor of another epoch, and BAD_USER_INPUT for garbage', async () => {
    const { bus } = memoryBus();
    const other = bus.subscribe('Runner', () => true, formatCursor('m', newEpoch(), 1));
    await expect(other.next()).rejects.toMatchObject({ extensions: { code: 'HISTORY_LOST' } });
    const redis = bus.subscribe('Runner', () => true, formatCursor('r', newEpoch(), '1700000000000-0'));
    await expect(redis.next()).rejects.toMatchObject({ extensions: { code: 'HISTORY_LOST' } });
    const garbage = bus.subscribe('Runner', () => true, 'not-a-cursor');
    await expect(garbage.next()).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(bus.subscriberCount).toBe(0);
  });

  it('should replay a history longer than the queue at the reader\'s pace, without overflowing', async () => {
    const { bus } = memoryBus({ maxEvents: 1000, maxAgeSeconds: 3600 }, Date.now, 16);
    const first = bus.subscribe('Runner', () => true);
    bus.publish(event('a', 0));
    const [e0] = await drain(first);
    await first.return();
    for (let i = 1; i <= 200; i++) bus.publish(event('a', i));
    const resumed = bus.subscribe('Runner', () => true, e0!.cursor);
    const got: number[] = [];
    for (let i = 1; i <= 200; i++) {
      if (i === 100) bus.publish(event('a', 201)); // live, mid-replay
      got.push((await resumed.next()).value.sequence);
    }
    got.push((await resumed.next()).value.sequence);
    bus.publish(event('a', 202));
    got.push((await resumed.next()).value.sequence);
    expect(got).toEqual(Array.from({ length: 202 }, (_, i) => i + 1));
    expect(resumed.size).toBe(0);
  });

  it('should resume from a cursor at the head (nothing missed) and simply go live', async () => {
    const { bus } = memoryBus();
    const first = bus.subscribe('Runner', () => true);
    bus.publish(event('a', 0));
    const [e0] = await drain(first);
    const resumed = bus.subscribe('Runner', () => true, e0!.cursor);
    await tick();
    bus.publish(event('a', 1));
    expect((await drain(resumed)).map((e) => e.sequence)).toEqual([1]);
  });
});

/**
 * A store that behaves like the Redis one at its worst: an event enters the
 * history at append but reaches the live listeners only later (reader lag),
 * and a history read answers at some later moment.
 */
class LaggingStore implements EventStore {
  readonly epoch = newEpoch();
  readonly history: WithCursor<ChangeEvent>[] = [];
  readonly pending: WithCursor<ChangeEvent>[] = [];
  readonly reads: { cursor: string; limit: number; resolve: (r: HistoryRead<WithCursor<ChangeEvent>>) => void }[] = [];
  private seq = 0;
  constructor(private readonly deliver: Deliver) {}
  append(event: ChangeEvent): void {
    const cursored = { ...event, cursor: formatCursor('m', this.epoch, ++this.seq) } as WithCursor<ChangeEvent>;
    this.history.push(cursored);
    this.pending.push(cursored);
  }
  deliverOne(): void {
    const e = this.pending.shift();
    if (e) this.deliver(e);
  }
  answerReads(): void {
    for (const read of this.reads.splice(0)) {
      const after = Number(parseCursor(read.cursor)!.position[0]);
      const rest = this.history.filter((e) => Number(parseCursor(e.cursor)!.position[0]) > after);
      const events = rest.slice(0, read.limit);
      read.resolve({ ok: true, events, next: rest.length > read.limit ? events.at(-1)!.cursor : null });
    }
  }
  readAfter(_type: ChangeEvent['type'], cursor: string, limit: number): Promise<HistoryRead<never>> {
    return new Promise((resolve) => this.reads.push({ cursor, limit, resolve: resolve as never }));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('resume: replay then live, under any interleaving', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('publish' as const), entity: fc.constantFrom('a', 'b', 'c') }),
    fc.record({ kind: fc.constant('deliver' as const) }),
    fc.record({ kind: fc.constant('answer' as const) }),
    fc.record({ kind: fc.constant('tick' as const) }),
  );

  it('should deliver every matching event after the cursor exactly once, in order (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 0, maxLength: 15 }),
        fc.nat(),
        fc.array(op, { maxLength: 40 }),
        fc.subarray(['a', 'b', 'c'], { minLength: 1 }),
        async (before, pick, ops, wanted) => {
          let store!: LaggingStore;
          // Pages of 3: a resume takes several reads, each answered at any moment.
          const bus = new EventBus(1000, (deliver) => (store = new LaggingStore(deliver)), 3);
          let n = 0;
          // Some history, some of it not yet delivered live when the subscriber arrives.
          for (const entity of before) bus.publish(event(entity, n++));
          const delivered = pick % (before.length + 1);
          for (let i = 0; i < delivered; i++) store.deliverOne();
          const afterIndex = before.length ? pick % before.length : -1;
          const after = afterIndex >= 0 ? store.history[afterIndex]!.cursor : formatCursor('m', store.epoch, 0);
          const sub = bus.subscribe('Runner', (e) => wanted.includes(e.runner.name), after);
          for (const o of ops) {
            if (o.kind === 'publish') bus.publish(event(o.entity, n++));
            else if (o.kind === 'deliver') store.deliverOne();
            else if (o.kind === 'answer') store.answerReads();
            else await tick();
          }
          // Answer the remaining pages one read at a time until the resume is through.
          for (let i = 0; i < 30; i++) {
            store.answerReads();
            await tick();
          }
          while (store.pending.length) store.deliverOne();
          const got = (await drain(sub)).map((e) => e.sequence);
          const expected = store.history
            .slice(afterIndex + 1)
            .filter((e) => wanted.includes((e as RunnerEvent).runner.name))
            .map((e) => e.sequence);
          expect(got).toEqual(expected);
          await sub.return();
          expect(bus.subscriberCount).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('should deliver every matching event exactly once with the real in-memory store (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.constantFrom('a', 'b'), fc.constant('tick')), { maxLength: 40 }), fc.nat(), async (ops, pick) => {
        const { bus } = memoryBus();
        const all = bus.subscribe('Runner', () => true);
        let n = 0;
        for (let i = 0; i < 5; i++) bus.publish(event('a', n++));
        const history = await drain(all);
        const from = pick % history.length;
        const sub = bus.subscribe('Runner', (e) => e.runner.name === 'a', history[from]!.cursor);
        for (const o of ops) {
          if (o === 'tick') await tick();
          else bus.publish(event(o, n++));
        }
        await tick();
        const everything = [...history, ...(await drain(all))];
        const expected = everything.slice(from + 1).filter((e) => e.runner.name === 'a').map((e) => e.sequence);
        expect((await drain(sub)).map((e) => e.sequence)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});
