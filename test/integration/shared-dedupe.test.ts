import { createHmac, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { RedisDeliveryDedupe } from '../../src/ingest/delivery-dedupe.ts';
import { startStack, waitFor, waitForSubscribers, WEBHOOK_SECRET } from '../helpers/stack.ts';

describe('webhook deduplication shared through Redis', () => {
  it('should treat a delivery retried to another instance as a duplicate', async () => {
    const prefix = `switchyard:test:${randomUUID()}:`;
    const config = { events: { store: 'redis', streamPrefix: prefix } };
    const a = await startStack({ sim: { repositories: ['api'], history: 1 }, config });
    const b = await startStack({ sim: { repositories: ['api'], history: 1 }, config });
    try {
      const body = JSON.stringify({ zen: 'Design for failure.', hook_id: 1 });
      const headers = {
        'content-type': 'application/json',
        'x-github-event': 'ping',
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`,
      };
      const first = await fetch(`${a.base}/webhooks/gh`, { method: 'POST', headers, body });
      expect(first.status).toBe(202);
      const retried = await fetch(`${b.base}/webhooks/gh`, { method: 'POST', headers, body });
      expect(retried.status).toBe(200);
      expect(await retried.json()).toMatchObject({ status: 'duplicate' });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('should answer 503 + Retry-After, not 200 duplicate, while another instance holds the claim, and process it once that instance died', async () => {
    const prefix = `switchyard:test:${randomUUID()}:`;
    const stack = await startStack({ sim: { repositories: ['api'], history: 1 }, config: { events: { store: 'redis', streamPrefix: prefix } } });
    // The "other instance": same Redis and namespace, a short claim hold, a connection that dies.
    const otherConnection = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
    const other = new RedisDeliveryDedupe(otherConnection, { doneTtlMs: 60_000, claimHoldMs: 300 }, `${prefix}deliveries:`);
    const probe = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
    const published: string[] = [];
    const iterator = stack.gateway.services.bus.subscribe('Job', () => true);
    void (async () => {
      for await (const e of iterator) published.push(e.job.name);
    })();
    try {
      await waitForSubscribers(stack, 1);
      // Capture real deliveries without letting them reach the gateway (nothing listens on port 1).
      stack.sim.setWebhook({ url: 'http://127.0.0.1:1/webhooks/gh', secret: WEBHOOK_SECRET });
      await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'claimed-elsewhere', labels: ['self-hosted'], outcome: 'success' }] });
      await stack.sim.runUntilIdle();
      const delivery = stack.sim.deliveries.find((d) => d.event === 'workflow_job' && d.body.includes('"claimed-elsewhere"'))!;
      expect(delivery).toBeDefined();
      const post = () => fetch(`${stack.base}/webhooks/gh`, { method: 'POST', headers: delivery.headers, body: delivery.body });

      expect((await other.claim({ backend: 'gh', deliveryId: delivery.id })).status).toBe('claimed');
      const during = await post();
      expect(during.status).toBe(503);
      expect(Number(during.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await during.json()).toMatchObject({ error: expect.stringMatching(/being processed/), deliveryId: delivery.id });

      // The holder dies without completing: its claim expires (bounded wait on Redis, not a fixed sleep).
      otherConnection.disconnect();
      const key = `${prefix}deliveries:gh:${delivery.id}`;
      await waitFor(async () => (await probe.exists(key)) === 0, 5000, 'the dead claim to expire');

      const after = await post();
      expect(after.status).toBe(202);
      expect(await after.json()).toMatchObject({ status: 'accepted', published: 1 });
      await waitFor(() => published.includes('claimed-elsewhere'), 5000, 'the delivery to take effect');
      const again = await post();
      expect(again.status).toBe(200);
      expect(await again.json()).toMatchObject({ status: 'duplicate' });
    } finally {
      void iterator.return?.();
      otherConnection.disconnect();
      probe.disconnect();
      await stack.close();
    }
  });
});
