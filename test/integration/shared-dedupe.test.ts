import { createHmac, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startStack, WEBHOOK_SECRET } from '../helpers/stack.ts';

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
});
