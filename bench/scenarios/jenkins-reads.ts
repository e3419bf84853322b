/**
 * Scenario 8: Jenkins read batching (issue 11 item 1). A fresh gateway child
 * over a Jenkins simulator with one Pipeline job of N finished builds runs
 * one query for projects, the job's N newest pipelines with their jobs and
 * steps, and runners; the simulator counts the requests by route. Stage
 * reads are bounded by 1 (builds tree) + 1 (wfapi/runs) + max(0, N − 10)
 * (describes of runs older than the stage view's 10-run page).
 */
import { createJenkinsSimulator } from '../../adapters/jenkins/simulator/index.ts';
import { toGlobalId } from '../../src/ids.ts';
import { CI_GATEWAY_ENTRY, NO_FIELD_RATE_LIMITS } from '../lib/ci-sims.ts';
import { startGatewayChild } from '../lib/gateway-child.ts';

const USER = 'bench';
const TOKEN = 'bench-jenkins-api-token';
const QUERY = `query($project: ID!, $n: Int!) {
  projects { nodes { name } }
  pipelines(first: $n, filter: { projects: [$project] }) { nodes { name status jobs { nodes { name steps { name } } } } }
  runners { nodes { name state } }
}`;

export interface JenkinsReadsRow {
  builds: number;
  maxRunsPerJob: number;
  requests: number;
  stageReads: number;
  bound: number;
  byRoute: Record<string, number>;
  errors: number;
}

function route(path: string): string {
  const p = path.split('?')[0]!;
  if (p.includes('/execution/node/')) return 'stage describe';
  if (p.endsWith('/wfapi/runs')) return 'wfapi/runs';
  if (/\/\d+\/wfapi\/describe$/.test(p)) return 'run describe';
  if (/\/\d+\/api\/json$/.test(p)) return 'build api/json';
  if (/^(\/job\/[^/]+)+\/api\/json$/.test(p)) return 'job builds tree';
  return p;
}

export async function runJenkinsReads(cells: readonly { builds: number; maxRunsPerJob?: number }[], gatewayCpu?: number): Promise<JenkinsReadsRow[]> {
  const rows: JenkinsReadsRow[] = [];
  for (const cell of cells) {
    const maxRunsPerJob = cell.maxRunsPerJob ?? 10;
    const sim = createJenkinsSimulator({
      user: USER, apiToken: TOKEN, seed: 8, jobs: 2, history: cell.builds, maxRunsPerJob,
      agents: [{ name: 'built-in', labels: ['built-in'], executors: 0 }, { name: 'big', labels: ['linux'], executors: 4 }],
    });
    await sim.start();
    const gw = await startGatewayChild({
      entry: CI_GATEWAY_ENTRY, simUrl: sim.url, token: TOKEN, webhookSecret: '', cpu: gatewayCpu,
      config: { rateLimit: NO_FIELD_RATE_LIMITS, backends: [{ name: 'jk', provider: 'jenkins', url: sim.url, user: USER, apiToken: { value: TOKEN }, requestsPerMinute: 100_000 }] },
    });
    try {
      sim.resetRequests();
      const res = await fetch(`${gw.base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
        body: JSON.stringify({ query: QUERY, variables: { project: toGlobalId('Project', 'jk', 'pipeline-002'), n: cell.builds } }),
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await res.json()) as { errors?: unknown[] };
      const byRoute: Record<string, number> = {};
      for (const r of sim.requests) byRoute[route(r.path)] = (byRoute[route(r.path)] ?? 0) + 1;
      // The pipeline list reads the job's builds tree once itself; the rest are stage reads.
      const stageReads = (byRoute['job builds tree'] ?? 0) - 1 + (byRoute['wfapi/runs'] ?? 0) + (byRoute['run describe'] ?? 0)
        + (byRoute['stage describe'] ?? 0) + (byRoute['build api/json'] ?? 0);
      rows.push({
        builds: cell.builds, maxRunsPerJob, requests: sim.requests.length, stageReads,
        bound: 2 + Math.max(0, cell.builds - maxRunsPerJob), byRoute, errors: body.errors?.length ?? 0,
      });
    } finally {
      await gw.stop();
      await sim.stop();
    }
  }
  return rows;
}

export function jenkinsReadsTable(rows: readonly JenkinsReadsRow[]): string {
  return ['| builds | maxRunsPerJob | requests | stage reads | bound 2 + max(0, N − page) | ⌈N/10⌉ + 1 | errors |', '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.builds} | ${r.maxRunsPerJob} | ${r.requests} | ${r.stageReads} | ${r.bound} | ${Math.ceil(r.builds / 10) + 1} | ${r.errors} |`)].join('\n');
}
