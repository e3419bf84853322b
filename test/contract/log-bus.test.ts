import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createLogChunkBus } from '../../src/logs/bus/create-log-bus.ts';
import { LogBusUnavailableError } from '../../src/logs/bus/log-bus-error.ts';
import { MemoryLogChunkBus } from '../../src/logs/bus/memory-log-bus.ts';
import { RedisLogChunkBus, type RedisLogBusOptions } from '../../src/logs/bus/redis-log-bus.ts';
import { compareStreamIds } from '../../src/logs/bus/stream-waiter.ts';
import type { LogChunkBus, LogChunkModel, LogSectionModel } from '../../src/logs/log-types.ts';
import { freePort } from '../helpers/free-port.ts';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.ts';

/**
 * The LogChunkBus contract (src/logs/log-types.ts) over the memory bus and the Redis bus. "a"
 * is the instance that tails and publishes, "b" another instance: for Redis a second bus object
 * on the same Redis, for memory the same object (one instance, nothing shared). Semantics that
 * differ are declared per implementation (`claims`) and asserted as declared.
 */
const REDIS_URL = 'redis://127.0.0.1:6379';
const silent = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Limits {
  readonly retainBytes: number;
  readonly expireMs: number;
}

interface BusPair {
  readonly a: LogChunkBus;
  readonly b: LogChunkBus;
  /** Lets `ms` pass for leases, interest marks and expiry (a fake clock, or real time for Redis). */
  elapse(ms: number): Promise<void>;
  /** Resolves once b's follow is waiting for a new chunk (a barrier, so a test acts on a waiting follow). */
  followWaiting(): Promise<void>;
  close(): Promise<void>;
}

interface BusSubject {
  readonly name: string;
  readonly claims: 'exclusive' | { readonly alwaysGranted: string };
  open(limits: Limits): Promise<BusPair>;
}

const memory: BusSubject = {
  name: 'memory',
  claims: { alwaysGranted: 'one instance: nothing to share a tail with, so the claim is always this instance\'s' },
  async open({ retainBytes, expireMs }) {
    let now = 1_000_000;
    const bus = new MemoryLogChunkBus(retainBytes, () => now, expireMs);
    return {
      a: bus,
      b: bus,
      elapse: async (ms) => {
        now += ms;
      },
      // A follow that finds nothing waits within the same turn of the event loop.
      followWaiting: () => new Promise((resolve) => setImmediate(resolve)),
      close: () => bus.close(),
    };
  },
};

/** Every Redis bus of this file, with the prefix its keys live under (deleted after each test). */
const prefixes: string[] = [];
function redisOptions(limits: Limits, prefix: string, extra: Partial<RedisLogBusOptions> = {}): RedisLogBusOptions {
  return { redisUrl: REDIS_URL, keyPrefix: prefix, ...limits, log: silent, ...extra };
}

const redis: BusSubject = {
  name: 'redis',
  claims: 'exclusive',
  async open(limits) {
    const prefix = `switchyard:test:logbus:${randomUUID()}:`;
    prefixes.push(prefix);
    const connectionName = `switchyard-logs-test-${randomUUID()}`;
    const a = new RedisLogChunkBus(redisOptions(limits, prefix));
    const b = new RedisLogChunkBus(redisOptions(limits, prefix, { connectionName }));
    return {
      a, b, elapse: sleep,
      followWaiting: () => readerBlocked(connectionName),
      close: async () => void (await Promise.all([a.close(), b.close()])),
    };
  },
};

let admin: Redis | null = null;
const adminRedis = () => (admin ??= new Redis(REDIS_URL, { maxRetriesPerRequest: 2 }));
async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, page] = await adminRedis().scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...page);
  } while (cursor !== '0');
  return keys;
}

afterEach(async () => {
  for (const prefix of prefixes.splice(0)) {
    const keys = await keysUnder(prefix);
    if (keys.length > 0) await adminRedis().del(...keys);
  }
});
afterAll(async () => {
  await admin?.quit();
});

/** Until the follow reader of the bus named `connectionName` is blocked in XREAD (CLIENT LIST flags=b). */
async function readerBlocked(connectionName: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const clients = (await adminRedis().client('LIST')) as string;
    const reader = clients.split('\n').find((line) => line.includes(` name=${connectionName}-follow `));
    if (reader && / flags=b /.test(reader) && / cmd=xread /.test(reader)) return;
    expect(attempt, 'the follow never blocked').toBeLessThan(500);
    await sleep(10);
  }
}

/** Contiguous chunks of `texts` from byte `start`; the last one complete when asked. */
function chunksOf(texts: readonly string[], options: { start?: number; complete?: boolean; sections?: (i: number, offset: number) => LogSectionModel[] } = {}): LogChunkModel[] {
  let offset = options.start ?? 0;
  return texts.map((text, i) => {
    const nextOffset = offset + Buffer.byteLength(text);
    const chunk: LogChunkModel = {
      offset, nextOffset, text,
      sections: options.sections?.(i, offset) ?? [],
      complete: options.complete === true && i === texts.length - 1,
    };
    offset = nextOffset;
    return chunk;
  });
}
const lines = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `\u001b[32mline ${from + i}\u001b[0m ok\n`);

async function publishAll(bus: LogChunkBus, jobKey: string, chunks: readonly LogChunkModel[]): Promise<void> {
  for (const chunk of chunks) await bus.publish(jobKey, chunk);
}

/** Everything a follow yields until it ends (after a complete chunk, or aborted). */
async function collect(iterable: AsyncIterable<LogChunkModel>): Promise<LogChunkModel[]> {
  const seen: LogChunkModel[] = [];
  for await (const chunk of iterable) seen.push(chunk);
  return seen;
}

const never = () => new AbortController().signal;
const LIMITS: Limits = { retainBytes: 1 << 20, expireMs: 60_000 };

describe.each([memory, redis])('log chunk bus: $name', (subject) => {
  let pair: BusPair | null = null;
  const open = async (limits: Limits = LIMITS) => (pair = await subject.open(limits));
  afterEach(async () => {
    await pair?.close();
    pair = null;
  });
  const job = () => `job-${randomUUID()}`;

  it('declares whether claims are exclusive between instances', () => {
    if (subject.claims !== 'exclusive') expect(subject.claims.alwaysGranted.trim().length).toBeGreaterThan(0);
  });

  it('claim: held by one instance at a time and renewed by its holder (memory: always granted, as declared)', async () => {
    const { a, b } = await open();
    const key = job();
    expect(await a.claim(key, 10_000)).toBe(true);
    const exclusive = subject.claims === 'exclusive';
    expect(await b.claim(key, 10_000)).toBe(!exclusive);
    expect(await a.claim(key, 10_000)).toBe(true);
    expect(await b.claim(key, 10_000)).toBe(!exclusive);
    // Another job's claim is independent.
    expect(await b.claim(job(), 10_000)).toBe(true);
  });

  it('claim: a lapsed lease lets another instance take over, and the old holder cannot renew', async () => {
    const { a, b, elapse } = await open();
    const key = job();
    expect(await a.claim(key, 150)).toBe(true);
    await elapse(300);
    expect(await b.claim(key, 10_000)).toBe(true);
    expect(await a.claim(key, 10_000)).toBe(subject.claims !== 'exclusive');
  });

  it('release: only the holder gives the claim up, and then another instance takes it at once', async () => {
    const { a, b } = await open();
    const key = job();
    const exclusive = subject.claims === 'exclusive';
    expect(await a.claim(key, 10_000)).toBe(true);
    await b.release(key);
    expect(await b.claim(key, 10_000)).toBe(!exclusive);
    await a.release(key);
    expect(await b.claim(key, 10_000)).toBe(true);
    expect(await a.claim(key, 10_000)).toBe(!exclusive);
  });

  it('follow after publish: every chunk once, in order, identical, ending after the complete chunk', async () => {
    const { a, b } = await open();
    const key = job();
    const chunks = chunksOf(lines(30), {
      complete: true,
      sections: (i, offset) => (i % 10 === 0 ? [{ marker: 'START', name: `step_${i}`, offset, at: i === 0 ? null : '2026-12-05T10:00:00Z' }] : []),
    });
    await publishAll(a, key, chunks);
    expect(await collect(b.follow(key, 0, never()))).toEqual(chunks);
  });

  it('follow while publishing: no gap and no duplicate, whether the follower waits or lags', async () => {
    const { a, b } = await open();
    const key = job();
    const chunks = chunksOf(lines(40), { complete: true });
    const iterator = b.follow(key, 0, never())[Symbol.asyncIterator]();
    const seen: LogChunkModel[] = [];
    // Lock-step for the first half: the follower is waiting when each chunk is published...
    for (const chunk of chunks.slice(0, 20)) {
      const next = iterator.next();
      await a.publish(key, chunk);
      const result = await next;
      seen.push(result.value as LogChunkModel);
    }
    // ...then a burst it reads behind.
    await publishAll(a, key, chunks.slice(20));
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) seen.push(r.value);
    expect(seen).toEqual(chunks);
  });

  it('follow from the middle: from a chunk start, from inside a chunk, and from a chunk end', async () => {
    const { a, b } = await open();
    const key = job();
    const chunks = chunksOf(lines(10), { complete: true });
    await publishAll(a, key, chunks);
    const from = async (offset: number) => collect(b.follow(key, offset, never()));
    expect(await from(chunks[4]!.offset)).toEqual(chunks.slice(4));
    // Inside chunk 4: the bus hands over the whole chunk, the caller cuts it.
    expect(await from(chunks[4]!.offset + 3)).toEqual(chunks.slice(4));
    expect(await from(chunks[4]!.nextOffset)).toEqual(chunks.slice(5));
  });

  it('an empty complete chunk ends the follow', async () => {
    const { a, b } = await open();
    const key = job();
    const [first] = chunksOf(['one\n']);
    const end: LogChunkModel = { offset: first!.nextOffset, nextOffset: first!.nextOffset, text: '', sections: [], complete: true };
    await publishAll(a, key, [first!, end]);
    expect(await collect(b.follow(key, 0, never()))).toEqual([first, end]);
    expect(await collect(b.follow(key, end.offset, never()))).toEqual([end]);
  });

  it('a follow from the end of a finished log ends at once, with an empty complete chunk (no text repeated)', async () => {
    const { a, b } = await open();
    const key = job();
    const chunks = chunksOf(['one\n', 'two\n'], { complete: true });
    await publishAll(a, key, chunks);
    const end = chunks[1]!.nextOffset;
    expect(await collect(b.follow(key, end, never()))).toEqual([{ offset: end, nextOffset: end, text: '', sections: [], complete: true }]);
  });

  it('a follow that joins before anything is published yields the first published chunk first', async () => {
    const { a, b } = await open();
    const key = job();
    const [first, second] = chunksOf(['one\n', 'two\n'], { complete: true });
    const iterator = b.follow(key, 0, never())[Symbol.asyncIterator]();
    const next = iterator.next();
    await pair!.followWaiting();
    await a.publish(key, first!);
    // The published chunk is the barrier: nothing (invented or stale) arrived before it.
    expect(await next).toEqual({ done: false, value: first });
    const after = iterator.next();
    await a.publish(key, second!);
    expect(await after).toEqual({ done: false, value: second });
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it('trimming keeps the newest chunks within retainBytes, and a follow from 0 then starts later', async () => {
    const { a, b } = await open({ retainBytes: 100, expireMs: 60_000 });
    const key = job();
    // Ten chunks of 30 bytes: the newest three (90 bytes) fit in 100, four (120) do not.
    const chunks = chunksOf(Array.from({ length: 10 }, (_, i) => `${'x'.repeat(27)}${i}:\n`), { complete: true });
    await publishAll(a, key, chunks);
    const followed = await collect(b.follow(key, 0, never()));
    expect(followed).toEqual(chunks.slice(7));
    expect(followed[0]!.offset).toBeGreaterThan(0);
  });

  it('trimming keeps the newest chunk even when it alone exceeds retainBytes', async () => {
    const { a, b } = await open({ retainBytes: 100, expireMs: 60_000 });
    const key = job();
    const chunks = chunksOf(['a\n', `${'y'.repeat(499)}\n`], { complete: true });
    await publishAll(a, key, chunks);
    expect(await collect(b.follow(key, 0, never()))).toEqual(chunks.slice(1));
  });

  it('abort ends a waiting follow promptly, and a follow aborted before it starts yields nothing', async () => {
    const { a, b } = await open();
    const key = job();
    const [first] = chunksOf(['one\n']);
    await a.publish(key, first!);
    const controller = new AbortController();
    const iterator = b.follow(key, 0, controller.signal)[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toEqual(first);
    const waiting = iterator.next();
    await pair!.followWaiting();
    const abortedAt = Date.now();
    controller.abort();
    expect(await waiting).toEqual({ done: true, value: undefined });
    // The Redis reader blocks up to 5 s per XREAD: ending well before that shows abort does not wait for it.
    expect(Date.now() - abortedAt).toBeLessThan(1000);
    expect(await collect(b.follow(key, 0, AbortSignal.abort()))).toEqual([]);
  });

  it('close ends the follows of that instance', async () => {
    const { b } = await open();
    const iterator = b.follow(job(), 0, never())[Symbol.asyncIterator]();
    const waiting = iterator.next();
    await pair!.followWaiting();
    await b.close();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(await collect(b.follow(job(), 0, never()))).toEqual([]);
  });

  it('interest: true while any instance\'s mark has not lapsed', async () => {
    const { a, b, elapse } = await open();
    const key = job();
    expect(await b.hasInterest(key)).toBe(false);
    await a.markInterest(key, 200);
    expect(await b.hasInterest(key)).toBe(true);
    await b.markInterest(key, 900);
    await elapse(400);
    expect(await a.hasInterest(key)).toBe(true);
    await elapse(700);
    expect(await a.hasInterest(key)).toBe(false);
    expect(await b.hasInterest(key)).toBe(false);
  });

  it('expiry: a job\'s chunks are dropped expireMs after its last publish, not its first', async () => {
    const { a, b, elapse } = await open({ retainBytes: 1 << 20, expireMs: 400 });
    const key = job();
    const [c1, c2, c3] = chunksOf(['one\n', 'two\n', 'three\n'], { complete: true });
    await a.publish(key, c1!);
    await elapse(250);
    await a.publish(key, c2!);
    await elapse(250);
    // 500 ms after the first publish, 250 after the last: both still there.
    const iterator = b.follow(key, 0, never())[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toEqual(c1);
    expect((await iterator.next()).value).toEqual(c2);
    await iterator.return?.();
    await elapse(600);
    // The next publish is the barrier: a follow from 0 finds it first, the older chunks gone.
    await a.publish(key, c3!);
    expect(await collect(b.follow(key, 0, never()))).toEqual([c3]);
  });

  it('returns whatever was published, byte for byte (any text, any sections)', async () => {
    const { a, b } = await open();
    const section = fc.record({
      marker: fc.constantFrom('START' as const, 'END' as const),
      name: fc.string({ unit: 'grapheme', maxLength: 12 }),
      offset: fc.nat(),
      at: fc.option(fc.constant('2026-12-05T10:00:00.000Z'), { nil: null }),
    });
    const piece = fc.record({ text: fc.string({ unit: 'grapheme', maxLength: 60 }), sections: fc.array(section, { maxLength: 2 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { minLength: 1, maxLength: 6 }), async (pieces) => {
        const key = job();
        const chunks = chunksOf(pieces.map((p) => p.text), { complete: true, sections: (i) => pieces[i]!.sections });
        await publishAll(a, key, chunks);
        // An empty chunk moves nothing forward and is not yielded, unless it is the complete one.
        expect(await collect(b.follow(key, 0, never()))).toEqual(chunks.filter((c) => c.text !== '' || c.complete));
      }),
      { numRuns: 25 },
    );
  });
});

describe('log chunk bus on Redis: keys, and a Redis that goes away', () => {
  const buses: RedisLogChunkBus[] = [];
  const bus = (options: RedisLogBusOptions) => {
    const created = new RedisLogChunkBus(options);
    buses.push(created);
    return created;
  };
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
  });
  const newPrefix = () => {
    const prefix = `switchyard:test:logbus:${randomUUID()}:`;
    prefixes.push(prefix);
    return prefix;
  };

  it('keeps every key under its prefix, each one expiring (claim lease, stream, interest, doorbell)', async () => {
    const prefix = newPrefix();
    const limits = { retainBytes: 1 << 20, expireMs: 60_000 };
    const a = bus(redisOptions(limits, prefix));
    const b = bus(redisOptions(limits, prefix));
    const [first, second] = chunksOf(['one\n', 'two\n'], { complete: true });
    await a.claim('job-1', 30_000);
    await a.publish('job-1', first!);
    await a.markInterest('job-1', 20_000);
    // A follow waiting on a stream its reader does not cover yet rings this instance's doorbell.
    const iterator = b.follow('job-2', 0, never())[Symbol.asyncIterator]();
    const next = iterator.next();
    await a.publish('job-2', second!);
    await next;
    const keys = (await keysUnder(prefix)).sort();
    expect(keys.filter((k) => !k.startsWith(`${prefix}wake:`))).toEqual([
      `${prefix}chunks:job-1`, `${prefix}chunks:job-2`, `${prefix}claim:job-1`, `${prefix}interest:job-1`,
    ]);
    const ttl = async (key: string) => adminRedis().pttl(key);
    expect(await ttl(`${prefix}claim:job-1`)).toBeGreaterThan(29_000);
    expect(await ttl(`${prefix}claim:job-1`)).toBeLessThanOrEqual(30_000);
    expect(await ttl(`${prefix}chunks:job-1`)).toBeGreaterThan(59_000);
    expect(await ttl(`${prefix}chunks:job-1`)).toBeLessThanOrEqual(60_000);
    expect(await ttl(`${prefix}interest:job-1`)).toBeGreaterThan(19_000);
    expect(await ttl(`${prefix}interest:job-1`)).toBeLessThanOrEqual(20_000);
    for (const key of keys) expect(await ttl(key), key).toBeGreaterThan(0);
  });

  it('the factory gives the Redis bus under events.streamPrefix + "logs:" when events are on Redis, else the memory bus', async () => {
    const streamPrefix = newPrefix();
    const events = { store: 'redis' as const, redisUrl: REDIS_URL, streamPrefix, historyMaxEvents: 100, historyMaxAgeSeconds: 60 };
    const shared = createLogChunkBus({ events, retainBytes: 1024, log: silent });
    const local = createLogChunkBus({ events: { ...events, store: 'memory' }, retainBytes: 1024, log: silent });
    try {
      expect(shared).toBeInstanceOf(RedisLogChunkBus);
      expect(local).toBeInstanceOf(MemoryLogChunkBus);
      await shared.publish('job-1', chunksOf(['one\n'])[0]!);
      expect(await keysUnder(streamPrefix)).toEqual([`${streamPrefix}logs:chunks:job-1`]);
    } finally {
      await Promise.all([shared.close(), local.close()]);
    }
  });

  it('one blocking reader per instance: a follow of a second job is woken at once while the reader blocks on the first', async () => {
    const prefix = newPrefix();
    const connectionName = `switchyard-logs-test-${randomUUID()}`;
    // A block far longer than the test: only the doorbell can make the reader take the second job in.
    const a = bus(redisOptions(LIMITS, prefix));
    const b = bus(redisOptions(LIMITS, prefix, { connectionName, blockMs: 120_000 }));
    const [first, second] = chunksOf(['one\n', 'two\n']);
    const followFirst = b.follow('job-1', 0, never())[Symbol.asyncIterator]();
    const firstWaiting = followFirst.next();
    await a.publish('job-1', first!);
    expect((await firstWaiting).value).toEqual(first);
    const blocked = followFirst.next();
    await readerBlocked(connectionName);
    const followSecond = b.follow('job-2', 0, never())[Symbol.asyncIterator]();
    const secondWaiting = followSecond.next();
    await a.publish('job-2', second!);
    const late = new Promise((_, reject) => setTimeout(() => reject(new Error('the second follow was not woken within 5 s')), 5000).unref());
    expect(await Promise.race([secondWaiting, late])).toEqual({ done: false, value: second });
    const clients = (await adminRedis().client('LIST')) as string;
    expect(clients.split('\n').filter((line) => line.includes(` name=${connectionName}`))).toHaveLength(2);
    await a.publish('job-1', { ...second!, offset: first!.nextOffset, nextOffset: first!.nextOffset + 4 });
    expect((await blocked).done).toBe(false);
  });

  it('orders stream ids as (ms, seq) numbers', () => {
    const id = fc.tuple(fc.nat({ max: 2 ** 45 }), fc.nat({ max: 10_000 }));
    fc.assert(
      fc.property(id, id, ([am, as], [bm, bs]) => {
        const expected = am === bm ? Math.sign(as - bs) : Math.sign(am - bm);
        expect(Math.sign(compareStreamIds(`${am}-${as}`, `${bm}-${bs}`))).toBe(expected);
      }),
    );
  });

  it('a Redis that is not there: every call rejects with a LogBusUnavailableError naming what and where, and nothing crashes', async () => {
    const port = await freePort();
    const gone = bus(redisOptions(LIMITS, newPrefix(), { redisUrl: `redis://user:secret@127.0.0.1:${port}` }));
    const where = new RegExp(`^log bus: could not claim job-1 on Redis at 127\\.0\\.0\\.1:${port}: `);
    const claim = gone.claim('job-1', 1000);
    await expect(claim).rejects.toBeInstanceOf(LogBusUnavailableError);
    await expect(claim).rejects.toThrow(where);
    await expect(claim).rejects.not.toThrow(/secret/);
    await expect(gone.publish('job-1', chunksOf(['x\n'])[0]!)).rejects.toThrow(/could not publish to job-1 on Redis/);
    await expect(gone.hasInterest('job-1')).rejects.toThrow(/could not read interest in job-1/);
    await expect(collect(gone.follow('job-1', 0, never()))).rejects.toThrow(/could not follow job-1 on Redis/);
  });

  it('a killed connection: the bus reconnects by itself, and a waiting follow still gets the next chunk', async () => {
    const prefix = newPrefix();
    const connectionName = `switchyard-logs-test-${randomUUID()}`;
    const a = bus(redisOptions(LIMITS, prefix));
    const b = bus(redisOptions(LIMITS, prefix, { connectionName }));
    const [first, second] = chunksOf(['one\n', 'two\n'], { complete: true });
    await a.publish('job-1', first!);
    const iterator = b.follow('job-1', 0, never())[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toEqual(first);
    const waiting = iterator.next();
    // Both of b's connections (commands and the blocking reader), once the reader is blocked.
    await readerBlocked(connectionName);
    const clients = (await adminRedis().client('LIST')) as string;
    const mine = clients.split('\n').filter((line) => line.includes(` name=${connectionName}`));
    expect(mine).toHaveLength(2);
    for (const line of mine) expect(await adminRedis().client('KILL', 'ID', /\bid=(\d+)/.exec(line)![1]!)).toBe(1);
    await a.publish('job-1', second!);
    expect(await waiting).toEqual({ done: false, value: second });
    expect(await b.claim('job-2', 1000)).toBe(true);
  });
});

describe('log chunk bus on a Redis that restarts', () => {
  let server: PrivateRedis | null = null;
  afterAll(async () => {
    await server?.stop();
  });

  it('a waiting follow ends with a LogBusUnavailableError while Redis is down, and the bus works again once it is back', async () => {
    server = await startPrivateRedis();
    const options = { ...LIMITS, redisUrl: server.url, keyPrefix: 'switchyard:logs:', log: silent };
    const a = new RedisLogChunkBus(options);
    const b = new RedisLogChunkBus(options);
    try {
      const [first, second, third] = chunksOf(['one\n', 'two\n', 'three\n'], { complete: true });
      await a.publish('job-1', first!);
      const iterator = b.follow('job-1', 0, never())[Symbol.asyncIterator]();
      expect((await iterator.next()).value).toEqual(first);
      const waiting = iterator.next();
      // Down longer than a call's reconnect budget (maxRetriesPerRequest: 2).
      const restarted = server.restart(1500);
      await expect(waiting).rejects.toThrow(LogBusUnavailableError);
      await expect(waiting).rejects.toThrow(/could not wait for new chunks on Redis at 127\.0\.0\.1:\d+: /);
      await restarted;
      // No intervention: the connections come back on their own (the first calls may still meet the outage).
      for (let attempt = 0; ; attempt++) {
        const ok = await a.publish('job-1', second!).then(() => true, () => false);
        if (ok) break;
        expect(attempt).toBeLessThan(50);
        await sleep(100);
      }
      const resumed = b.follow('job-1', second!.offset, never())[Symbol.asyncIterator]();
      let next: IteratorResult<LogChunkModel> | null = null;
      for (let attempt = 0; next === null; attempt++) {
        next = await resumed.next().catch(() => null);
        if (next === null) {
          expect(attempt).toBeLessThan(50);
          await sleep(100);
        }
      }
      expect(next.value).toEqual(second);
      await a.publish('job-1', third!);
      expect((await resumed.next()).value).toEqual(third);
      expect((await resumed.next()).done).toBe(true);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
