/**
 * Issue 16 end to end: real gateway processes, the GitHub simulator, the history on the real
 * PostgreSQL, and a loopback receiver that verifies Standard Webhooks signatures with the
 * reference library. Two instances see the same transitions, one by webhook and one by polling,
 * and the receiver still gets exactly one `failed` and one `fixed`; a gateway killed while the
 * sink is down delivers everything once it is back.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPipelineId } from '../../adapters/github/native-ids.ts';
import { createGithubSimulator, type GithubSimulator } from '../../adapters/github/simulator/index.ts';
import { toGlobalId } from '../../src/ids.ts';
import { spawnGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { GITHUB_TOKEN, WEBHOOK_SECRET, waitFor } from '../helpers/stack.ts';

const POSTGRES = 'postgres://postgres@127.0.0.1:5432/test';
const SIGNING_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
// The simulator's repositories have one workflow, named CI.
const WORKFLOW = 'CI';

interface Message {
  readonly webhookId: string;
  readonly trigger: string;
  /** The pipeline's global id. */
  readonly pipelineId: string | null;
  readonly status: number;
}

/** A Standard Webhooks receiver: verifies every delivery, answers `status`, records what it accepted and refused. */
async function startVerifyingReceiver() {
  const verifier = new Webhook(SIGNING_SECRET);
  const attempts: Message[] = [];
  const forged: string[] = [];
  /** `status`: what to answer; `hang`: answer nothing (the request stays open until close). */
  const state = { status: 200, hang: false };
  const hanging: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      let payload: { data?: { trigger?: string; pipeline?: { id?: string } | null } };
      try {
        payload = verifier.verify(body, headers) as typeof payload;
      } catch (error) {
        forged.push(error instanceof Error ? error.message : String(error));
        res.writeHead(400).end();
        return;
      }
      attempts.push({ webhookId: headers['webhook-id']!, trigger: payload.data?.trigger ?? '?', pipelineId: payload.data?.pipeline?.id ?? null, status: state.hang ? 0 : state.status });
      if (state.hang) hanging.push(res);
      else res.writeHead(state.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    attempts, forged, state,
    accepted: () => attempts.filter((a) => a.status > 0 && a.status < 300),
    close: () => {
      for (const res of hanging) res.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function createSchema(admin: pg.Client): Promise<{ name: string; url: string }> {
  const name = `notify_e2e_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE SCHEMA ${name}`);
  return { name, url: `${POSTGRES}?options=${encodeURIComponent(`-c search_path=${name}`)}` };
}

function gatewayConfig(simUrl: string, historyUrl: string, receiverUrl: string): Record<string, unknown> {
  return {
    logLevel: 'silent',
    server: { port: 0, host: '127.0.0.1' },
    auth: { mode: 'open' },
    audit: { file: null },
    events: { store: 'memory' },
    history: { url: { value: historyUrl }, backfill: { enabled: false } },
    backends: [
      {
        name: 'gh', provider: 'github', url: simUrl, token: { value: GITHUB_TOKEN }, webhookSecret: { value: WEBHOOK_SECRET },
        organizations: ['octo-org'], pollIntervalSeconds: 5,
      },
    ],
    notifications: {
      sinks: [{ name: 'hook', type: 'webhook', url: receiverUrl, secret: { value: SIGNING_SECRET }, ratePerMinute: 6000 }],
      rules: [{ name: 'ci', match: { pipelines: [WORKFLOW] }, on: ['failed', 'fixed'], sinks: ['hook'] }],
      // A killed sender's claim lapses after claimSeconds: short here, so the restarted gateway takes the message over at once.
      delivery: { initialBackoffSeconds: 0.05, maxBackoffSeconds: 0.5, claimSeconds: 2 },
    },
  };
}

async function graphql<T>(gateway: GatewayProcess, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${gateway.base}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' }, body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data!;
}

const RUN_STATUS = 'query($id: ID!) { node(id: $id) { ... on Pipeline { status } } }';
const runId = (run: number) => toGlobalId('Pipeline', 'gh', formatPipelineId('octo-org/api', run));

/** Whether `gateway`'s live state shows `runId` of the e2e workflow with `status`. */
async function shows(gateway: GatewayProcess, run: number, status: string): Promise<boolean> {
  const data = await graphql<{ node: { status: string } | null }>(gateway, RUN_STATUS, { id: runId(run) });
  return data.node?.status === status;
}

describe('notifications end to end', () => {
  const admin = new pg.Client({ connectionString: POSTGRES });
  const schemas: string[] = [];
  const gateways: GatewayProcess[] = [];
  let sim: GithubSimulator;

  beforeAll(async () => {
    await admin.connect();
    sim = createGithubSimulator({ token: GITHUB_TOKEN, seed: 31, repositories: ['api'], history: 0 });
    await sim.start();
  }, 30_000);

  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop('SIGKILL')));
    await sim?.stop();
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await admin.end();
  });

  async function run(outcome: 'success' | 'failure'): Promise<number> {
    const { runId } = await sim.triggerRun({ repo: 'api', workflow: WORKFLOW, jobs: [{ name: 'test', outcome }] });
    await sim.runUntilIdle();
    return runId;
  }

  it('should send one failed and one fixed from two instances that learn by webhook and by polling', async () => {
    const receiver = await startVerifyingReceiver();
    try {
      const schema = await createSchema(admin);
      schemas.push(schema.name);
      const config = gatewayConfig(sim.url, schema.url, receiver.url);
      // B alone also has a probe: a rule of its own to a log sink, whose message about a pipeline
      // says B's engine has handled that finish (and, as it handles finishes in order, every one before).
      const notifications = config.notifications as { sinks: unknown[]; rules: unknown[] };
      const probed = {
        ...config,
        notifications: { ...notifications, sinks: [...notifications.sinks, { name: 'probe', type: 'log' }], rules: [...notifications.rules, { name: 'probe', match: { pipelines: [WORKFLOW] }, on: ['failed', 'fixed'], sinks: ['probe'] }] },
      };
      const [a, b] = await Promise.all([spawnGatewayProcess(config), spawnGatewayProcess(probed, 30_000, { polling: true })]);
      gateways.push(a!, b!);
      // Webhooks reach A only; B learns the same transitions from its polls (every 5 s). B is never
      // queried for a pipeline before the end: a read would put it in B's state unannounced.
      sim.setWebhook({ url: `${a!.base}/webhooks/gh`, secret: WEBHOOK_SECRET });
      const probedBy = async (gateway: GatewayProcess, run: number, trigger: string) => {
        await new Promise((r) => setTimeout(r, 250)); // polled: the field allows 120 calls a minute
        const data = await graphql<{ notificationDeliveries: { edges: { node: { trigger: string; pipeline: { id: string } | null } }[] } }>(
          gateway, '{ notificationDeliveries(sink: "probe", first: 50) { edges { node { trigger pipeline { id } } } } }');
        return data.notificationDeliveries.edges.some((e) => e.node.trigger === trigger && e.node.pipeline?.id === runId(run));
      };

      const green = await run('success');
      await waitFor(() => shows(a!, green, 'SUCCESS'), 20_000, 'A sees the first green run');
      const red = await run('failure');
      await waitFor(() => receiver.accepted().some((m) => m.trigger === 'failed'), 20_000, 'the failed message');
      await waitFor(() => probedBy(b!, red, 'FAILED'), 30_000, 'B handles the red run');
      const fixed = await run('success');
      await waitFor(() => receiver.accepted().some((m) => m.trigger === 'fixed'), 20_000, 'the fixed message');
      await waitFor(() => probedBy(b!, fixed, 'FIXED'), 30_000, 'B handles the fixing run');
      // Sentinel: a second failure; once B has handled it, B has sent (or not) everything above.
      const sentinel = await run('failure');
      await waitFor(() => probedBy(b!, sentinel, 'FAILED'), 30_000, 'B handles the sentinel run');
      await waitFor(() => receiver.accepted().filter((m) => m.trigger === 'failed').length >= 2, 20_000, 'the sentinel failed message');
      for (const gateway of [a!, b!]) {
        const pending = await graphql<{ notificationDeliveries: { edges: unknown[] } }>(gateway, '{ notificationDeliveries(state: PENDING) { edges { cursor } } }');
        expect(pending.notificationDeliveries.edges).toEqual([]);
      }

      const about = (run: number) => receiver.accepted().filter((m) => m.pipelineId === runId(run));
      expect(receiver.forged).toEqual([]);
      expect(about(green)).toEqual([]);
      expect(about(red).map((m) => m.trigger)).toEqual(['failed']);
      expect(about(fixed).map((m) => m.trigger)).toEqual(['fixed']);
      expect(about(sentinel).map((m) => m.trigger)).toEqual(['failed']);
      expect(new Set(receiver.accepted().map((m) => m.webhookId)).size).toBe(receiver.accepted().length);
    } finally {
      await receiver.close();
    }
  }, 180_000);

  it('should deliver what a killed gateway could not send, once the sink is back', async () => {
    const receiver = await startVerifyingReceiver();
    try {
      const schema = await createSchema(admin);
      schemas.push(schema.name);
      const config = gatewayConfig(sim.url, schema.url, receiver.url);
      const first = await spawnGatewayProcess(config);
      gateways.push(first);
      sim.setWebhook({ url: `${first.base}/webhooks/gh`, secret: WEBHOOK_SECRET });
      const green = await run('success');
      await waitFor(() => shows(first, green, 'SUCCESS'), 20_000, 'the green run');

      receiver.state.status = 503; // the sink is down
      const red = await run('failure');
      await waitFor(() => receiver.attempts.filter((m) => m.trigger === 'failed').length >= 2, 20_000, 'attempts against the down sink');
      // Then it hangs: the gateway is killed while it holds the message (state sending, its claim
      // live), so the next one must take the claim over when it lapses (claimSeconds).
      receiver.state.hang = true;
      await waitFor(() => receiver.attempts.some((m) => m.status === 0), 20_000, 'an attempt in flight');
      await first.stop('SIGKILL');
      receiver.state.hang = false;
      const refusedIds = new Set(receiver.attempts.map((m) => m.webhookId));

      receiver.state.status = 200; // back
      const second = await spawnGatewayProcess(config);
      gateways.push(second);
      await waitFor(() => receiver.accepted().length > 0, 30_000, 'delivery after the restart');
      expect(receiver.accepted().map((m) => [m.trigger, m.pipelineId])).toEqual([['failed', runId(red)]]);
      // At least once, and recognisably the same message: the webhook-id of the refused attempts.
      expect(refusedIds.has(receiver.accepted()[0]!.webhookId)).toBe(true);
      // The receiver has it; the outcome is written just after.
      type Delivered = { notificationDeliveries: { edges: { node: { state: string; attempts: number } }[] } };
      let delivered: Delivered | null = null;
      await waitFor(async () => {
        await new Promise((r) => setTimeout(r, 250)); // polled: the field allows 120 calls a minute
        delivered = await graphql<Delivered>(second, '{ notificationDeliveries(state: DELIVERED) { edges { node { state attempts } } } }');
        return delivered.notificationDeliveries.edges.length > 0;
      }, 20_000, 'the delivery recorded');
      expect(delivered!.notificationDeliveries.edges).toHaveLength(1);
      expect(delivered!.notificationDeliveries.edges[0]!.node.attempts).toBeGreaterThanOrEqual(3);
    } finally {
      await receiver.close();
    }
  }, 120_000);
});
