import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * The upstream-economy bench in miniature (bench/scenarios/upstream-economy.ts):
 * D dashboards each want state no older than the freshness window (10 s) and
 * ask the dashboard query once per window while runs progress by webhook. The
 * gateway's clock is driven by the test, so windows pass without sleeping.
 */
const REPOS = ['api', 'web', 'infra'];
const DASHBOARDS = 50;
const ROUNDS = 6;
const SHOWN = 20;
const RUNNER_SCOPES = 1;
const DASHBOARD = `{ pipelines(first: ${SHOWN}) { nodes { id status jobs { nodes { name status runner { name } } } } } runners { nodes { name state } } }`;
const RUNNERS = ['r1', 'r2', 'r3'].map((name) => ({ name, labels: ['self-hosted'], scope: 'org' as const }));

describe('upstream economy with webhooks current', () => {
  let stack: Stack;
  let skewMs = 0;

  beforeAll(async () => {
    stack = await startStack({
      sim: { repositories: REPOS, history: 6, runners: RUNNERS },
      // Every dashboard is the same anonymous caller: its upstream budget is lifted out of the way.
      config: { freshnessSeconds: 10, limits: { upstreamCallsPerIdentityPerMinute: 1_000_000 } },
      now: () => new Date(Date.now() + skewMs),
    });
    await stack.gateway.scheduler.pollNow('gh');
  });
  afterAll(() => stack.close());

  it(`should cost >= 150x fewer upstream requests than ${DASHBOARDS} dashboards polling REST, re-reading no job list`, async () => {
    const jobs = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `job-${i}`, labels: ['self-hosted'] }));
    for (const repo of REPOS) await stack.sim.triggerRun({ repo, jobs: jobs(3) });
    await stack.sim.step();
    // Warm-up (left out, as in the bench): the first query reads every list once.
    const warm = await stack.query<{ pipelines: { nodes: unknown[] } }>(DASHBOARD);
    expect(warm.errors).toBeUndefined();
    expect(warm.data!.pipelines.nodes).toHaveLength(SHOWN);

    let queryRequests = 0;
    let pollRequests = 0;
    let newPipelines = 0;
    let polls = 0;
    const queryRoutes: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      skewMs += 10_000; // one freshness window
      for (let i = 0; i < 3; i++) await stack.sim.step(); // jobs start, progress and finish: webhooks
      if (round === 3) {
        await stack.sim.triggerRun({ repo: 'api', jobs: jobs(2) });
        newPipelines++;
      }
      if (round % 6 === 0) {
        // The reconcile: the poller's cycle, every 60 s while webhooks are current (twice the interval).
        const before = stack.sim.requests.length;
        expect(await stack.gateway.scheduler.pollNow('gh')).toBeGreaterThanOrEqual(48_000);
        pollRequests += stack.sim.requests.length - before;
        polls++;
      }
      const before = stack.sim.requests.length;
      const answers = await Promise.all(Array.from({ length: DASHBOARDS }, () => stack.query<{ pipelines: { nodes: unknown[] } }>(DASHBOARD)));
      queryRequests += stack.sim.requests.length - before;
      queryRoutes.push(...stack.sim.requests.slice(before).map((r) => `${round} ${r.path.split('?')[0]!.replace(/\/\d+/g, '/:id')}`));
      for (const a of answers) expect(a.errors, JSON.stringify(a.errors)).toBeUndefined();
    }
    const direct = DASHBOARDS * ROUNDS * (REPOS.length + SHOWN + RUNNER_SCOPES);
    const total = queryRequests + pollRequests;
    const ratio = direct / total;
    console.info(`economy: ${queryRequests} query + ${pollRequests} poll (${polls} cycles) upstream requests; direct polling ${direct}; ratio ${ratio.toFixed(1)}`);
    // While webhooks are current, queries refresh the runner list once per window (runners have no
    // webhooks), the runs lists of the repositories once per 20 windows, the org's repositories once a
    // minute (the adapter's directory), and read the jobs of a new pipeline once: no job list of a
    // known pipeline is read again.
    const slowRefreshes = Math.ceil((ROUNDS * 10) / (20 * 10));
    const directoryRefreshes = Math.ceil((ROUNDS * 10) / 60);
    const jobReads = queryRoutes.filter((r) => r.endsWith('/jobs')).length;
    expect(jobReads, queryRoutes.join('\n')).toBeLessThanOrEqual(newPipelines);
    expect(queryRequests, queryRoutes.join('\n')).toBeLessThanOrEqual(ROUNDS * RUNNER_SCOPES + slowRefreshes * REPOS.length + directoryRefreshes + newPipelines);
    expect(ratio).toBeGreaterThanOrEqual(150);
  });
});
