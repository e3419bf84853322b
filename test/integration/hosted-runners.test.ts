import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RUNNERS } from '../../adapters/github/simulator/world-seed.ts';
import { collect, startStack, waitForSubscribers, type Stack } from '../helpers/stack.ts';

/**
 * Runners no listing knows: GitHub-hosted runners (a fresh VM per job, in no
 * org or repository runner list) and self-hosted runners of scopes the gateway
 * does not list. Every query names them; none may cost a runner listing per
 * query. Webhooks and polls are off, so every upstream request counted here
 * comes from the queries themselves, and the gateway's clock is moved by hand.
 */

const JOBS_WITH_RUNNERS = `{
  pipelines(first: 5) {
    nodes { jobs { nodes { name runnerName runner { name hosted state labels os currentJob { name } } } } }
  }
}`;

interface Runner { name: string; hosted: boolean; state: string; labels: string[]; os: string | null; currentJob: { name: string } | null }
interface Jobs { pipelines: { nodes: { jobs: { nodes: { name: string; runnerName: string | null; runner: Runner | null }[] } }[] } }

const RUNNER_LIST = /\/actions\/runners(\?|$)/;

function runnerListings(stack: Stack): number {
  return stack.sim.requests.filter((r) => RUNNER_LIST.test(r.path)).length;
}

function jobsOf(data: Jobs | undefined) {
  return (data?.pipelines.nodes ?? []).flatMap((p) => p.jobs.nodes);
}

describe('GitHub-hosted runners', () => {
  let stack: Stack;
  let clockMs = Date.now();

  beforeAll(async () => {
    stack = await startStack({ webhooks: false, sim: { repositories: ['api'], history: 0 }, now: () => new Date(clockMs) });
    await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'lint', labels: ['ubuntu-latest'] }, { name: 'test (windows)', labels: ['windows-latest'] }] });
    await stack.sim.runUntilIdle();
  });
  afterAll(() => stack.close());

  it('are a job runner built from the job (hosted: true) and cost no runner listing, within the TTL or after it', async () => {
    const simJobs = stack.sim.world.jobs();
    // The simulator reports them as github.com does.
    expect(simJobs.map((j) => [j.runnerGroupId, j.runnerGroupName, j.runnerName === `GitHub Actions ${j.runnerId}`])).toEqual([
      [0, 'GitHub Actions', true], [0, 'GitHub Actions', true],
    ]);
    stack.sim.resetRequests();

    const listingsPerQuery: number[] = [];
    let last: Jobs | undefined;
    // 10 queries within the 60 s miss TTL (5 s apart, past the 15 s freshness window twice), then 10 a TTL apart.
    for (const stepMs of [...Array<number>(10).fill(5_000), ...Array<number>(10).fill(61_000)]) {
      clockMs += stepMs;
      const before = runnerListings(stack);
      const res = await stack.query<Jobs>(JOBS_WITH_RUNNERS);
      expect(res.errors).toBeUndefined();
      listingsPerQuery.push(runnerListings(stack) - before);
      last = res.data;
    }
    console.info(`runner listings per query over 10 queries within the TTL and 10 a TTL apart: ${JSON.stringify(listingsPerQuery)}`);
    expect(listingsPerQuery.slice(0, 10).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1);
    expect(listingsPerQuery.slice(10)).toEqual(Array(10).fill(0));
    // Nor a read of each job to learn its runner: the job in hand describes it.
    expect(stack.sim.requests.filter((r) => /\/actions\/jobs\/\d+/.test(r.path))).toEqual([]);

    const jobs = jobsOf(last);
    expect(jobs).toHaveLength(2);
    for (const j of jobs) {
      const sim = simJobs.find((s) => s.name === j.name)!;
      expect(j.runner).toEqual({
        name: sim.runnerName, hosted: true, state: 'OFFLINE', labels: [...sim.labels], os: j.name === 'lint' ? 'Linux' : 'Windows', currentJob: null,
      });
      expect(j.runnerName).toBe(sim.runnerName);
    }
  });

  it('are BUSY with their job while it runs, load by id, and appear in no runner list', async () => {
    await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'e2e', labels: ['ubuntu-latest'] }] });
    await stack.sim.step(); // a hosted VM takes the job at once
    clockMs += 61_000;
    stack.sim.resetRequests();
    const res = await stack.query<{ pipelines: { nodes: { jobs: { nodes: { name: string; runner: (Runner & { id: string }) | null }[] } }[] } }>(
      `{ pipelines(first: 1) { nodes { jobs { nodes { name runner { id name hosted state labels os currentJob { name } } } } } } }`,
    );
    expect(res.errors).toBeUndefined();
    const runner = res.data!.pipelines.nodes[0]!.jobs.nodes[0]!.runner!;
    expect(runner).toMatchObject({ hosted: true, state: 'BUSY', currentJob: { name: 'e2e' }, labels: ['ubuntu-latest'] });
    expect(runnerListings(stack)).toBe(0);

    // Loadable again by its id (through its job), and only there.
    const byId = await stack.query<{ node: Runner | null }>(`query($id: ID!) { node(id: $id) { ... on Runner { name hosted state } } }`, { id: runner.id });
    expect(byId.data?.node).toEqual({ name: runner.name, hosted: true, state: 'BUSY' });
    expect(runnerListings(stack)).toBe(0);
    const listed = await stack.query<{ runners: { nodes: { name: string; hosted: boolean }[] } }>(`{ runners { nodes { name hosted } } }`);
    expect(listed.data?.runners.nodes.map((r) => r.name).sort()).toEqual(DEFAULT_RUNNERS.map((r) => r.name).sort());
    expect(listed.data?.runners.nodes.every((r) => !r.hosted)).toBe(true);
  });
});

describe('self-hosted runners no configured listing holds', () => {
  let stack: Stack;
  let clockMs = Date.now();

  beforeAll(async () => {
    // Repository runners of api, while the gateway lists only the org's runners.
    const builders = Array.from({ length: 10 }, (_, i) => ({ name: `builder-${i}`, labels: ['self-hosted', `builder-${i}`], scope: { repo: 'api' } }));
    stack = await startStack({ webhooks: false, sim: { repositories: ['api'], history: 0, runners: [...DEFAULT_RUNNERS, ...builders] }, now: () => new Date(clockMs) });
  });
  afterAll(() => stack.close());

  it('cost at most one runner listing per TTL however many distinct runners jobs name', async () => {
    const listingsPerQuery: number[] = [];
    for (let i = 0; i < 10; i++) {
      // Each run lands on another unlisted runner: a new id every time.
      const { jobIds } = await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: `package ${i}`, labels: ['self-hosted', `builder-${i}`] }] });
      await stack.sim.runUntilIdle();
      clockMs += 5_000;
      const id = Buffer.from(`Job:gh:octo-org/api/jobs/${jobIds[0]}`).toString('base64url');
      const before = runnerListings(stack);
      const res = await stack.query<{ node: { runnerName: string; runner: Runner | null } }>(
        `query($id: ID!) { node(id: $id) { ... on Job { runnerName runner { name } } } }`, { id },
      );
      expect(res.errors).toBeUndefined();
      // Not listed anywhere the gateway reads: no runner entity, but the job still names it.
      expect(res.data?.node).toEqual({ runnerName: `builder-${i}`, runner: null });
      listingsPerQuery.push(runnerListings(stack) - before);
    }
    console.info(`runner listings per query, 10 unlisted runner ids within the TTL: ${JSON.stringify(listingsPerQuery)}`);
    expect(listingsPerQuery.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1);
  });
});

describe('job events that name a GitHub-hosted runner', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ sim: { repositories: ['api'], history: 0 } });
  });
  afterAll(() => stack.close());

  it('look nothing up: the only upstream request is the listing a self-hosted job event after them causes', async () => {
    const client = stack.wsClient();
    // Barrier: the self-hosted sentinel's runner turns BUSY only after its listing answered.
    const sentinel = collect<{ runnerUpdated: { runner: { name: string; state: string } } }>(
      client, `subscription { runnerUpdated { runner { name state } } }`, undefined,
      (items) => items.some((e) => e.runnerUpdated.runner.state === 'BUSY'),
    );
    await waitForSubscribers(stack, 1);
    stack.sim.resetRequests();
    await stack.sim.triggerRun({ repo: 'api', jobs: Array.from({ length: 10 }, (_, i) => ({ name: `hosted ${i}`, labels: ['ubuntu-latest'] })) });
    await stack.sim.runUntilIdle();
    await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'sentinel', labels: ['self-hosted', 'Linux', 'X64'] }] });
    await stack.sim.step(); // the sentinel starts on linux-x64-1, which the gateway has not seen yet
    const events = await sentinel.done;
    expect(events.map((e) => e.runnerUpdated.runner)).toEqual([{ name: 'linux-x64-1', state: 'BUSY' }]);
    // Ten hosted jobs started and finished before it, and none cost a request (no listing, no job read).
    expect(stack.sim.requests.map((r) => r.path.split('?')[0])).toEqual(['/orgs/octo-org/actions/runners']);
  });
});
