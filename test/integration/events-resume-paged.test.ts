/**
 * A resume over a long history reads it page by page, at the subscriber's
 * pace: memory is bounded by one page plus the subscriber's queue, never the
 * whole history (200 resuming subscribers used to cost 650 MB with Redis).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { EventBus } from '../../src/events/event-bus.ts';
import { formatCursor } from '../../src/events/event-cursor.ts';
import type { RunnerEvent } from '../../src/events/event-types.ts';
import { MemoryEventStore } from '../../src/events/memory-event-store.ts';
import { RedisEventStore } from '../../src/events/redis-event-store.ts';
import { runnerEvent } from '../helpers/runner-events.ts';
import { waitFor } from '../helpers/stack.ts';

const EVENTS = 5000;
const PAGE = 100;
const QUEUE = 64;

/** Reads every event of a resumed stream, checking it is 1..EVENTS-1 in order. */
async function readAll(iterator: AsyncIterator<RunnerEvent>): Promise<number[]> {
  const sequences: number[] = [];
  while (sequences.length < EVENTS - 1) {
    const next = await iterator.next();
    if (next.done) break;
    sequences.push(next.value.sequence);
  }
  return sequences;
}
const expected = Array.from({ length: EVENTS - 1 }, (_, i) => i + 1);

describe('resume over a long history, read in pages', () => {
  const prefix = `switchyard:test:paged:${randomUUID()}:`;
  const redis = new Redis('redis://127.0.0.1:6379');
  afterAll(async () => {
    for (;;) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length === 0) break;
      for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
    }
    redis.disconnect();
  });

  it('should deliver 5,000 events from Redis in order, once each, reading pages only as the subscriber consumes', async () => {
    let store!: RedisEventStore;
    let appended = 0;
    const limits = { maxEvents: 100_000, maxAgeSeconds: 600 };
    const bus = new EventBus(QUEUE, (deliver) => (store = new RedisEventStore(deliver, {
      redisUrl: 'redis://127.0.0.1:6379', streamPrefix: prefix, limits, log: pino({ level: 'silent' }),
      hooks: { appended: (_e, error) => { if (!error) appended++; } },
    })), PAGE);
    for (let i = 0; i < EVENTS; i++) bus.publish(runnerEvent(`r${i}`, i));
    await waitFor(() => appended === EVENTS, 30_000, 'every event stored');
    const [[firstId]] = (await redis.xrange(`${prefix}Runner`, '-', '+', 'COUNT', 1)) as unknown as [[string]];
    const after = formatCursor('r', (await redis.get(`${prefix}epoch`))!, firstId);

    const commands = (store as unknown as { commands: Redis }).commands;
    const xrange = vi.spyOn(commands, 'xrange');
    const resumed = bus.subscribe('Runner', () => true, after);
    // The subscriber has not read yet: its queue fills, then the replay waits for it.
    await waitFor(() => resumed.full, 10_000, 'the queue to fill');
    expect(xrange.mock.calls.length).toBeLessThanOrEqual(2);

    expect(await readAll(resumed)).toEqual(expected);
    const counts = xrange.mock.calls.map((call) => Number(call[call.length - 1]));
    const replies = await Promise.all(xrange.mock.results.map((r) => r.value as Promise<unknown[]>));
    console.info(JSON.stringify({ pagedResume: { store: 'redis', events: EVENTS, reads: counts.length, largestPage: Math.max(...replies.map((r) => r.length)) } }));
    expect(Math.max(...counts)).toBe(PAGE + 1);
    expect(Math.max(...replies.map((r) => r.length))).toBeLessThanOrEqual(PAGE + 1);
    expect(counts.length).toBeGreaterThanOrEqual(Math.ceil((EVENTS - 1) / PAGE));
    await resumed.return();
    await bus.close();
  }, 60_000);

  it('should deliver 5,000 events from memory in order, once each, reading pages only as the subscriber consumes', async () => {
    let store!: MemoryEventStore;
    const bus = new EventBus(QUEUE, (deliver) => (store = new MemoryEventStore(deliver, { maxEvents: 10_000, maxAgeSeconds: 600 })), PAGE);
    const first = bus.subscribe('Runner', () => true);
    bus.publish(runnerEvent('r0', 0));
    const after = (await first.next()).value!.cursor;
    await first.return();
    for (let i = 1; i < EVENTS; i++) bus.publish(runnerEvent(`r${i}`, i));

    const reads = vi.spyOn(store, 'readAfter');
    const resumed = bus.subscribe('Runner', () => true, after);
    await waitFor(() => resumed.full, 10_000, 'the queue to fill');
    expect(reads.mock.calls.length).toBe(1);
    expect(await readAll(resumed)).toEqual(expected);
    const pages = reads.mock.results.map((r) => (r.value as { events: unknown[] }).events.length);
    expect(Math.max(...pages)).toBe(PAGE);
    expect(pages.length).toBe(Math.ceil((EVENTS - 1) / PAGE));
    await resumed.return();
  });
});
