import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { JobEvent } from '../../src/events/event-types.ts';
import type { Observation, SqlHistoryStore } from '../../src/history/history-store.ts';
import { StreamHistoryConsumer, type StreamConsumerOptions } from '../../src/history/stream-consumer.ts';
import type { JobModel } from '../../src/model.ts';
import { pgliteDatabase, type TestDatabase } from '../helpers/history-stores.ts';
import { waitFor } from '../helpers/stack.ts';

function jobEvent(i: number): JobEvent {
  const job: JobModel = {
    type: 'Job', backend: 'gh', nativeId: `j${i}`, revision: [1, i], projectNativeId: 'acme/web', pipelineNativeId: 'p1', name: `job-${i}`,
    status: 'SUCCESS', waitReason: null, native: { provider: 'github', status: 'completed', conclusion: 'success', failureReason: null },
    attempt: 1, url: null, labels: ['linux'], runnerNativeId: null, runnerName: null, branch: 'main',
    createdAt: '2026-01-01T10:00:00.000Z', queuedAt: null, startedAt: null, finishedAt: null, steps: [],
  };
  return { type: 'Job', job, previousStatus: null, sequence: i, source: 'WEBHOOK', receivedAt: '2026-01-01T10:01:00.000Z' };
}

/** The database as the consumer sees it: the real store, or (while `down`) a lost connection. */
function switchableStore(store: SqlHistoryStore) {
  const state = { down: false, attempts: 0 };
  const write = (batch: readonly Observation[]) => {
    state.attempts++;
    return state.down ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')) : store.record(batch);
  };
  return { state, write };
}

function logged() {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }) };
}

/** The history's health as the consumer sees it; the database "answers" unless `down` says otherwise. */
const health = (down: () => boolean) => ({ failed: () => {}, succeeded: () => {}, databaseAnswers: () => Promise.resolve(!down()) });

describe('history consumer group over the Redis event streams (real Redis, PGlite)', () => {
  const redis = new Redis('redis://127.0.0.1:6379');
  let prefix: string;
  let db: TestDatabase;
  let store: SqlHistoryStore;
  const consumers: StreamHistoryConsumer[] = [];
  const options = (over: Partial<StreamConsumerOptions> = {}): StreamConsumerOptions => ({
    redisUrl: 'redis://127.0.0.1:6379', streamPrefix: prefix, flushMs: 5, retryMs: 20, ...over,
  });
  const consumer = (write: (b: readonly Observation[]) => Promise<{ inserted: number }>, over: Partial<StreamConsumerOptions> = {}, log = pino({ level: 'silent' }), down = () => false) => {
    const c = new StreamHistoryConsumer(write, health(down), log, options(over));
    consumers.push(c);
    return c;
  };
  const publish = async (from: number, to: number) => {
    for (let i = from; i < to; i++) await redis.xadd(`${prefix}Job`, '*', 'e', JSON.stringify(jobEvent(i)));
  };
  const transitions = async () => (await store.query<{ n: number }>('SELECT count(*)::int AS n FROM transitions'))[0]!.n;
  const groupInfo = async () => {
    const groups = (await redis.xinfo('GROUPS', `${prefix}Job`)) as unknown[][];
    const g = groups[0];
    // Not created yet: the consumer makes its group when it starts.
    if (!g) return { pending: -1, lag: null };
    return { pending: Number(g[g.indexOf('pending') + 1]), lag: g[g.indexOf('lag') + 1] as number | null };
  };

  beforeAll(async () => {
    db = await pgliteDatabase();
  }, 90_000);
  afterAll(async () => {
    await db.drop();
    redis.disconnect();
  });
  beforeEach(async () => {
    prefix = `switchyard:test:hist:${randomUUID()}:`;
    store = await db.open();
    await store.migrate();
    await store.query('TRUNCATE transitions, pipelines, jobs');
  });
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.close()));
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  });

  it('records what the streams held before it started and what comes after, acknowledging each entry once committed', async () => {
    await publish(0, 5);
    const c = consumer((b) => store.record(b));
    c.start();
    await waitFor(async () => (await transitions()) === 5, 5000, 'the retained entries');
    await publish(5, 12);
    await waitFor(async () => (await transitions()) === 12, 5000, 'the new entries');
    await waitFor(async () => (await groupInfo()).pending === 0, 5000, 'every entry acknowledged');
    expect(c.stats).toMatchObject({ written: 12, lost: 0, gaps: 0 });
    expect((await groupInfo()).lag).toBe(0);
  });

  it('holds what it read and leaves the rest unread while the database is down, then catches up: nothing lost, nothing acknowledged early', async () => {
    const { state, write } = switchableStore(store);
    state.down = true;
    const c = consumer(write, { maxBatch: 4 }, undefined, () => state.down);
    await publish(0, 10);
    c.start();
    await waitFor(() => state.attempts >= 3, 5000, 'retries against the lost database');
    // One batch read and held (pending, not acknowledged); the rest never read.
    expect(await groupInfo()).toEqual({ pending: 4, lag: 6 });
    expect(c.stats.holding).toBe(4);
    await publish(10, 15);
    state.down = false;
    await waitFor(async () => (await transitions()) === 15, 10_000, 'the catch-up');
    await waitFor(async () => (await groupInfo()).pending === 0, 5000, 'every entry acknowledged');
    expect(c.stats).toMatchObject({ written: 15, lost: 0, holding: 0 });
  });

  it('claims what a dead instance read and never acknowledged', async () => {
    const { state, write } = switchableStore(store);
    state.down = true;
    const dead = consumer(write, { maxBatch: 3, consumer: 'dead' }, undefined, () => state.down);
    await publish(0, 7);
    dead.start();
    await waitFor(async () => (await groupInfo()).pending === 3, 5000, 'the dead instance to hold a batch');
    // It dies: its last attempt fails too, the entries stay pending under its name.
    await dead.close();
    expect((await groupInfo()).pending).toBe(3);
    const alive = consumer((b) => store.record(b), { claimIdleMs: 50, claimEveryMs: 50, consumer: 'alive' });
    alive.start();
    await waitFor(async () => (await transitions()) === 7, 5000, 'the claimed and the unread entries');
    await waitFor(async () => (await groupInfo()).pending === 0, 5000, 'every entry acknowledged');
    expect(alive.stats.written).toBe(7);
  });

  it('records the rest of a batch the database refuses one row of, and logs and skips that row instead of retrying it forever', async () => {
    const { lines, log } = logged();
    const c = consumer((b) => store.record(b), {}, log);
    await publish(0, 2);
    const poison = jobEvent(2);
    await redis.xadd(`${prefix}Job`, '*', 'e', JSON.stringify({ ...poison, job: { ...poison.job, attempt: 'first' } }));
    await publish(3, 5);
    c.start();
    await waitFor(async () => c.stats.written + c.stats.rejected === 5, 10_000, 'every entry recorded or refused');
    await waitFor(async () => (await groupInfo()).pending === 0, 5000, 'every entry acknowledged');
    expect((await groupInfo()).lag).toBe(0);
    expect(await transitions()).toBe(4);
    expect(c.stats).toMatchObject({ written: 4, rejected: 1 });
    expect(lines.filter((l) => l.msg === 'history: the database refuses this change; it was skipped')).toEqual([expect.objectContaining({ level: 50, nativeId: 'j2' })]);
  });

  it('comes back when Redis lost its streams and groups (a restart without persistence)', async () => {
    const c = consumer((b) => store.record(b));
    await publish(0, 3);
    c.start();
    await waitFor(async () => (await transitions()) === 3, 5000, 'the first entries');
    await redis.del(`${prefix}Job`, `${prefix}Pipeline`, `${prefix}Runner`);
    await publish(3, 6);
    await waitFor(async () => (await transitions()) === 6, 10_000, 'the entries after the loss');
    await waitFor(async () => (await groupInfo()).pending === 0, 5000, 'every entry acknowledged');
  });

  it('reports, loudly and once, entries trimmed from a stream before the group read them (an outage longer than the stream retains)', async () => {
    const { state, write } = switchableStore(store);
    const { lines, log } = logged();
    state.down = true;
    const c = consumer(write, { maxBatch: 2 }, log, () => state.down);
    await publish(0, 2);
    c.start();
    await waitFor(async () => (await groupInfo()).pending === 2, 5000, 'a batch held');
    await publish(2, 12);
    // The stream keeps only its last 3 entries (events.historyMaxEvents): entries 0-8 leave it, 2-8 never read.
    await redis.xtrim(`${prefix}Job`, 'MAXLEN', 3);
    state.down = false;
    await waitFor(async () => (await transitions()) === 5, 10_000, 'the held batch and the retained entries');
    await waitFor(async () => (await groupInfo()).pending === 0, 5000, 'every entry acknowledged');
    const gaps = lines.filter((l) => String(l.msg).startsWith('HISTORY GAP'));
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ level: 50, lost: 7, stream: `${prefix}Job` });
    expect(c.stats).toMatchObject({ lost: 7, gaps: 1, written: 5 });
    // The group's counters are true again: no phantom lag, and the gap is not reported twice.
    expect((await groupInfo()).lag).toBe(0);
    await publish(12, 13);
    await waitFor(async () => (await transitions()) === 6, 5000, 'one more entry');
    expect(lines.filter((l) => String(l.msg).startsWith('HISTORY GAP'))).toHaveLength(1);
  });
});
