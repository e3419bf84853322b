import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryDeliveryDedupe, RedisDeliveryDedupe, type DeliveryDedupe } from '../../src/ingest/delivery-dedupe.ts';

/**
 * One suite over both stores. Each store comes with a second "instance" (for
 * Redis: its own connection, which dies) and a way to let a claim hold run out.
 */
interface StoreUnderTest {
  readonly store: DeliveryDedupe;
  /** Another gateway instance sharing the store. */
  readonly other: DeliveryDedupe;
  /** The other instance dies: it will never complete or release. */
  killOther(): Promise<void>;
  /** Lets every pending claim's hold run out. */
  expireHolds(key: string): Promise<void>;
  close(): Promise<void>;
}

const HOLD_MS = 150;
const DONE_TTL_MS = 3_600_000;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const connections: Redis[] = [];
afterAll(() => {
  for (const c of connections) c.disconnect();
});

const stores: Array<[string, () => StoreUnderTest]> = [
  ['memory', () => {
    let now = 1_000_000;
    const store = new MemoryDeliveryDedupe({ doneTtlMs: DONE_TTL_MS, claimHoldMs: HOLD_MS }, 1000, () => now);
    return {
      store,
      other: store, // one process: the "other instance" is another attempt in it
      killOther: async () => undefined,
      expireHolds: async () => {
        now += HOLD_MS;
      },
      close: async () => undefined,
    };
  }],
  ['redis', () => {
    const prefix = `switchyard:test:dedupe:${randomUUID()}:`;
    const a = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
    const b = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
    connections.push(a, b);
    return {
      store: new RedisDeliveryDedupe(a, { doneTtlMs: DONE_TTL_MS, claimHoldMs: HOLD_MS }, prefix),
      other: new RedisDeliveryDedupe(b, { doneTtlMs: DONE_TTL_MS, claimHoldMs: HOLD_MS }, prefix),
      killOther: async () => {
        b.disconnect();
      },
      // Waits for Redis itself to expire the claim (bounded), rather than sleeping a fixed time.
      expireHolds: async (deliveryId: string) => {
        const key = `${prefix}gh:${deliveryId}`;
        for (let i = 0; i < 200 && (await a.exists(key)) === 1; i++) await new Promise((r) => setTimeout(r, 25));
        expect(await a.exists(key)).toBe(0);
      },
      close: async () => {
        const keys = await a.keys(`${prefix}*`);
        if (keys.length > 0) await a.del(...keys);
      },
    };
  }],
];

describe.each(stores)('webhook delivery dedupe (%s store)', (_name, make) => {
  const gh = (deliveryId: string) => ({ backend: 'gh', deliveryId });

  it('should let the first claim process the delivery', async () => {
    const s = make();
    expect(await s.store.claim(gh('d1'))).toMatchObject({ status: 'claimed', token: expect.any(String) });
    await s.close();
  });

  it('should answer in-progress (with the remaining hold), never done, while a claim is pending', async () => {
    const s = make();
    expect((await s.other.claim(gh('d1'))).status).toBe('claimed');
    const second = await s.store.claim(gh('d1'));
    expect(second.status).toBe('in-progress');
    if (second.status === 'in-progress') {
      expect(second.retryAfterMs).toBeGreaterThan(0);
      expect(second.retryAfterMs).toBeLessThanOrEqual(HOLD_MS);
    }
    await s.close();
  });

  it('should answer done after the delivery was completed', async () => {
    const s = make();
    expect((await s.other.claim(gh('d1'))).status).toBe('claimed');
    await s.other.complete(gh('d1'));
    expect(await s.store.claim(gh('d1'))).toEqual({ status: 'done' });
    // done outlives the claim hold
    await s.expireHolds('never-claimed');
    expect(await s.store.claim(gh('d1'))).toEqual({ status: 'done' });
    await s.close();
  });

  it('should make a released (failed) delivery claimable again at once', async () => {
    const s = make();
    const first = await s.other.claim(gh('d1'));
    if (first.status !== 'claimed') throw new Error('expected a claim');
    await s.other.release(gh('d1'), first.token);
    expect((await s.store.claim(gh('d1'))).status).toBe('claimed');
    await s.close();
  });

  it('should free the claim of a holder that died once its hold expires', async () => {
    const s = make();
    expect((await s.other.claim(gh('d1'))).status).toBe('claimed');
    await s.killOther();
    expect((await s.store.claim(gh('d1'))).status).toBe('in-progress');
    await s.expireHolds('d1');
    expect((await s.store.claim(gh('d1'))).status).toBe('claimed');
    await s.close();
  });

  it('should not let a late release of an expired claim free the claim that replaced it', async () => {
    const s = make();
    const stale = await s.store.claim(gh('d1'));
    if (stale.status !== 'claimed') throw new Error('expected a claim');
    await s.expireHolds('d1');
    expect((await s.store.claim(gh('d1'))).status).toBe('claimed');
    await s.store.release(gh('d1'), stale.token);
    expect((await s.store.claim(gh('d1'))).status).toBe('in-progress');
    await s.close();
  });

  it('should keep two backends with the same delivery id independent', async () => {
    const s = make();
    expect((await s.store.claim({ backend: 'gh', deliveryId: 'same' })).status).toBe('claimed');
    await s.store.complete({ backend: 'gh', deliveryId: 'same' });
    expect((await s.store.claim({ backend: 'gl', deliveryId: 'same' })).status).toBe('claimed');
    expect((await s.store.claim({ backend: 'gh', deliveryId: 'same' })).status).toBe('done');
    expect((await s.store.claim({ backend: 'gl', deliveryId: 'same' })).status).toBe('in-progress');
    await s.close();
  });
});
