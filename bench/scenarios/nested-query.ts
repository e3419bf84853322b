/**
 * Scenario 2: upstream cost of a nested query. A fresh gateway child (cold
 * caches) runs the query once, then again at once (warm); the simulator, in
 * this process, counts the GitHub REST requests each execution caused.
 */
import { performance } from 'node:perf_hooks';
import type { GithubSimulator } from '../../adapters/github/simulator/index.ts';
import { startGatewayChild } from '../lib/gateway-child.ts';
import { round, sleep } from '../lib/stats.ts';

export const NESTED_QUERY = '{ pipelines(first: 20) { nodes { jobs { nodes { runner { name } } } } } }';

interface NestedData {
  pipelines?: { nodes: { jobs: { nodes: { runner: { name: string } | null }[] } }[] };
}

export interface NestedRun {
  calls: number;
  latencyMs: number;
  pipelines: number;
  jobs: number;
  runnersNamed: number;
  errors: number;
  byRoute: Record<string, number>;
}

export interface NestedRepResult {
  cold: NestedRun;
  warm: NestedRun;
}

/** Upstream REST calls grouped by route shape (ids and repo names folded). */
function byRoute(sim: GithubSimulator): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of sim.requests) {
    const shape = `${r.method} ${r.path.split('?')[0]!.replace(/\/\d+/g, '/:id').replace(/\/repos\/[^/]+\/[^/]+/, '/repos/:repo')}`;
    counts[shape] = (counts[shape] ?? 0) + 1;
  }
  return counts;
}

async function queryOnce(base: string, sim: GithubSimulator): Promise<NestedRun> {
  sim.resetRequests();
  const started = performance.now();
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query: NESTED_QUERY }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json()) as { data?: NestedData; errors?: unknown[] };
  const latencyMs = performance.now() - started;
  // Let any request the query started in the background land before counting.
  await sleep(50);
  const nodes = body.data?.pipelines?.nodes ?? [];
  const jobs = nodes.flatMap((p) => p.jobs.nodes);
  return {
    calls: sim.requests.length,
    latencyMs: round(latencyMs)!,
    pipelines: nodes.length,
    jobs: jobs.length,
    runnersNamed: jobs.filter((j) => j.runner?.name).length,
    errors: body.errors?.length ?? 0,
    byRoute: byRoute(sim),
  };
}

export async function runNestedQueryRep(o: { sim: GithubSimulator; token: string; secret: string; gatewayCpu?: number }): Promise<NestedRepResult> {
  const gw = await startGatewayChild({ simUrl: o.sim.url, token: o.token, webhookSecret: o.secret, cpu: o.gatewayCpu });
  try {
    const cold = await queryOnce(gw.base, o.sim);
    const warm = await queryOnce(gw.base, o.sim);
    return { cold, warm };
  } finally {
    await gw.stop();
  }
}
