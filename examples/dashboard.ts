/**
 * One query for a dashboard: every project with its latest pipeline, the running jobs and
 * the runner pools, printed as compact tables (or `--json`).
 *
 *   SWITCHYARD_URL=http://localhost:4000 npx tsx examples/dashboard.ts [--json]
 */
import { parseArgs } from 'node:util';
import { graphql } from '../src/__generated__/client/index.ts';
import type { DashboardQuery } from '../src/__generated__/client/graphql.ts';
import { connectionFromEnv, query, run, UsageError } from './switchyard-client.ts';

const USAGE = `usage: dashboard.ts [--json]
  --json   print the query's answer as JSON instead of tables
env: SWITCHYARD_URL (default http://localhost:4000), SWITCHYARD_API_KEY`;

const Dashboard = graphql(`
  query Dashboard {
    projects(first: 100) {
      nodes {
        fullName
        backend { name provider }
        pipelines(first: 1) { nodes { status branch number name finishedAt } }
      }
    }
    jobs(first: 50, filter: { status: [RUNNING] }) {
      nodes { name project { fullName } runnerName startedAt }
    }
    runnerPools {
      key
      backend { name }
      labels
      runners { online busy idle offline }
      queue { depth oldestWaitSeconds }
    }
  }
`);

/** Columns padded to their widest cell. */
function table(title: string, header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [`${title} (${rows.length})`, line(header), ...rows.map(line)].join('\n');
}

function render(d: DashboardQuery): string {
  const projects = d.projects.nodes.map((p) => {
    const latest = p.pipelines.nodes[0];
    return [p.backend.provider, p.fullName, latest?.status ?? '-', latest?.branch ?? '-', latest?.number === null || latest?.number === undefined ? '-' : `#${latest.number}`];
  });
  const running = d.jobs.nodes.map((j) => [j.project.fullName, j.name, j.runnerName ?? '-', j.startedAt ?? '-']);
  const pools = d.runnerPools.map((p) => [
    p.backend.name, p.labels.join(',') || '-',
    p.runners ? `${p.runners.online}/${p.runners.busy}/${p.runners.idle}/${p.runners.offline}` : '-',
    String(p.queue.depth), p.queue.oldestWaitSeconds === null || p.queue.oldestWaitSeconds === undefined ? '-' : `${Math.round(p.queue.oldestWaitSeconds)}s`,
  ]);
  return [
    table('PROJECTS', ['PROVIDER', 'PROJECT', 'LATEST', 'BRANCH', 'NUMBER'], projects),
    table('RUNNING JOBS', ['PROJECT', 'JOB', 'RUNNER', 'STARTED'], running),
    table('RUNNER POOLS', ['BACKEND', 'LABELS', 'ONLINE/BUSY/IDLE/OFFLINE', 'QUEUED', 'OLDEST WAIT'], pools),
  ].join('\n\n');
}

run(USAGE, async () => {
  let json: boolean;
  try {
    json = parseArgs({ options: { json: { type: 'boolean' } } }).values.json ?? false;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const data = await query(connectionFromEnv(), Dashboard, {});
  console.log(json ? JSON.stringify(data, null, 2) : render(data));
  return 0;
});
