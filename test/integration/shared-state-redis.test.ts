import { randomUUID } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatJobId, formatPipelineId } from '../../adapters/github/native-ids.ts';
import { createGithubSimulator, type GithubSimulator } from '../../adapters/github/simulator/index.ts';
import { toGlobalId } from '../../src/ids.ts';
import { sharedRedisGatewayConfig, spawnGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { GITHUB_TOKEN, WEBHOOK_SECRET, waitFor } from '../helpers/stack.ts';

const JOBS = 'subscription { jobUpdated { job { name status } } }';

describe('live state shared through the Redis event bus', () => {
  const prefix = `switchyard:test:shared-state:${randomUUID()}:`;
  const redis = new Redis('redis://127.0.0.1:6379');
  const gateways: GatewayProcess[] = [];
  let client: Client | undefined;
  let sim: GithubSimulator;

  beforeAll(async () => {
    sim = createGithubSimulator({ token: GITHUB_TOKEN, seed: 23, repositories: ['api'], history: 1, runners: [{ name: 'solo', labels: ['self-hosted', 'linux'], scope: 'org' }] });
    await sim.start();
    const config = sharedRedisGatewayConfig({ simUrl: sim.url, streamPrefix: prefix });
    gateways.push(...(await Promise.all([spawnGatewayProcess(config), spawnGatewayProcess(config)])));
    // Webhooks go to gateway A only; B learns of them through the Redis stream alone.
    sim.setWebhook({ url: `${gateways[0]!.base}/webhooks/gh`, secret: WEBHOOK_SECRET });
  }, 60_000);

  afterAll(async () => {
    await client?.dispose();
    await Promise.all(gateways.map((g) => g.stop()));
    await sim?.stop();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('should answer a query on instance B from a webhook that instance A received, with no upstream request', async () => {
    const b = gateways[1]!;
    // A subscriber on B tells when B has read the stream (B applies an event to its state before delivering it).
    client = createClient({ url: b.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    const seen: { name: string; status: string }[] = [];
    client.subscribe<{ jobUpdated: { job: { name: string; status: string } } }>(
      { query: JOBS },
      { next: (v) => v.data && seen.push(v.data.jobUpdated.job), error: () => undefined, complete: () => undefined },
    );
    const runs: { id: string; status: string }[] = [];
    client.subscribe<{ pipelineUpdated: { pipeline: { id: string; status: string } } }>(
      { query: 'subscription { pipelineUpdated { pipeline { id status } } }' },
      { next: (v) => v.data && runs.push(v.data.pipelineUpdated.pipeline), error: () => undefined, complete: () => undefined },
    );
    // graphql-ws does not acknowledge subscriptions: warm up until both of B's subscribers see an event.
    for (let i = 0; seen.length === 0 || runs.length === 0; i++) {
      expect(i).toBeLessThan(20);
      await sim.triggerRun({ repo: 'api', jobs: [{ name: `warmup-${i}`, labels: ['self-hosted'], outcome: 'success' }] });
      await sim.runUntilIdle();
      await new Promise((r) => setTimeout(r, 200));
    }

    const { runId, jobIds } = await sim.triggerRun({ repo: 'api', jobs: [{ name: 'shared-state', labels: ['self-hosted'], outcome: 'failure' }] });
    await sim.runUntilIdle();
    const project = 'octo-org/api';
    const runGlobalId = toGlobalId('Pipeline', 'gh', formatPipelineId(project, runId));
    await waitFor(() => seen.some((j) => j.name === 'shared-state' && j.status === 'FAILURE'), 10_000, 'B reads the final job event');
    // The run's completion comes after its last job's, on another stream: wait until B has delivered it too.
    await waitFor(() => runs.some((p) => p.id === runGlobalId && p.status === 'FAILURE'), 10_000, 'B reads the final run event');

    sim.resetRequests();
    const res = await fetch(`${b.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({
        query: 'query($job: ID!, $run: ID!) { job: node(id: $job) { ... on Job { name status } } run: node(id: $run) { ... on Pipeline { status } } }',
        variables: { job: toGlobalId('Job', 'gh', formatJobId(project, jobIds[0]!)), run: runGlobalId },
      }),
    });
    const body = (await res.json()) as { data?: { job: { name: string; status: string }; run: { status: string } }; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ job: { name: 'shared-state', status: 'FAILURE' }, run: { status: 'FAILURE' } });
    expect(sim.requests).toEqual([]);
  }, 60_000);
});
