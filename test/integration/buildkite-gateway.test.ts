import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuildkiteSimulator, type BuildkiteSimulator } from '../../adapters/buildkite/simulator/index.ts';
import { startGatewayStack, type GatewayStack } from '../helpers/gateway-stack.ts';
import { collect, waitFor } from '../helpers/stack.ts';

/**
 * The real gateway with a Buildkite backend over the simulator on 127.0.0.1:
 * a query reads builds through the REST API, and a subscription sees a new
 * build move through signed webhooks alone (the gateway does not poll here).
 */
const TOKEN = 'bk-integration-token';
const SECRET = 'bk-integration-webhook-secret';
const globalId = (type: string, nativeId: string) => Buffer.from(`${type}:bk:${nativeId}`).toString('base64url');

interface PipelineEv { pipelineUpdated: { pipeline: { id: string; status: string; waitReason: string | null; native: { status: string | null } } } }

describe('gateway over the Buildkite simulator', () => {
  let sim: BuildkiteSimulator;
  let stack: GatewayStack;

  beforeAll(async () => {
    sim = await createBuildkiteSimulator({ token: TOKEN, seed: 5, history: 1, rateLimit: { limit: 10_000, windowSeconds: 60 } });
    stack = await startGatewayStack(
      { backends: [{ name: 'bk', provider: 'buildkite', url: sim.url, organization: sim.organization, token: { value: TOKEN }, webhookSecret: { value: SECRET }, requestsPerMinute: 10_000 }] },
      { onClose: () => sim.close() },
    );
    sim.addWebhook({ url: `${stack.base}/webhooks/bk`, mode: 'signature', secret: SECRET });
  }, 30_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('should answer a pipelines query from the REST API with the mapped statuses and jobs', async () => {
    const res = await stack.query<{ pipelines: { nodes: { id: string; status: string; number: number; project: { fullName: string }; jobs: { nodes: { name: string; status: string }[] } }[] } }>(
      '{ pipelines(first: 50) { nodes { id status number project { fullName } jobs { nodes { name status } } } } }',
    );
    expect(res.errors).toBeUndefined();
    const nodes = res.data!.pipelines.nodes;
    const seeded = sim.builds().filter((b) => b.state === 'passed' && !b.blocked);
    expect(seeded.length).toBeGreaterThan(0);
    const one = seeded[0]!;
    const node = nodes.find((n) => n.id === globalId('Pipeline', `${one.pipeline.slug}/${one.number}`));
    expect(node, `build ${one.pipeline.slug}/${one.number} listed`).toBeDefined();
    expect(node!.status).toBe('SUCCESS');
    expect(node!.project.fullName).toBe(one.pipeline.slug);
    expect(node!.jobs.nodes.length).toBeGreaterThan(0);
  });

  it('should push a new build through webhooks: running, then stopped at its block step as WAITING/APPROVAL', async () => {
    const before = stack.gateway.subscriptionCount;
    const sub = collect<PipelineEv>(
      stack.wsClient(),
      'subscription { pipelineUpdated { pipeline { id status waitReason native { status } } } }',
      undefined,
      (items) => items.some((e) => e.pipelineUpdated.pipeline.status === 'WAITING'),
      20_000,
    );
    sub.done.catch(() => undefined);
    await waitFor(() => stack.gateway.subscriptionCount === before + 1, 5_000, 'the subscription');
    const build = sim.triggerBuild({ pipeline: 'ios', branch: 'main', message: 'Release 9.9' });
    await sim.runUntilIdle();
    const items = await sub.done;
    const mine = items.filter((e) => e.pipelineUpdated.pipeline.id === globalId('Pipeline', `ios/${build.number}`)).map((e) => e.pipelineUpdated.pipeline);
    expect(mine.map((p) => p.status)).toContain('RUNNING');
    expect(mine.at(-1)).toMatchObject({ status: 'WAITING', waitReason: 'APPROVAL', native: { status: 'passed' } });
  });
});
