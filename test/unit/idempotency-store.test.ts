import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryIdempotencyStore, type IdempotencyStore } from '../../src/actions/idempotency-store.ts';
import { RedisIdempotencyStore } from '../../src/actions/redis-idempotency-store.ts';
import type { ActionServices } from '../../src/actions/action-services.ts';
import { claimIdempotencyKey } from '../../src/actions/idempotency.ts';

/** One contract over both idempotency stores (issue 15 item 4): memory per process, Redis shared. */
const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
afterAll(() => redis.disconnect());

const stores: [string, () => IdempotencyStore][] = [
  ['memory', () => new MemoryIdempotencyStore(() => Date.now())],
  ['redis', () => new RedisIdempotencyStore(redis.duplicate(), `test:idem:${randomUUID()}:`)],
];

describe.each(stores)('idempotency store (%s)', (_name, make) => {
  it('should let one claim win, show it pending with its fingerprint, then answer its stored outcome', async () => {
    const store = make();
    const claims = await Promise.all(Array.from({ length: 20 }, () => store.claim('k', 'fp-1', 5000)));
    const won = claims.filter((c) => c.status === 'claimed');
    expect(won).toHaveLength(1);
    expect(claims.filter((c) => c.status === 'pending')).toEqual(Array.from({ length: 19 }, () => ({ status: 'pending', fingerprint: 'fp-1' })));
    await store.complete('k', (won[0] as { token: string }).token, 'fp-1', '{"ok":true}', 60_000);
    expect(await store.claim('k', 'fp-2', 5000)).toEqual({ status: 'done', fingerprint: 'fp-1', outcome: '{"ok":true}' });
    expect(await store.peek('k')).toEqual({ status: 'done', fingerprint: 'fp-1', outcome: '{"ok":true}' });
    await store.close();
  });

  it('should free a released claim at once, and ignore a release or completion by a token that no longer holds it', async () => {
    const store = make();
    const first = await store.claim('r', 'fp', 5000);
    await store.release('r', 'not-the-token');
    expect((await store.claim('r', 'fp', 5000)).status).toBe('pending');
    await store.release('r', (first as { token: string }).token);
    const second = await store.claim('r', 'fp', 5000);
    expect(second.status).toBe('claimed');
    await store.complete('r', (first as { token: string }).token, 'fp', 'stale', 60_000);
    expect(await store.peek('r')).toEqual({ status: 'pending', fingerprint: 'fp' });
    await store.close();
  });

  it("should let a claim expire when its claimant dies, so another takes it over", async () => {
    const store = make();
    expect((await store.claim('x', 'fp', 150)).status).toBe('claimed');
    expect((await store.claim('x', 'fp', 150)).status).toBe('pending');
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect((await store.claim('x', 'fp', 150)).status).toBe('claimed');
    expect(await store.peek('nothing')).toBeNull();
    await store.close();
  });
});

describe('claimIdempotencyKey', () => {
  const services = (store: IdempotencyStore, holdMs: number) => ({ idempotency: store, idempotencyHoldMs: holdMs }) as unknown as ActionServices;

  it("should wait for a dead claimant's claim to expire and take it over, and refuse another input at once", async () => {
    const store = new MemoryIdempotencyStore(() => Date.now());
    // A claimant that never completes (its instance died).
    expect((await store.claim('k', 'fp', 200)).status).toBe('claimed');
    await expect(claimIdempotencyKey(services(store, 200), 'k', 'other')).rejects.toMatchObject({ error: { code: 'IDEMPOTENCY_CONFLICT' } });
    const started = Date.now();
    const taken = await claimIdempotencyKey(services(store, 200), 'k', 'fp');
    expect(taken.status).toBe('claimed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('should hand a waiting duplicate the outcome the first one stores', async () => {
    const store = new MemoryIdempotencyStore(() => Date.now());
    const first = await store.claim('d', 'fp', 5000);
    const waiting = claimIdempotencyKey(services(store, 5000), 'd', 'fp');
    setTimeout(() => void store.complete('d', (first as { token: string }).token, 'fp', '{"n":1}', 60_000), 100);
    expect(await waiting).toEqual({ status: 'done', fingerprint: 'fp', outcome: '{"n":1}' });
  });
});
