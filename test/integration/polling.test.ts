import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collect, startStack, waitForSubscribers, type Stack } from '../helpers/stack.ts';

interface JobEventData {
  jobUpdated: { previousStatus: string | null; source: string; job: { name: string; status: string } };
}

describe('polling where no webhook is configured', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      webhooks: false,
      sim: { repositories: ['api'], history: 2, runners: [{ name: 'solo', labels: ['self-hosted'], scope: 'org' }] },
    });
    // First cycle learns the current state (and the ETags).
    await stack.gateway.scheduler.pollNow('gh');
  });
  afterAll(() => stack.close());
  // Each test starts with no subscription left over from the one before.
  afterEach(() => waitForSubscribers(stack, 0));

  it('should publish each state change it observes, with source POLL', async () => {
    const client = stack.wsClient();
    const events = collect<JobEventData>(
      client,
      'subscription { jobUpdated { previousStatus source job { name status } } }',
      undefined,
      (items) => items.some((e) => e.jobUpdated.job.status === 'SUCCESS'),
    );
    await waitForSubscribers(stack, 1);
    await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'polled', labels: ['self-hosted'] }] });
    await stack.gateway.scheduler.pollNow('gh');
    await stack.sim.step(); // the job starts on the runner
    await stack.gateway.scheduler.pollNow('gh');
    await stack.sim.runUntilIdle();
    await stack.gateway.scheduler.pollNow('gh');
    const got = (await events.done).map((e) => e.jobUpdated);
    const polled = got.filter((e) => e.job.name === 'polled');
    expect(polled.map((e) => e.job.status)).toEqual(['QUEUED', 'RUNNING', 'SUCCESS']);
    expect(polled.map((e) => e.previousStatus)).toEqual([null, 'QUEUED', 'RUNNING']);
    expect(new Set(polled.map((e) => e.source))).toEqual(new Set(['POLL']));
  });

  it('should show a runner going offline and back from runner polls', async () => {
    const client = stack.wsClient();
    const events = collect<{ runnerUpdated: { previousState: string | null; source: string; runner: { name: string; state: string } } }>(
      client,
      'subscription { runnerUpdated { previousState source runner { name state } } }',
      undefined,
      (items) => items.length >= 2,
    );
    await waitForSubscribers(stack, 1);
    stack.sim.setRunnerStatus('solo', 'offline');
    await stack.gateway.scheduler.pollNow('gh');
    stack.sim.setRunnerStatus('solo', 'online');
    await stack.gateway.scheduler.pollNow('gh');
    const got = (await events.done).map((e) => e.runnerUpdated);
    expect(got.map((e) => [e.previousState, e.runner.state, e.source])).toEqual([
      ['IDLE', 'OFFLINE', 'POLL'],
      ['OFFLINE', 'IDLE', 'POLL'],
    ]);
  });

  it('should spend only free conditional requests (304) when nothing changed', async () => {
    await stack.gateway.scheduler.pollNow('gh');
    stack.sim.resetRequests();
    await stack.gateway.scheduler.pollNow('gh');
    const statuses = stack.sim.requests.map((r) => r.status);
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 304), JSON.stringify(stack.sim.requests)).toBe(true);
  });

  it('should report the last poll in Backend.health and say webhooks are off', async () => {
    const res = await stack.query<{ backends: { capabilities: { webhooks: boolean; polling: boolean }; health: { lastPollAt: string | null; rateLimitRemaining: number | null } }[] }>(
      '{ backends { capabilities { webhooks polling } health { lastPollAt rateLimitRemaining } } }',
    );
    const b = res.data!.backends[0]!;
    expect(b.capabilities).toEqual({ webhooks: false, polling: true });
    expect(b.health.lastPollAt).not.toBeNull();
    expect(b.health.rateLimitRemaining).toBeGreaterThan(0);
  });
});

describe('reconciliation after a webhook outage', () => {
  it('should catch up by polling on what webhooks never delivered', async () => {
    const stack = await startStack({ sim: { repositories: ['api'], history: 1, runners: [{ name: 'solo', labels: ['self-hosted'], scope: 'org' }] } });
    try {
      await stack.gateway.scheduler.pollNow('gh');
      const client = stack.wsClient();
      const events = collect<JobEventData>(client, 'subscription { jobUpdated { source job { name status } } }', undefined, (items) =>
        items.some((e) => e.jobUpdated.job.name === 'missed' && e.jobUpdated.job.status === 'SUCCESS'),
      );
      await waitForSubscribers(stack, 1);
      stack.sim.setWebhook(null); // the outage: GitHub's deliveries fail, and it does not retry them
      await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'missed', labels: ['self-hosted'] }] });
      await stack.sim.runUntilIdle();
      await stack.gateway.scheduler.pollNow('gh');
      const got = (await events.done).map((e) => e.jobUpdated).filter((e) => e.job.name === 'missed');
      expect(got.at(-1)).toEqual({ source: 'POLL', job: { name: 'missed', status: 'SUCCESS' } });
    } finally {
      await stack.close();
    }
  });
});
