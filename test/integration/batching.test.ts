import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.ts';

const NESTED = `{
  pipelines(first: 20) {
    nodes {
      id status project { fullName }
      jobs { nodes { name status runner { name state hosted } } }
    }
  }
}`;

interface Nested {
  pipelines: { nodes: { id: string; project: { fullName: string }; jobs: { nodes: { runner: { name: string; hosted: boolean } | null }[] } }[] };
}

/** Upstream REST calls the simulator saw, grouped by route shape. */
function byRoute(stack: Stack): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of stack.sim.requests) {
    const shape = r.path.split('?')[0]!.replace(/\/\d+/g, '/:id').replace(/\/repos\/[^/]+\/[^/]+/, '/repos/:repo');
    counts[shape] = (counts[shape] ?? 0) + 1;
  }
  return counts;
}

describe('upstream economy of a nested query', () => {
  let stack: Stack;
  const REPOS = ['api', 'web', 'infra'];

  beforeAll(async () => {
    // 3 repositories x 8 finished runs: enough for a page of 20 across repositories.
    stack = await startStack({ sim: { repositories: REPOS, history: 8 } });
  });
  afterAll(() => stack.close());

  it('should cost at most 1 + repos + pipelines + runner scopes calls cold, and 0 warm', async () => {
    stack.sim.resetRequests();
    const cold = await stack.query<Nested>(NESTED);
    expect(cold.errors).toBeUndefined();
    const pipelines = cold.data!.pipelines.nodes;
    expect(pipelines).toHaveLength(20);
    expect(new Set(pipelines.map((p) => p.project.fullName)).size).toBe(3);
    const runnersSeen = pipelines.flatMap((p) => p.jobs.nodes.map((j) => j.runner)).filter((r) => r !== null);
    expect(runnersSeen.length).toBeGreaterThan(20);
    // The history runs lint/audit on GitHub-hosted runners, which no runner listing holds.
    expect(runnersSeen.filter((r) => r.hosted).length).toBeGreaterThan(5);
    expect(runnersSeen.filter((r) => !r.hosted).length).toBeGreaterThan(5);
    const coldCalls = stack.sim.requests.length;
    // Documented bound (README "Upstream economy"): org repo listing (1) + one runs page per
    // repository (3) + one jobs page per pipeline (20) + one runner list per scope (1).
    const bound = 1 + REPOS.length + 20 + 1;
    expect(coldCalls, JSON.stringify(byRoute(stack))).toBeLessThanOrEqual(bound);
    // Runners are listed per scope, never fetched one by one.
    expect(stack.sim.requests.filter((r) => /\/runners\/\d+/.test(r.path))).toEqual([]);

    stack.sim.resetRequests();
    const warm = await stack.query<Nested>(NESTED);
    expect(warm.data).toEqual(cold.data);
    expect(stack.sim.requests).toEqual([]);
    console.info(`nested query over 20 pipelines: ${coldCalls} upstream calls cold (bound ${bound}), 0 warm`, byRoute(stack));
  });

  it('should serve jobs that webhooks just delivered without an upstream call', async () => {
    const { runId } = await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'fresh', labels: ['self-hosted'] }] });
    await stack.sim.runUntilIdle();
    const jobId = stack.sim.world.jobs(runId)[0]!.id;
    const jobGlobalId = Buffer.from(`Job:gh:octo-org/api/jobs/${jobId}`).toString('base64url');
    stack.sim.resetRequests();
    const res = await stack.query<{ node: { name: string; status: string; runner: { name: string } } }>(
      `query($id: ID!) { node(id: $id) { ... on Job { name status runner { name } } } }`,
      { id: jobGlobalId },
    );
    expect(res.data?.node).toMatchObject({ name: 'fresh', status: 'SUCCESS' });
    expect(stack.sim.requests).toEqual([]);
  });

  it('should deduplicate identical keys within one query to one upstream read', async () => {
    // Without webhooks the gateway has not seen this run: the read must go upstream, once.
    const quiet = await startStack({ webhooks: false, sim: { repositories: ['web'], history: 1 } });
    try {
      const { runId } = await quiet.sim.triggerRun({ repo: 'web', jobs: [{ name: 'one', labels: ['self-hosted'] }] });
      const id = Buffer.from(`Pipeline:gh:octo-org/web/runs/${runId}`).toString('base64url');
      quiet.sim.resetRequests();
      const aliases = Array.from({ length: 10 }, (_, i) => `p${i}: node(id: "${id}") { id ... on Pipeline { status } }`).join('\n');
      const res = await quiet.query<Record<string, { id: string; status: string }>>(`{ ${aliases} }`);
      expect(res.errors).toBeUndefined();
      expect(Object.values(res.data!).map((p) => p.status)).toEqual(Array(10).fill('QUEUED'));
      expect(quiet.sim.requests.map((r) => r.path.split('?')[0])).toEqual([`/repos/octo-org/web/actions/runs/${runId}`]);
    } finally {
      await quiet.close();
    }
  });
});
