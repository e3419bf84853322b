import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterFactories } from '../../src/adapters.ts';
import { validateConfig } from '../../src/config/load-config.ts';
import { registerProviders } from '../../src/providers.ts';
import { signTestCi, startTestCiServer, testProvider, type TestCiServer } from '../fixtures/test-provider/index.ts';
import { startGatewayStack, type GatewayStack } from '../helpers/gateway-stack.ts';
import { collect, waitFor } from '../helpers/stack.ts';

/**
 * Issue 12 item 1: a provider defined only under test/ (testci: recorded
 * fixtures, a fake server, no simulator) is registered at run time, configured,
 * queried and subscribed to, with no edit to src/, schema/ or the linters.
 */
const TOKEN = 'tci_abcdefghijklmnopqr';
const SECRET = 'testci-hook-secret';
const providers = registerProviders(...Object.values(adapterFactories), testProvider);

const backendsOf = (url: string) => [
  { name: 'tci', provider: 'testci', url, token: { value: TOKEN }, projects: ['acme-api', 'acme-web'], webhookSecret: { value: SECRET } },
  { name: 'tci-hints', provider: 'testci', url, token: { value: TOKEN }, projects: ['acme-api'], webhookSecret: { value: SECRET }, confirmPushes: true },
];

function delivery(id: string, event: 'build' | 'job', item: Record<string, unknown>, sentAtSec = Math.floor(Date.now() / 1000)) {
  const body = JSON.stringify({ [event]: item });
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-testci-event': event, 'x-testci-delivery': id, 'x-testci-signature': signTestCi(SECRET, sentAtSec, body) },
    body,
  };
}

interface PipelinesData {
  backends: { name: string; provider: string; capabilities: { webhooks: boolean } }[];
  pipelines: { nodes: { number: number; status: string; waitReason: string | null; native: { provider: string; status: string }; jobs: { nodes: { name: string; status: string; runner: { name: string; state: string } | null }[] } }[] };
}
interface JobEvent { jobUpdated: { source: string; job: { name: string; status: string; native: { provider: string; status: string } } } }

describe('a provider defined only under test/ (testci)', () => {
  let upstream: TestCiServer;
  let stack: GatewayStack;

  beforeAll(async () => {
    upstream = await startTestCiServer(TOKEN);
    stack = await startGatewayStack({ freshnessSeconds: 0, backends: backendsOf(upstream.url) }, { factories: providers, onClose: () => upstream.close() });
  });
  afterAll(() => stack?.close());

  it('should be refused by a build that does not register it, and accepted once registered', () => {
    const config = { auth: { mode: 'open' }, backends: backendsOf('http://127.0.0.1:1') };
    expect(() => validateConfig(config, adapterFactories)).toThrow(/backends\[0\]\.provider: expected one of "github", "gitlab", "jenkins", "buildkite" \(available in this build\), received "testci"/);
    expect(validateConfig(config, providers).backends.map((b) => b.provider)).toEqual(['testci', 'testci']);
  });

  it('should answer queries from its fake upstream, in the unified model, inside its configured projects', async () => {
    const res = await stack.query<PipelinesData>(`{
      backends { name provider capabilities { webhooks } }
      pipelines(filter: { backends: ["tci"] }) { nodes { number status waitReason native { provider status } jobs { nodes { name status runner { name state } } } } }
    }`);
    expect(res.errors).toBeUndefined();
    expect(res.data!.backends).toEqual([
      { name: 'tci', provider: 'TESTCI', capabilities: { webhooks: true } },
      { name: 'tci-hints', provider: 'TESTCI', capabilities: { webhooks: true } },
    ]);
    const pipelines = res.data!.pipelines.nodes;
    // Newest first; other-team's build is outside the configured projects.
    expect(pipelines.map((p) => [p.number, p.status, p.waitReason, p.native])).toEqual([
      [8, 'RUNNING', null, { provider: 'TESTCI', status: 'running' }],
      [7, 'SUCCESS', null, { provider: 'TESTCI', status: 'passed' }],
      [3, 'WAITING', 'APPROVAL', { provider: 'TESTCI', status: 'blocked' }],
    ]);
    expect(pipelines[0]!.jobs.nodes).toEqual([{ name: 'test', status: 'RUNNING', runner: { name: 'linux-1', state: 'BUSY' } }]);
  });

  it('should turn a signed webhook delivery into a subscription event, and refuse a replay outside the window', async () => {
    const client = stack.wsClient();
    const events = collect<JobEvent>(
      client,
      'subscription { jobUpdated(filter: { backends: ["tci"] }) { source job { name status native { provider status } } } }',
      undefined,
      (items) => items.some((e) => e.jobUpdated.job.status === 'FAILURE'),
    );
    await waitFor(() => stack.gateway.subscriptionCount === 1, 5000, 'the subscription');
    const finished = { ...upstream.data.jobs.find((j) => j.id === 1003)!, state: 'failed', finished_at: '2026-11-24T14:12:00Z', updated_at: '2026-11-24T14:12:00Z' };

    // Correctly signed, but sent 10 minutes ago: outside the kit's replay window.
    const stale = await fetch(`${stack.base}/webhooks/tci`, delivery('d-stale', 'job', finished, Math.floor(Date.now() / 1000) - 600));
    expect(stale.status).toBe(401);

    const fresh = await fetch(`${stack.base}/webhooks/tci`, delivery('d-job-1003', 'job', finished));
    expect(fresh.status).toBe(202);
    const received = (await events.done).map((e) => e.jobUpdated);
    expect(received).toEqual([{ source: 'WEBHOOK', job: { name: 'test', status: 'FAILURE', native: { provider: 'TESTCI', status: 'failed' } } }]);
  });

  it("should redact the provider's token shape (its secretPatterns) from upstream error text", async () => {
    upstream.failNext('/api/projects/acme-web/builds', 422, `unknown branch filter near ${TOKEN.slice(0, 4)}zyxwvutsrqponmlkj`);
    const res = await stack.query(`{ pipelines(filter: { backends: ["tci"] }) { nodes { number } } }`);
    const message = JSON.stringify(res.errors);
    expect(message).toContain('answered 422: unknown branch filter near [redacted]');
    expect(message).not.toContain('zyxwvutsrqponmlkj');
  });

  it("should hold a delivery's claim for the provider's own webhook timeout (3 s), not another provider's", async () => {
    const release = upstream.hold('/api/builds/101');
    const build = upstream.data.builds.find((b) => b.id === 101)!;
    const first = await fetch(`${stack.base}/webhooks/tci-hints`, delivery('d-hold', 'build', build));
    expect(first.status).toBe(202);
    // The confirmation's read back is under way (held by the fake server): the claim is pending.
    await waitFor(() => upstream.requests.includes('/api/builds/101'), 5000, 'the confirmation read');
    const during = await fetch(`${stack.base}/webhooks/tci-hints`, delivery('d-hold', 'build', build));
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toBe('3');
    release();
    await waitFor(async () => (await fetch(`${stack.base}/webhooks/tci-hints`, delivery('d-hold', 'build', build))).status === 200, 5000, 'the delivery to be done');
  });
});
