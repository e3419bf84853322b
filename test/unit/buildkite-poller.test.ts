import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import factory from '../../adapters/buildkite/index.ts';
import { createBuildkiteSimulator, type BuildkiteSimulator } from '../../adapters/buildkite/simulator/index.ts';
import type { BackendAdapter } from '../../src/adapter-contract.ts';
import { contractContext } from '../contract/adapter-context.ts';

/** One poll cycle against the simulator: cheap when nothing changed, complete when a build ran. */
describe('Buildkite poller', () => {
  let sim: BuildkiteSimulator;
  let adapter: BackendAdapter;
  const requests = () => sim.requests.length;

  beforeAll(async () => {
    sim = await createBuildkiteSimulator({ token: 't', seed: 3, history: 1, rateLimit: { limit: 10_000, windowSeconds: 60 } });
    adapter = factory.create(factory.configSchema.parse({ url: sim.url, organization: sim.organization, token: { value: 't' }, requestsPerMinute: 600 }), contractContext('bk'));
  });
  afterAll(async () => {
    await adapter?.dispose();
    await sim?.close();
  });

  it('should return nothing and cost three requests when nothing changed', async () => {
    const build = sim.triggerBuild({ pipeline: 'docs', branch: 'main', message: 'seen once' });
    await sim.runUntilIdle();
    const first = await adapter.poll!();
    expect(first.entities.some((e) => e.nativeId === `docs/${build.number}`)).toBe(true);
    const before = requests();
    const second = await adapter.poll!();
    expect(second.entities).toEqual([]);
    expect(requests() - before).toBe(3); // active builds, finished builds, agents
    expect(sim.requests.slice(-3).map((r) => r.path.split('?')[0])).toEqual(expect.arrayContaining(['/v2/organizations/acme/builds', '/v2/organizations/acme/agents']));
  });

  it('should return a build that ran since the last cycle, with every job, and pace the next cycle by the budget', async () => {
    const build = sim.triggerBuild({ pipeline: 'web', branch: 'main', message: 'poll me' });
    await sim.runUntilIdle();
    const result = await adapter.poll!();
    const mine = result.entities.filter((e) => e.type !== 'Runner' && ('pipelineNativeId' in e ? e.pipelineNativeId : e.nativeId) === `web/${build.number}`);
    expect(mine.find((e) => e.type === 'Pipeline')).toMatchObject({ status: expect.stringMatching(/SUCCESS|FAILURE|UNSTABLE/) });
    const shownJobs = build.jobs.filter((j) => j.type !== 'waiter');
    expect(mine.filter((e) => e.type === 'Job').length).toBe(shownJobs.length);
    // Nothing runs any more: the idle interval (60 s by default).
    expect(result.nextPollAfterMs).toBe(60_000);
  });

  it('should wait longer than the interval when the cycle spent more than requestsPerMinute allows', async () => {
    const config = { url: sim.url, organization: sim.organization, token: { value: 't' }, requestsPerMinute: 10, pollIntervalSeconds: 1, idlePollIntervalSeconds: 1 };
    const slow = factory.create(factory.configSchema.parse(config), contractContext('bk-slow'));
    // Three requests at 10 a minute: 18 s, not the 1 s interval.
    expect((await slow.poll!()).nextPollAfterMs).toBe(18_000);
    await slow.dispose();
  });
});
