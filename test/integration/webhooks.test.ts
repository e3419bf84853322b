import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, waitFor, waitForSubscribers, WEBHOOK_SECRET, type Stack } from '../helpers/stack.ts';

const sign = (body: string, secret = WEBHOOK_SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe('webhook ingress', () => {
  let stack: Stack;
  /** Every jobUpdated event the gateway publishes, from the bus itself. */
  const published: { name: string; status: string }[] = [];

  /** A real delivery captured from the simulator, to replay, tamper with and reorder. */
  async function captureDeliveries() {
    await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'captured', labels: ['self-hosted'], outcome: 'success' }] });
    await stack.sim.runUntilIdle();
    return stack.sim.deliveries.filter((d) => d.event === 'workflow_job' && d.body.includes('"captured"'));
  }

  function post(body: string, headers: Record<string, string>, path = '/webhooks/gh') {
    const h = new Headers(headers);
    h.set('content-type', 'application/json');
    return fetch(`${stack.base}${path}`, { method: 'POST', headers: h, body });
  }

  let fresh = 0;
  /** A real workflow_job delivery, the model for new jobs. */
  let template: { body: string; headers: Record<string, string> };
  /** A captured workflow_job body renamed and renumbered: a job the gateway has never seen, so accepting it publishes. */
  function newJobBody(model: string, name: string): string {
    const body = JSON.parse(model) as { workflow_job: { id: number; name: string } };
    body.workflow_job = { ...body.workflow_job, id: 9_000_000_000 + ++fresh, name };
    return JSON.stringify(body);
  }

  /**
   * Barrier for "published nothing": sends a valid delivery of a new job and
   * waits for its event. The GitHub route publishes a delivery's events before
   * it answers it (webhook-route.ts awaits ingestStored; the in-memory store
   * delivers synchronously, event-bus.ts), into this file's one FIFO
   * subscription. So once the sentinel is seen, any event from a delivery
   * answered before it was sent would already be in `published`, ahead of it.
   */
  async function publishedUpToSentinel(before: number): Promise<{ name: string; status: string }[]> {
    const name = `sentinel-${fresh + 1}`;
    const body = newJobBody(template.body, name);
    const res = await post(body, { ...template.headers, 'X-GitHub-Delivery': randomUUID(), 'X-Hub-Signature-256': sign(body) });
    expect(res.status).toBe(202);
    await waitFor(() => published.slice(before).some((p) => p.name === name), 5000, 'the sentinel event');
    const after = published.slice(before);
    expect(after.at(-1)!.name).toBe(name);
    return after.slice(0, -1);
  }

  beforeAll(async () => {
    stack = await startStack({ sim: { repositories: ['api'], history: 1 } });
    const iterator = stack.gateway.services.bus.subscribe('Job', () => true);
    void (async () => {
      for await (const e of iterator) published.push({ name: e.job.name, status: e.job.status });
    })();
    await waitForSubscribers(stack, 1);
    template = (await captureDeliveries())[0]!;
  });
  afterAll(() => stack.close());

  it('should reject a forged or missing signature with 401 and publish nothing', async () => {
    const [delivery] = await captureDeliveries();
    const before = published.length;
    // A job the gateway has not seen: were any of these accepted, it would be published.
    const forgedBody = newJobBody(delivery!.body, 'forged');
    const headers: Record<string, string> = { ...delivery!.headers, 'X-GitHub-Delivery': randomUUID() };
    // Body changed, signature kept.
    expect((await post(forgedBody, headers)).status).toBe(401);
    // Signed with another secret.
    expect((await post(forgedBody, { ...headers, 'X-Hub-Signature-256': sign(forgedBody, 'wrong') })).status).toBe(401);
    // No signature at all.
    const { 'X-Hub-Signature-256': _omit, ...unsigned } = headers;
    expect((await post(forgedBody, unsigned)).status).toBe(401);
    // Malformed signature header.
    expect((await post(forgedBody, { ...headers, 'X-Hub-Signature-256': 'sha256=zz' })).status).toBe(401);
    expect(await publishedUpToSentinel(before)).toEqual([]);
  });

  it('should answer malformed JSON with 400 and publish nothing', async () => {
    const before = published.length;
    const body = '{"action":"queued","workflow_job":';
    const res = await post(body, { 'X-GitHub-Event': 'workflow_job', 'X-GitHub-Delivery': randomUUID(), 'X-Hub-Signature-256': sign(body) });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'malformed JSON' });
    expect(await publishedUpToSentinel(before)).toEqual([]);
  });

  it('should give a replayed delivery id no second effect', async () => {
    const deliveries = await captureDeliveries();
    const before = published.length;
    for (const d of deliveries) {
      const res = await post(d.body, d.headers);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'duplicate' });
    }
    // GitHub's own redelivery keeps the X-GitHub-Delivery id.
    expect(await stack.sim.redeliver(deliveries[0]!.id)).toBe(200);
    expect(await publishedUpToSentinel(before)).toEqual([]);
  });

  it('should never let an older event move a job back (out-of-order delivery)', async () => {
    const deliveries = await captureDeliveries();
    const queued = deliveries.find((d) => d.action === 'queued')!;
    const before = published.length;
    // The same queued event arriving late under a new delivery id (e.g. a retry path): stale, ignored.
    const res = await post(queued.body, { ...queued.headers, 'X-GitHub-Delivery': randomUUID() });
    expect(res.status).toBe(202);
    const jobId = (JSON.parse(queued.body) as { workflow_job: { id: number } }).workflow_job.id;
    const state = stack.gateway.services.state.get('Job', 'gh', `octo-org/api/jobs/${jobId}`);
    expect(state?.status).toBe('SUCCESS');
    expect(await publishedUpToSentinel(before)).toEqual([]);
  });

  it('should refuse oversized bodies with 413, wrong content types with 415, unknown backends with 404', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(1_100_000) });
    expect((await post(big, { 'X-GitHub-Event': 'ping', 'X-Hub-Signature-256': sign(big) })).status).toBe(413);
    const res = await fetch(`${stack.base}/webhooks/gh`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
    expect(res.status).toBe(415);
    expect((await post('{}', {}, '/webhooks/nope')).status).toBe(404);
    expect((await fetch(`${stack.base}/webhooks/gh`)).status).toBe(405);
  });

  it('should answer events it does not use with 202 (never 5xx) and publish nothing', async () => {
    const before = published.length;
    for (const [event, body] of [
      ['ping', JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 })],
      ['push', JSON.stringify({ ref: 'refs/heads/main' })],
      ['workflow_job', JSON.stringify({ action: 'queued', workflow_job: { id: 'not-a-number' } })],
      ['workflow_job', '[]'],
    ] as const) {
      const res = await post(body, { 'X-GitHub-Event': event, 'X-GitHub-Delivery': randomUUID(), 'X-Hub-Signature-256': sign(body) });
      expect(res.status, event).toBe(202);
    }
    expect(await publishedUpToSentinel(before)).toEqual([]);
  });

  it('should report the last webhook in Backend.health', async () => {
    const res = await stack.query<{ backends: { name: string; capabilities: { webhooks: boolean }; health: { lastWebhookAt: string | null } }[] }>(
      '{ backends { name capabilities { webhooks } health { lastWebhookAt } } }',
    );
    expect(res.data?.backends[0]).toMatchObject({ name: 'gh', capabilities: { webhooks: true } });
    expect(Date.parse(res.data!.backends[0]!.health.lastWebhookAt!)).toBeGreaterThan(Date.now() - 60_000);
  });
});
