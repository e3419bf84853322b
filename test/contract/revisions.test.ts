import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { RedisEventStore } from '../../src/events/redis-event-store.ts';
import type { ChangeEvent } from '../../src/events/event-types.ts';
import { compareRevisions, type EntityModel, type Revision } from '../../src/model.ts';
import { LiveState } from '../../src/state/live-state.ts';
import type { Lifecycle } from '../../src/adapter-testing.ts';
import { contractSubjects } from './kits.ts';

/**
 * Revisions never move state backwards (ADAPTERS.md §4): each kit's lifecycles,
 * observed with generated (varied, sometimes equal-second) timestamps and
 * delivered in any order, leave the last upstream state in the live state and
 * in the shared Redis history, whose Lua append must refuse older revisions.
 */
const subjects = await contractSubjects();
const T0 = Date.parse('2026-03-01T10:00:00Z');

/** Times for each step: anywhere within an hour, or within 3 s (same-second ties); sorted when time leads, 1 s apart when only time orders. */
function timesFor(lifecycle: Lifecycle): fc.Arbitrary<number[]> {
  const offset = fc.oneof(fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: 0, max: 3_600_000 }));
  const times = fc.array(offset, { minLength: lifecycle.steps.length, maxLength: lifecycle.steps.length });
  return times.map((ts) => {
    if (lifecycle.times === 'any') return ts.map((t) => T0 + t);
    const sorted = [...ts].sort((a, b) => a - b);
    return sorted.map((t, i) => T0 + t + (lifecycle.times === 'increasing' ? i * 1000 : 0));
  });
}

function observations(lifecycle: Lifecycle, backend: string, times: readonly number[]): EntityModel[] {
  return lifecycle.steps.map((_, i) => lifecycle.observe(backend, i, times[i]!));
}

const permutation = (n: number) => fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n });

describe('revision order the adapters rely on', () => {
  it('should rank a longer revision with a non-zero tail above its prefix, either way round', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 0, max: 1e12 }), { maxLength: 4 }),
      fc.array(fc.integer({ min: 0, max: 1e12 }), { minLength: 1, maxLength: 3 }).filter((t) => t.some((n) => n > 0)),
      (prefix, tail) => {
        const longer: Revision = [...prefix, ...tail];
        expect(compareRevisions(longer, prefix)).toBeGreaterThan(0);
        expect(compareRevisions(prefix, longer)).toBeLessThan(0);
        expect(compareRevisions([...prefix, 0], prefix)).toBe(0);
      },
    ));
  });
});

describe.each(subjects)('revisions: $provider', ({ kit }) => {
  it('should declare at least one lifecycle', () => {
    expect(kit.lifecycles.length).toBeGreaterThan(0);
  });

  it.each(kit.lifecycles.map((l) => [l.label, l] as const))('%s: strictly newer at every step, whatever the timestamps', (_, lifecycle) => {
    fc.assert(fc.property(timesFor(lifecycle), (times) => {
      const seen = observations(lifecycle, 'contract', times);
      for (let i = 1; i < seen.length; i++) {
        const order = compareRevisions(seen[i]!.revision, seen[i - 1]!.revision);
        expect(order, `${lifecycle.steps[i]} ${JSON.stringify(seen[i]!.revision)} after ${lifecycle.steps[i - 1]} ${JSON.stringify(seen[i - 1]!.revision)}`).toBeGreaterThan(0);
      }
    }), { numRuns: 300 });
  });

  it.each(kit.lifecycles.map((l) => [l.label, l] as const))('%s: the live state keeps the last step, in any arrival order', (_, lifecycle) => {
    fc.assert(fc.property(timesFor(lifecycle), permutation(lifecycle.steps.length), (times, order) => {
      const seen = observations(lifecycle, 'contract', times);
      const state = new LiveState();
      for (const i of order) state.apply(seen[i]!, 0);
      const last = seen.at(-1)!;
      expect(state.get(last.type, last.backend, last.nativeId)).toEqual(last);
    }), { numRuns: 300 });
  });
});

describe('revisions in the shared Redis history (Lua append)', () => {
  const prefix = `switchyard-contract-${randomUUID()}:`;
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  const lifecycles = subjects.flatMap(({ provider, kit }) => kit.lifecycles.map((l) => [`${provider}: ${l.label}`, l] as const));

  it.each(lifecycles)('%s: appends only newer revisions, in any arrival order', async (_, lifecycle) => {
    let appended = 0;
    const store = new RedisEventStore(() => undefined, {
      redisUrl: 'redis://127.0.0.1:6379', streamPrefix: prefix, limits: { maxEvents: 100_000, maxAgeSeconds: 3600 },
      log: pino({ level: 'silent' }), hooks: { appended: () => void appended++ },
    });
    try {
      let run = 0;
      await fc.assert(fc.asyncProperty(timesFor(lifecycle), permutation(lifecycle.steps.length), async (times, order) => {
        // A backend name of its own per run: a fresh entity for the store's revision memory.
        const backend = `b${randomUUID().slice(0, 8)}-${run++}`;
        const seen = observations(lifecycle, backend, times);
        // Newest first at least once per lifecycle: every later append is older and must be refused.
        const arrival = run === 1 ? [...seen.keys()].reverse() : order;
        const before = appended;
        arrival.forEach((i, sequence) => store.append(eventOf(seen[i]!, sequence)));
        await waitUntil(() => appended === before + arrival.length);
        const stored = await storedRevisions(redis, `${prefix}${seen[0]!.type}`, backend);
        for (let i = 1; i < stored.length; i++) {
          expect(compareRevisions(stored[i]!, stored[i - 1]!), `stored ${JSON.stringify(stored)}`).toBeGreaterThan(0);
        }
        expect(stored.at(-1)).toEqual(seen.at(-1)!.revision);
      }), { numRuns: 25 });
    } finally {
      await store.close();
    }
  });
});

function eventOf(entity: EntityModel, sequence: number): ChangeEvent {
  const base = { sequence, source: 'POLL' as const, receivedAt: new Date(T0).toISOString() };
  if (entity.type === 'Job') return { ...base, type: 'Job', job: entity, previousStatus: null };
  if (entity.type === 'Pipeline') return { ...base, type: 'Pipeline', pipeline: entity, previousStatus: null };
  if (entity.type === 'Runner') return { ...base, type: 'Runner', runner: entity, previousState: null };
  throw new Error(`no events for ${entity.type}`);
}

async function storedRevisions(redis: Redis, stream: string, backend: string): Promise<Revision[]> {
  const entries = await redis.xrange(stream, '-', '+');
  return entries
    .map(([, fields]) => JSON.parse(fields[1]!) as Record<string, { backend: string; revision: Revision } | undefined>)
    .map((e) => e.job ?? e.pipeline ?? e.runner)
    .filter((e) => e?.backend === backend)
    .map((e) => e!.revision);
}

async function waitUntil(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !predicate(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!predicate()) throw new Error('appends not acknowledged');
}
