import { describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/ids.ts';
import { startJenkinsStack, type JenkinsStack } from '../helpers/jenkins-stack.ts';

/**
 * Upstream economy of one nested query over the builds of one Pipeline job
 * (issue 11 item 1). The stage view's `wfapi/runs` answers the newest runs of
 * a job with their stages (and, with fullStages=true, their steps) in one
 * request; older runs cost one `wfapi/describe?fullStages=true` each.
 */
const QUERY = `query($project: ID!, $n: Int!) {
  projects { nodes { name } }
  pipelines(first: $n, filter: { projects: [$project] }) {
    nodes { name number status jobs { nodes { name status steps { name status } } } }
  }
  runners { nodes { name state } }
}`;

interface Answer {
  pipelines: { nodes: { name: string; number: number; status: string; jobs: { nodes: { name: string; steps: { name: string }[] }[] } }[] };
}

/** Buckets a simulator request path by route. */
function kind(path: string): string {
  const p = path.split('?')[0]!;
  if (p === '/api/json') return 'root';
  if (p === '/computer/api/json') return 'computer';
  if (p === '/queue/api/json') return 'queue';
  if (p.includes('/execution/node/')) return 'stage-describe';
  if (/\/wfapi\/runs$/.test(p)) return 'wfapi-runs';
  if (/\/\d+\/wfapi\/describe$/.test(p)) return 'run-describe';
  if (/\/\d+\/api\/json$/.test(p)) return 'build';
  if (/^(\/job\/[^/]+)+\/api\/json$/.test(p)) return 'job-builds';
  return 'other';
}

function tally(stack: JenkinsStack): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of stack.sim.requests) out[kind(r.path)] = (out[kind(r.path)] ?? 0) + 1;
  return out;
}

async function measure(history: number, n: number, sim: Record<string, unknown> = {}) {
  const stack = await startJenkinsStack({
    notify: false,
    sim: { jobs: 2, history, agents: [{ name: 'built-in', labels: ['built-in'], executors: 0 }, { name: 'big', labels: ['linux'], executors: 4 }], ...sim },
  });
  try {
    stack.sim.resetRequests();
    const res = await stack.query<Answer>(QUERY, { project: toGlobalId('Project', 'jk', 'pipeline-002'), n });
    expect(res.errors).toBeUndefined();
    const pipelines = res.data!.pipelines.nodes;
    expect(pipelines).toHaveLength(n);
    // Every build shows its two stages with their steps.
    for (const p of pipelines) {
      expect(p.jobs.nodes.map((j) => j.name)).toEqual(['Build', 'Test']);
      for (const j of p.jobs.nodes) expect(j.steps.length).toBeGreaterThan(0);
    }
    return { total: stack.sim.requests.length, byKind: tally(stack) };
  } finally {
    await stack.close();
  }
}

/** Requests that read builds and their stages (not the list, projects, queue or runners). */
function stageReads(byKind: Record<string, number>): number {
  // One of the two job-builds reads is the pipeline list's own.
  return (byKind['job-builds'] ?? 0) - 1 + (byKind['wfapi-runs'] ?? 0) + (byKind['run-describe'] ?? 0)
    + (byKind['stage-describe'] ?? 0) + (byKind.build ?? 0);
}

describe('jenkins: stages of many builds of one job', () => {
  // Measured on main before the fix (same query, 15 builds): 64 requests,
  // {"root":1,"job-builds":1,"queue":1,"computer":1,"build":15,"run-describe":15,"stage-describe":30}.
  it('reads 15 builds with one builds read, one wfapi/runs page and one describe per run older than the page', async () => {
    const r = await measure(15, 15);
    console.info(`[jenkins batching] 15 builds: ${r.total} requests ${JSON.stringify(r.byKind)}`);
    expect(r.byKind).toEqual({ root: 1, 'job-builds': 2, queue: 1, computer: 1, 'wfapi-runs': 1, 'run-describe': 5 });
    expect(stageReads(r.byKind)).toBe(1 + 1 + (15 - 10));
  });

  it('reads 25 builds the same way: the stage view has no offset, so older runs are read one by one', async () => {
    const r = await measure(25, 25);
    console.info(`[jenkins batching] 25 builds: ${r.total} requests ${JSON.stringify(r.byKind)}`);
    expect(r.byKind).toEqual({ root: 1, 'job-builds': 2, queue: 1, computer: 1, 'wfapi-runs': 1, 'run-describe': 15 });
    expect(stageReads(r.byKind)).toBe(1 + 1 + (25 - 10));
  });

  it('meets ⌈N/10⌉ + 1 whenever one wfapi/runs answer covers the builds (N ≤ 10, or a raised maxRunsPerJob)', async () => {
    for (const [n, sim] of [[10, {}], [25, { maxRunsPerJob: 50 }]] as const) {
      const r = await measure(n, n, sim);
      console.info(`[jenkins batching] ${n} builds, ${JSON.stringify(sim)}: ${r.total} requests ${JSON.stringify(r.byKind)}`);
      expect(stageReads(r.byKind)).toBeLessThanOrEqual(Math.ceil(n / 10) + 1);
      expect(r.byKind['wfapi-runs']).toBe(1);
      expect(r.byKind['run-describe'] ?? 0).toBe(0);
    }
  });
});
