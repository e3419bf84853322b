/**
 * OpenTelemetry traces (issue 14, "Done when"): the real gateway over the
 * GitHub simulator exports to a tiny OTLP/HTTP receiver on loopback. A query
 * sent with `traceparent` gives an operation span in the caller's trace with
 * the upstream reads as its children; a signed webhook gives an ingestion span;
 * with `tracing.exportPipelines` a run seen finishing is a trace in the CI/CD
 * span conventions. Off by default: nothing is sent.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.ts';
import { NOTIFY_SECRET, startJenkinsStack } from '../helpers/jenkins-stack.ts';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';
import { startTracing } from '../../src/tracing/gateway-tracing.ts';

type Receiver = Awaited<ReturnType<typeof startOtlpReceiver>>;

async function spanWhere(receiver: Receiver, what: string, match: (s: ReceivedSpan) => boolean): Promise<ReceivedSpan> {
  await waitFor(() => receiver.spans.some(match), 15_000, what);
  return receiver.spans.find(match)!;
}

describe('OpenTelemetry traces to an OTLP receiver', () => {
  let receiver: Receiver;
  let stack: Stack;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    stack = await startStack({
      sim: { repositories: ['api'], history: 1 },
      config: { tracing: { enabled: true, endpoint: receiver.url, serviceName: 'switchyard-test', exportPipelines: true } },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  it('should put a query in the caller\'s trace, with its upstream reads as children', async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const res = await fetch(stack.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpanId}-01` },
      body: JSON.stringify({ query: 'query TraceProbe { pipelines(first: 5) { nodes { status jobs { nodes { name } } } } }' }),
    });
    expect(res.status).toBe(200);
    expect((await res.json() as { errors?: unknown }).errors).toBeUndefined();

    const operation = await spanWhere(receiver, 'the operation span', (s) => s.name === 'query TraceProbe');
    expect(operation).toMatchObject({
      traceId, parentSpanId: callerSpanId, kind: SpanKind.SERVER + 1, serviceName: 'switchyard-test',
      attributes: { 'graphql.operation.type': 'query', 'graphql.operation.name': 'TraceProbe' },
    });
    const upstream = await spanWhere(receiver, 'an upstream span', (s) => s.traceId === traceId && s.parentSpanId === operation.spanId);
    expect(upstream).toMatchObject({ name: 'upstream gh', kind: SpanKind.CLIENT + 1, attributes: { 'switchyard.backend': 'gh', 'switchyard.upstream.retries': 0 } });
    expect(String(upstream.attributes['switchyard.upstream.operation'])).toMatch(/from gh$/);
    // The adapter's HTTP request inside it, with the backend's status (the HTTP client conventions).
    const request = await spanWhere(receiver, 'an HTTP request span', (s) => s.parentSpanId === upstream.spanId);
    expect(request).toMatchObject({ traceId, kind: SpanKind.CLIENT + 1, attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200 } });
    expect(String(request.attributes['url.full'])).toContain(new URL(stack.sim.url).host);
  });

  it('should trace a signed webhook through to publish, and export the finished run in the CI/CD conventions', async () => {
    // A traced subscription still streams (its span covers the set-up).
    const ws = stack.wsClient();
    const firstEvent = new Promise<unknown>((resolve, reject) => {
      ws.subscribe({ query: 'subscription TracedWatch { jobUpdated { job { name } } }' }, { next: resolve, error: reject, complete: () => undefined });
    });
    await waitFor(() => stack.gateway.subscriptionCount === 1, 5000, 'the subscription');
    const { runId } = await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'traced-build', outcome: 'success' }, { name: 'traced-test', outcome: 'failure' }] });
    await stack.sim.runUntilIdle();
    expect(await firstEvent).toMatchObject({ data: { jobUpdated: { job: { name: expect.any(String) } } } });
    expect(await spanWhere(receiver, 'the subscription span', (s) => s.name === 'subscription TracedWatch')).toMatchObject({ attributes: { 'graphql.operation.type': 'subscription' } });
    const delivery = stack.sim.deliveries.find((d) => d.event === 'workflow_job' && d.body.includes('"traced-build"'))!;

    const webhook = await spanWhere(receiver, 'the webhook span', (s) => s.attributes['switchyard.webhook.delivery_id'] === delivery.id);
    expect(webhook).toMatchObject({
      name: 'webhook gh', kind: SpanKind.SERVER + 1,
      attributes: { 'switchyard.backend': 'gh', 'switchyard.webhook.outcome': 'published', 'switchyard.webhook.entity_types': 'Job', 'http.response.status_code': 202 },
    });
    expect(Number(webhook.attributes['switchyard.webhook.published'])).toBeGreaterThan(0);

    const run = await spanWhere(receiver, 'the pipeline run span', (s) => String(s.attributes['cicd.pipeline.run.id']).endsWith(`/runs/${runId}`));
    expect(run).toMatchObject({
      kind: SpanKind.SERVER + 1, parentSpanId: '',
      attributes: { 'cicd.pipeline.result': 'failure', 'cicd.pipeline.action.name': 'RUN', 'error.type': 'FAILURE', 'switchyard.backend': 'gh' },
    });
    expect(run.name).toBe(`RUN ${String(run.attributes['cicd.pipeline.name'])}`);
    const tasks = await (async () => {
      await waitFor(() => receiver.spans.filter((s) => s.parentSpanId === run.spanId).length === 2, 15_000, 'two task runs');
      return receiver.spans.filter((s) => s.parentSpanId === run.spanId);
    })();
    expect(tasks.map((t) => [t.name, t.traceId, t.attributes['cicd.pipeline.task.run.result']]).sort()).toEqual([
      ['traced-build', run.traceId, 'success'],
      ['traced-test', run.traceId, 'failure'],
    ]);
    for (const t of tasks) expect(t.startMs >= run.startMs && t.endMs <= run.endMs && t.startMs <= t.endMs).toBe(true);
  });
});

describe('a webhook hint confirmed after the answer (Jenkins)', () => {
  it('should trace the confirmation and its upstream read as children of the delivery', async () => {
    const receiver = await startOtlpReceiver();
    const stack = await startJenkinsStack({ config: { tracing: { enabled: true, endpoint: receiver.url } } });
    try {
      stack.sim.setNotify(null);
      await stack.sim.triggerBuild({ job: 'team-a/lint', result: 'SUCCESS' });
      await stack.sim.runUntilIdle();
      const build = stack.sim.world.builds('team-a/lint')[0]!;
      const res = await fetch(`${stack.base}/webhooks/jk`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'X-Switchyard-Token': NOTIFY_SECRET },
        body: JSON.stringify({ name: 'lint', url: 'job/team-a/job/lint/', build: { full_url: `${stack.sim.url}job/team-a/job/lint/${build.number}/`, number: build.number, phase: 'COMPLETED', status: 'SUCCESS', url: `job/team-a/job/lint/${build.number}/` } }),
      });
      expect(res.status).toBe(202);
      const delivery = await spanWhere(receiver, 'the delivery span', (s) => s.name === 'webhook jk');
      expect(delivery.attributes).toMatchObject({ 'switchyard.webhook.outcome': 'pending', 'http.response.status_code': 202 });
      const confirm = await spanWhere(receiver, 'the confirmation span', (s) => s.name === 'webhook confirm jk' && s.parentSpanId === delivery.spanId);
      expect(confirm.attributes).toMatchObject({ 'switchyard.webhook.outcome': 'published', 'switchyard.webhook.entity_types': expect.stringContaining('Pipeline') });
      expect(await spanWhere(receiver, 'the confirming read', (s) => s.name === 'upstream jk' && s.parentSpanId === confirm.spanId)).toMatchObject({ traceId: delivery.traceId });
    } finally {
      await stack.close();
      await receiver.close();
    }
  });
});

describe('tracing at shutdown', () => {
  it('should export what is buffered when the gateway closes', async () => {
    const receiver = await startOtlpReceiver();
    const stack = await startStack({ sim: { repositories: ['api'], history: 1 }, config: { tracing: { enabled: true, endpoint: receiver.url } } });
    expect((await stack.query('query FlushedAtClose { pipelines(first: 1) { nodes { status } } }')).errors).toBeUndefined();
    await stack.close();
    // No wait: the batch (scheduled a second later) went out during close.
    expect(receiver.spans.map((s) => s.name)).toContain('query FlushedAtClose');
    await receiver.close();
  });

  it('should not let a collector that never answers hold the stop', async () => {
    const held: ServerResponse[] = [];
    const silent = createServer((req, res) => void held.push(res));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const tracing = startTracing({ enabled: true, endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v1/traces`, headers: {}, serviceName: 't', sampleRatio: 1, exportPipelines: false }, () => undefined)!;
    tracing.tracer.startSpan('pending').end();
    // The exporter's own timeout is 10 s; the test's 5 s limit fails an unbounded shutdown.
    await tracing.shutdown(200);
    expect(held.length).toBeLessThanOrEqual(1);
    for (const res of held) res.destroy();
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  }, 5000);
});

describe('tracing off by default', () => {
  it('should send nothing to the endpoint while `enabled` is not set', async () => {
    const receiver = await startOtlpReceiver();
    const stack = await startStack({ sim: { repositories: ['api'], history: 1 }, config: { tracing: { endpoint: receiver.url, exportPipelines: true } } });
    try {
      expect((await stack.query('query Untraced { pipelines(first: 5) { nodes { status } } }')).errors).toBeUndefined();
      await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'untraced', outcome: 'success' }] });
      await stack.sim.runUntilIdle();
    } finally {
      // The barrier: closing flushes any exporter there is (the first describe's receiver gets its spans this way).
      await stack.close();
    }
    expect(receiver.requests()).toBe(0);
    await receiver.close();
  });
});
