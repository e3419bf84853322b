import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { WebhookRequest } from '../../src/adapter-contract.ts';
import type { WebhookKit } from '../../src/adapter-testing.ts';
import { MemoryDeliveryDedupe, RedisDeliveryDedupe, type DeliveryDedupe } from '../../src/ingest/delivery-dedupe.ts';
import { createAdapter } from './adapter-context.ts';
import { contractSubjects } from './kits.ts';

/**
 * Webhook forgery and replay (ADAPTERS.md §8): a delivery the provider signed
 * verifies; a changed body, a forger's secret or a missing credential does not;
 * a signature older than the replay window does not; and a redelivery has no
 * second effect while the same id at another backend is news.
 */
const subjects = await contractSubjects();
const NOW = Date.parse('2026-03-01T12:00:00Z');
/** This file's Redis keys, removed afterwards. */
const PREFIX = `switchyard-contract-${randomUUID()}:`;

describe.each(subjects)('webhooks: $provider', (subject) => {
  const { kit } = subject;
  if ('unsupported' in kit.webhook) {
    it(`declares no webhooks: ${kit.webhook.unsupported}`, () => {
      expect(createAdapter(subject, kit.offlineConfig).webhook).toBeUndefined();
    });
    return;
  }
  const hooks: WebhookKit = kit.webhook;
  const adapter = createAdapter(subject, { ...kit.offlineConfig, ...hooks.config }, 'contract', () => new Date(NOW));
  const handler = adapter.webhook!;
  const signed = (at = NOW, id = 'delivery-1', secret?: string) => hooks.sign(hooks.body, id, at, secret);

  it('should verify a delivery signed as the provider signs it', () => {
    expect(handler).toBeDefined();
    expect(handler.verify(signed())).toEqual({ ok: true });
  });

  it("should refuse a forger's secret", () => {
    expect(handler.verify(signed(NOW, 'delivery-1', 'a-forgers-guess-of-the-secret')).ok).toBe(false);
  });

  it('should refuse a delivery without its credential', () => {
    const request = signed();
    const refused = Object.keys(request.headers).filter((name) => {
      const { [name]: _dropped, ...rest } = request.headers;
      return !handler.verify({ ...request, headers: rest }).ok;
    });
    expect(refused.length).toBeGreaterThan(0);
    expect(handler.verify({ rawBody: request.rawBody, headers: { 'content-type': 'application/json' } }).ok).toBe(false);
  });

  if (hooks.bodyIntegrity === true) {
    it('should refuse a changed byte of the body', () => {
      const request = signed();
      const body = Buffer.from(request.rawBody);
      const at = Math.floor(body.length / 2);
      body[at] = body[at]! ^ 0x01;
      expect(handler.verify({ ...request, rawBody: body }).ok).toBe(false);
    });
  } else {
    const why = hooks.bodyIntegrity.unsupported;
    it(`declares no body integrity (${why}): a changed body still verifies`, () => {
      const request = signed();
      expect(handler.verify({ ...request, rawBody: Buffer.from(`${request.rawBody.toString()} `) }).ok).toBe(true);
    });
  }

  const window = hooks.replayWindowMs;
  if (typeof window === 'number') {
    it('should refuse a signature older than the replay window and accept one inside it', () => {
      expect(handler.verify(signed(NOW - window - 60_000)).ok).toBe(false);
      expect(handler.verify(signed(NOW + window + 60_000)).ok).toBe(false);
      expect(handler.verify(signed(NOW - window + 60_000))).toEqual({ ok: true });
    });
  } else {
    it(`declares no replay window (${window.unsupported}): an old delivery verifies, and its id is what stops a replay`, () => {
      expect(handler.verify(signed(NOW - 86_400_000))).toEqual({ ok: true });
      expect(handler.deliveryId(signed(NOW - 86_400_000))).toBe(handler.deliveryId(signed()));
    });
  }

  it('should give a redelivery the same delivery id', () => {
    const id = handler.deliveryId(signed());
    expect(id).toBeTruthy();
    expect(handler.deliveryId(signed())).toBe(id);
  });

  describe.each([
    ['in memory', async () => new MemoryDeliveryDedupe({ doneTtlMs: 60_000 }, 1000, () => NOW)],
    ['in Redis', async () => new RedisDeliveryDedupe(redis, { doneTtlMs: 60_000 }, `${PREFIX}${randomUUID()}:`)],
  ] as const)('delivery dedupe %s', (_, make) => {
    let dedupe: DeliveryDedupe;
    beforeAll(async () => {
      dedupe = await make();
    });

    it('should take a replay of a completed delivery as done, and the same id at another backend as news', async () => {
      const request: WebhookRequest = signed(NOW, `delivery-${randomUUID()}`);
      const deliveryId = handler.deliveryId(request)!;
      const backend = `contract-${randomUUID().slice(0, 8)}`;
      expect((await dedupe.claim({ backend, deliveryId })).status).toBe('claimed');
      await dedupe.complete({ backend, deliveryId });
      expect((await dedupe.claim({ backend, deliveryId })).status).toBe('done');
      expect((await dedupe.claim({ backend: `${backend}-other`, deliveryId })).status).toBe('claimed');
    });
  });
});

let redis: Redis;
beforeAll(() => {
  redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
});
afterAll(async () => {
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});
