/**
 * /metrics after demo traffic (issue 14, "Done when"): the real gateway in demo
 * mode on loopback, a query, a failing query, a WebSocket and an SSE
 * subscription, the simulators' signed webhooks plus a forged one, an unknown
 * backend and a redelivery; the exposition is parsed with a Prometheus
 * text-format parser and every family of README "Metrics" is checked.
 */
import type { IncomingMessage } from 'node:http';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { adapterFactories } from '../../src/adapters.ts';
import { startDemo, type Demo } from '../../src/demo/start-demo.ts';
import { histograms, observations, samples, scrape, total, type PromMetrics } from '../helpers/scrape.ts';
import { readSse } from '../helpers/sse.ts';

const BACKENDS = ['github-demo', 'gitlab-demo', 'jenkins-demo'];
/** Every label name the exposition may use: nothing per run, commit, job, user or URL. */
const ALLOWED_LABELS = new Set([
  'backend', 'code', 'outcome', 'reason', 'queue', 'state', 'transport', 'kind', 'le',
  'operationType', 'operationName', 'phase', 'method', 'statusCode',
  'cicd_pipeline_name', 'cicd_pipeline_run_state', 'cicd_pipeline_result', 'error_type', 'cicd_worker_state',
  'switchyard_backend', 'switchyard_runner_pool',
  'sink', // notification sinks: configured names, bounded
]);

interface Captured {
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

describe('/metrics after demo traffic', () => {
  let demo: Demo;
  let base: string;
  let ws: Client;
  let sse: ReturnType<typeof readSse>;
  let captured: Promise<Captured>;

  beforeAll(async () => {
    demo = await startDemo({ factories: adapterFactories, port: 0, host: '127.0.0.1', logLevel: 'silent', seed: 14 });
    base = `http://127.0.0.1:${demo.port}`;
    // A copy of one signed delivery of the GitHub simulator, to redeliver it later.
    captured = new Promise((resolve) => {
      const tap = (req: IncomingMessage) => {
        if (req.method !== 'POST' || req.url !== '/webhooks/github-demo') return;
        demo.gateway.server.off('request', tap);
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => resolve({ headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])), body: Buffer.concat(chunks) }));
      };
      demo.gateway.server.on('request', tap);
    });
  }, 60_000);

  afterAll(async () => {
    await ws?.dispose();
    await sse?.until(() => true).catch(() => undefined);
    await demo?.close();
  });

  const post = (query: string) =>
    fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });

  /** Scrapes until `ready` holds (the demo's runs finish and the history writes in their own time). */
  async function scrapeUntil(ready: (m: PromMetrics) => boolean, timeoutMs = 45_000): Promise<PromMetrics> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const metrics = await scrape(`${base}/metrics`);
      if (ready(metrics)) return metrics;
      if (Date.now() > deadline) return metrics;
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it('should expose every family with sane values', async () => {
    // Traffic: a named query, a query that fails validation, a subscription on each transport.
    expect((await post('query MetricsProbe { pipelines(first: 3) { nodes { status } } }')).status).toBe(200);
    await post('query Broken { noSuchField }');
    ws = createClient({ url: `${base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    const firstWsEvent = new Promise<void>((resolve, reject) => {
      ws.subscribe({ query: 'subscription MetricsWatch { jobUpdated { job { status } } }' }, { next: () => resolve(), error: reject, complete: () => undefined });
    });
    sse = readSse(`${base}/graphql`, 'subscription MetricsStream { pipelineUpdated { pipeline { status } } }');
    await firstWsEvent;
    // Webhooks beyond the simulators' signed ones: a forged signature, an unknown backend, a redelivery.
    const original = await captured;
    const forged = await fetch(`${base}/webhooks/github-demo`, {
      method: 'POST', headers: { ...original.headers, 'x-hub-signature-256': `sha256=${'0'.repeat(64)}`, 'x-github-delivery': 'forged-1' }, body: new Uint8Array(original.body),
    });
    expect(forged.status).toBe(401);
    expect((await fetch(`${base}/webhooks/nobody`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(404);
    const redelivered = await fetch(`${base}/webhooks/github-demo`, { method: 'POST', headers: original.headers, body: new Uint8Array(original.body) });
    expect(await redelivered.json()).toMatchObject({ status: 'duplicate' });

    const m = await scrapeUntil((x) =>
      observations(x, 'cicd_pipeline_run_duration_seconds') > 0 && observations(x, 'switchyard_history_write_lag_seconds') > 0 && sse.items.length > 0 && total(x, 'switchyard_connections', { transport: 'sse' }) > 0);

    // GraphQL operations (yoga's Prometheus plugin): by type and name, latency, errors by phase.
    expect(total(m, 'graphql_envelop_request', { operationType: 'query', operationName: 'MetricsProbe' })).toBe(1);
    expect(observations(m, 'graphql_envelop_request_duration', { operationName: 'MetricsProbe' })).toBe(1);
    expect(total(m, 'graphql_envelop_error_result', { operationName: 'Broken', phase: 'validate', code: 'GRAPHQL_VALIDATION_FAILED' })).toBe(1);
    expect(observations(m, 'graphql_yoga_http_duration', { operationName: 'MetricsProbe', statusCode: '200' })).toBe(1);

    for (const backend of BACKENDS) {
      // Upstream, through the core's policy: requests, latency, errors by code, circuit, rate limit, polls.
      expect(total(m, 'switchyard_upstream_requests_total', { backend })).toBeGreaterThan(0);
      const latency = histograms(m, 'switchyard_upstream_request_duration_seconds').find((h) => h.labels.backend === backend)!;
      expect(latency.count).toBe(total(m, 'switchyard_upstream_requests_total', { backend }));
      expect(latency.sum ?? 0).toBeGreaterThan(0);
      expect(latency.buckets['+Inf']).toBe(latency.count);
      expect(samples(m, 'switchyard_upstream_errors_total').filter((s) => s.labels.backend === backend).map((s) => s.labels.code)).toContain('UPSTREAM_UNAVAILABLE');
      expect(total(m, 'switchyard_upstream_circuit_state', { backend, state: 'CLOSED' })).toBe(1);
      expect(total(m, 'switchyard_upstream_circuit_state', { backend })).toBe(1);
      expect(total(m, 'switchyard_upstream_rate_limit_waits_total', { backend })).toBe(0);
      expect(total(m, 'switchyard_upstream_rate_limit_wait_seconds', { backend })).toBe(0);
      expect(total(m, 'switchyard_poll_cycles_total', { backend, outcome: 'ok' })).toBeGreaterThan(0);
      expect(observations(m, 'switchyard_poll_cycle_duration_seconds', { backend })).toBe(total(m, 'switchyard_poll_cycles_total', { backend }));
      // Webhooks: every simulator signs its deliveries.
      const received = total(m, 'switchyard_webhook_deliveries_received_total', { backend });
      expect(received).toBeGreaterThan(0);
      expect(total(m, 'switchyard_webhook_deliveries_verified_total', { backend })).toBeLessThanOrEqual(received);
      expect(total(m, 'switchyard_webhook_deliveries_verified_total', { backend })).toBeGreaterThan(0);
      // CI in the OTel conventions: runs by state, workers by state.
      expect(samples(m, 'cicd_pipeline_run_active').filter((s) => s.labels.switchyard_backend === backend).map((s) => s.labels.cicd_pipeline_run_state).sort()).toEqual(['executing', 'finalizing', 'pending']);
      expect(total(m, 'cicd_worker_count', { switchyard_backend: backend })).toBeGreaterThan(0);
    }
    // GitHub and GitLab report their rate-limit window.
    expect(total(m, 'switchyard_upstream_rate_limit_remaining', { backend: 'github-demo' })).toBeGreaterThan(0);
    expect(total(m, 'switchyard_webhook_deliveries_rejected_total', { backend: 'github-demo', reason: 'signature' })).toBe(1);
    expect(total(m, 'switchyard_webhook_deliveries_rejected_total', { backend: '(unknown)', reason: 'unknown_backend' })).toBe(1);
    expect(total(m, 'switchyard_webhook_deliveries_duplicate_total', { backend: 'github-demo' })).toBe(1);
    expect(total(m, 'switchyard_webhook_deliveries_verified_total', { backend: 'github-demo' }))
      .toBe(total(m, 'switchyard_webhook_deliveries_received_total', { backend: 'github-demo' }) - 1);

    // Connections and subscriptions by transport (this test's two are open).
    expect(total(m, 'switchyard_connections', { transport: 'graphql-ws' })).toBe(1);
    expect(total(m, 'switchyard_connections', { transport: 'sse' })).toBe(1);
    expect(total(m, 'switchyard_subscriptions', { transport: 'graphql-ws' })).toBe(1);
    expect(total(m, 'switchyard_subscriptions', { transport: 'sse' })).toBe(1);
    expect(samples(m, 'switchyard_multiplexed_subscriptions').map((s) => s.labels.kind).sort()).toEqual(['groups', 'members']);

    // Event bus and history.
    const bus = histograms(m, 'switchyard_event_bus_lag_seconds')[0]!;
    expect(bus.count).toBeGreaterThan(0);
    expect((bus.sum ?? Infinity) / bus.count).toBeLessThan(1);
    expect(total(m, 'switchyard_subscriber_queue_overflows_total', { queue: 'event-bus' })).toBe(0);
    expect(total(m, 'switchyard_subscriber_queue_overflows_total', { queue: 'websocket' })).toBe(0);
    expect(observations(m, 'switchyard_history_write_lag_seconds')).toBeGreaterThan(0);
    expect(samples(m, 'switchyard_history_backlog').map((s) => s.labels.kind)).toEqual(['buffered']);

    // CI: runs seen finishing, by state and result; errors; pool queues.
    const finished = histograms(m, 'cicd_pipeline_run_duration_seconds').filter((h) => h.labels.cicd_pipeline_run_state === 'executing' || h.labels.cicd_pipeline_result !== '');
    expect(finished.length).toBeGreaterThan(0);
    for (const h of finished) {
      expect(['success', 'failure', 'error', 'timeout', 'cancellation', 'skip']).toContain(h.labels.cicd_pipeline_result);
      expect(h.sum ?? -1).toBeGreaterThanOrEqual(0);
    }
    expect(m.cicd_pipeline_run_errors_total?.type).toBe('counter');
    const queued = samples(m, 'cicd_worker_pool_queue_length');
    expect(queued.length).toBeGreaterThan(0);
    for (const s of samples(m, 'cicd_worker_pool_queue_oldest_wait_seconds')) {
      expect(s.value).toBeGreaterThanOrEqual(0);
      const depth = queued.find((q) => q.labels.switchyard_runner_pool === s.labels.switchyard_runner_pool && q.labels.switchyard_backend === s.labels.switchyard_backend)!.value;
      if (depth === 0) expect(s.value).toBe(0);
    }

    // A subscription is counted and timed when it ends (yoga's plugin); a multiplexed group once.
    expect(total(m, 'graphql_envelop_request', { operationType: 'subscription', operationName: 'MetricsWatch' })).toBe(0);
    await ws.dispose();
    const ended = await scrapeUntil((x) => total(x, 'switchyard_connections', { transport: 'graphql-ws' }) === 0 && total(x, 'graphql_envelop_request', { operationName: 'MetricsWatch' }) > 0, 10_000);
    expect(total(ended, 'graphql_envelop_request', { operationType: 'subscription', operationName: 'MetricsWatch' })).toBe(1);
    expect(observations(ended, 'graphql_envelop_request_duration', { operationType: 'subscription', operationName: 'MetricsWatch' })).toBe(1);
    expect(total(ended, 'switchyard_subscriptions', { transport: 'graphql-ws' })).toBe(0);

    // Bounded cardinality: known label names only, no project named without the allow-list.
    for (const [name, family] of Object.entries(m)) {
      for (const series of family.data) {
        for (const label of Object.keys(series.labels)) expect(ALLOWED_LABELS.has(label), `${name}{${label}}`).toBe(true);
        if ('cicd_pipeline_name' in series.labels) expect(series.labels.cicd_pipeline_name).toBe('');
      }
    }
  }, 120_000);
});
