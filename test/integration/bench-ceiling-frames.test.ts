import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createGithubSimulator, type GithubSimulator } from '../../adapters/github/simulator/index.ts';
import { startGatewayChild, type GatewayChild } from '../../bench/lib/gateway-child.ts';
import { captureJobTemplates, jobBody, type JobTemplates } from '../../bench/lib/webhook-templates.ts';
import { FANOUT_DISTINCT, FANOUT_IDENTICAL, FANOUT_UNIQUE } from '../../bench/scenarios/fanout.ts';
import { post, sign } from '../../bench/scenarios/webhook-latency.ts';

/**
 * The fan-out bench reads Switchyard as a fraction of a raw `ws` ceiling
 * (bench/baseline/ceiling-server.ts). That is only a fair ceiling if, fed the
 * same signed webhook, it sends the same bytes to each subscriber as the
 * gateway does, for every operation variant the bench runs.
 */
const SECRET = 'ceiling-test-secret';
const CEILING_ENTRY = new URL('../../bench/baseline/ceiling-server.ts', import.meta.url).pathname;

let sim: GithubSimulator;
let templates: JobTemplates;
let gateway: GatewayChild;
let ceiling: GatewayChild;

beforeAll(async () => {
  sim = createGithubSimulator({ token: 't', seed: 7 });
  await sim.start();
  templates = await captureJobTemplates(sim, SECRET);
  [gateway, ceiling] = await Promise.all([
    startGatewayChild({ simUrl: sim.url, token: 't', webhookSecret: SECRET }),
    startGatewayChild({ simUrl: sim.url, token: 't', webhookSecret: SECRET, entry: CEILING_ENTRY }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([gateway?.stop(), ceiling?.stop()]);
  await sim?.stop();
});

let probeIds = 700_000_000_500;
const queued = (jobId: number, name: string) => {
  const now = Date.now();
  return sign(SECRET, jobBody(templates, 'queued', jobId, name, { created: now, started: now, completed: now }));
};

/**
 * Subscribes with graphql-transport-ws and, once a probe shows the
 * subscription live (graphql-ws does not acknowledge one), POSTs the signed
 * webhook of job `jobId`; resolves with that job's `next` frame, verbatim.
 */
async function frameOf(server: GatewayChild, query: string, variables: Record<string, unknown> | undefined, jobId: number): Promise<string> {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/graphql`, 'graphql-transport-ws');
  const agent = new http.Agent({ keepAlive: true });
  const frames: string[] = [];
  let wake = () => undefined as void;
  try {
    ws.on('message', (raw: Buffer) => {
      const text = raw.toString();
      if (text.includes('"connection_ack"')) ws.send(JSON.stringify({ id: 'sub-1', type: 'subscribe', payload: { query, variables } }));
      else if (text.includes('"next"')) frames.push(text);
      wake();
    });
    ws.on('open', () => ws.send('{"type":"connection_init"}'));
    const arrived = (pattern: string) => new Promise<string | null>((resolve) => {
      const check = () => {
        const found = frames.find((f) => f.includes(pattern));
        if (found) resolve(found);
      };
      wake = check;
      check();
      setTimeout(() => resolve(null), 250);
    });
    for (let attempt = 0; ; attempt++) {
      if (attempt > 80) throw new Error('the subscription never went live');
      const probe = probeIds++;
      expect((await post(agent, server.base, queued(probe, `bench-p-${probe}`), `probe-${probe}`)).status).toBe(202);
      if (await arrived(`"bench-p-${probe}"`)) break;
    }
    expect((await post(agent, server.base, queued(jobId, `bench-m-${jobId}`), `measured-${jobId}`)).status).toBe(202);
    for (let attempt = 0; attempt < 40; attempt++) {
      const frame = await arrived(`"bench-m-${jobId}"`);
      if (frame) return frame;
    }
    throw new Error(`no frame for job ${jobId}`);
  } finally {
    ws.terminate();
    agent.destroy();
  }
}

describe('fan-out ceiling server', () => {
  const variants: Array<[string, string, Record<string, unknown> | undefined]> = [
    ['identical', FANOUT_IDENTICAL, undefined],
    ['distinct', FANOUT_DISTINCT, { f: { backends: ['gh', 'x7'] } }],
    ['unique', FANOUT_UNIQUE.replace('__I__', '7'), undefined],
  ];
  for (const [name, query, variables] of variants) {
    it(`sends the gateway's exact next frame for the ${name} operation`, async () => {
      const jobId = 700_000_000_100 + variants.findIndex((v) => v[0] === name);
      const [fromGateway, fromCeiling] = await Promise.all([frameOf(gateway, query, variables, jobId), frameOf(ceiling, query, variables, jobId)]);
      expect(fromGateway).toContain('bench-m-');
      expect(fromCeiling).toBe(fromGateway);
    }, 30_000);
  }

  it('refuses a webhook whose signature does not match, as the gateway does', async () => {
    const agent = new http.Agent({ keepAlive: false });
    const body = jobBody(templates, 'queued', 1, 'bench-m-1', { created: 0, started: 0, completed: 0 });
    const forged = { body, signature: sign('another-secret', body).signature };
    const [g, c] = await Promise.all([post(agent, gateway.base, forged, 'forged-1'), post(agent, ceiling.base, forged, 'forged-2')]);
    expect(c.status).toBe(401);
    expect(g.status).toBe(401);
  });
});
