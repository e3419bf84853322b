import { afterEach, describe, expect, it } from 'vitest';
import { createJenkinsSimulator, type JenkinsSimulator } from '../../adapters/jenkins/simulator/index.ts';
import { toGlobalId } from '../../src/ids.ts';
import { startGatewayStack, type GatewayStack } from '../helpers/gateway-stack.ts';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';

/**
 * Issue 10 item 7: requests went out during a Retry-After wait and while the
 * circuit was open, from the runner fetch behind a job webhook naming an
 * unknown runner and from Jenkins push confirmation. Each case opens the
 * circuit (or starts a wait) with the simulator's fault injection, clears the
 * fault so the upstream would answer, provokes the culprit, waits for the
 * sentinel (the refusal's log line, or the request itself) and counts requests.
 */
const NODE = 'query($id: ID!) { node(id: $id) { id } }';
const HEALTH = '{ backends { name health { circuit rateLimitedUntil } } }';

type Health = { backends: { name: string; health: { circuit: string; rateLimitedUntil: string | null } }[] };

async function openCircuit(stack: GatewayStack, nodeId: string): Promise<void> {
  // Five failed reads in a row (each after its retries) open the breaker.
  for (let i = 0; i < 5; i++) await stack.query(NODE, { id: nodeId });
  const health = await stack.query<Health>(HEALTH);
  expect(health.data?.backends[0]?.health.circuit).toBe('OPEN');
}

describe('the runner fetch behind a job webhook obeys the backend policy', () => {
  let stack: Stack;
  const logs: string[] = [];
  afterEach(() => stack.close());

  async function provokeRunnerFetch(): Promise<void> {
    logs.length = 0;
    stack.sim.resetRequests();
    // Jobs on self-hosted runners the gateway has never listed (polling is off).
    await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'build', labels: ['self-hosted'] }] });
    await stack.sim.runUntilIdle();
    await waitFor(
      () => logs.some((l) => l.includes('could not load runner named by a job event')) || stack.sim.requests.length > 0,
      10_000, 'the runner fetch to be refused or sent',
    );
  }

  it('should send nothing while the circuit is open', async () => {
    stack = await startStack({ sim: { history: 1 }, logSink: (l) => logs.push(l) });
    const run = stack.sim.world.runs('api')[0]!;
    stack.sim.setFault({ status: 502, body: { message: 'Server Error' } });
    await openCircuit(stack, toGlobalId('Pipeline', 'gh', `octo-org/api/runs/${run.id}`));
    stack.sim.setFault(null);
    await provokeRunnerFetch();
    expect(stack.sim.requests).toEqual([]);
  });

  it('should send nothing during a Retry-After wait', async () => {
    stack = await startStack({ sim: { history: 1 }, logSink: (l) => logs.push(l) });
    stack.sim.setFault({ status: 429, retryAfterSeconds: 120, body: { message: 'API rate limit exceeded' } });
    const run = stack.sim.world.runs('api')[0]!;
    await stack.query(NODE, { id: toGlobalId('Pipeline', 'gh', `octo-org/api/runs/${run.id}`) });
    expect((await stack.query<Health>(HEALTH)).data?.backends[0]?.health.rateLimitedUntil).not.toBeNull();
    stack.sim.setFault(null);
    await provokeRunnerFetch();
    expect(stack.sim.requests).toEqual([]);
  });
});

describe('jenkins push confirmation obeys the backend policy', () => {
  const SECRET = 'notify-secret';
  let sim: JenkinsSimulator;
  let stack: GatewayStack;
  const logs: string[] = [];
  afterEach(() => stack.close());

  async function start(): Promise<void> {
    sim = createJenkinsSimulator({ user: 'bot', apiToken: 'jt', seed: 11, history: 1 });
    await sim.start();
    stack = await startGatewayStack(
      { backends: [{ name: 'jk', provider: 'jenkins', url: sim.url, user: 'bot', apiToken: { value: 'jt' }, notifySecret: { value: SECRET }, requestsPerMinute: 10_000 }] },
      { logSink: (l) => logs.push(l), onClose: () => sim.stop() },
    );
  }

  async function pushAndSettle(): Promise<void> {
    logs.length = 0;
    sim.resetRequests();
    const build = sim.world.builds('team-a/lint')[0]!;
    const res = await fetch(`${stack.base}/webhooks/jk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-switchyard-token': SECRET },
      body: JSON.stringify({ name: 'lint', url: 'job/team-a/job/lint/', build: { number: build.number, phase: 'COMPLETED', status: 'SUCCESS', url: `job/team-a/job/lint/${build.number}/` } }),
    });
    expect(res.status).toBe(202);
    await waitFor(() => logs.some((l) => l.includes('webhook hint could not be confirmed')) || sim.requests.length > 0, 10_000, 'the confirmation to be refused or sent');
  }

  it('should send nothing while the circuit is open', async () => {
    await start();
    sim.setFault({ status: 502, body: 'Bad gateway' });
    await openCircuit(stack, toGlobalId('Pipeline', 'jk', 'team-a/lint#1'));
    sim.setFault(null);
    await pushAndSettle();
    expect(sim.requests).toEqual([]);
  });

  it('should send nothing during a Retry-After wait', async () => {
    await start();
    sim.setFault({ status: 429, retryAfterSeconds: 120, body: 'Too many requests' });
    await stack.query(NODE, { id: toGlobalId('Pipeline', 'jk', 'team-a/lint#1') });
    expect((await stack.query<Health>(HEALTH)).data?.backends[0]?.health.rateLimitedUntil).not.toBeNull();
    sim.setFault(null);
    await pushAndSettle();
    expect(sim.requests).toEqual([]);
  });
});
