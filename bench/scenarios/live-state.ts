/**
 * Live-state scenario: the dashboard query (bench/lib/ci-sims.ts) through the
 * real gateway whose live state holds 10k, 100k, 500k entities
 * (bench/lib/livestate-gateway-process.ts fills it in-process), against the
 * same simulator pair as the query-load scenario. Per size, alternating runs
 * of the indexed path and the pre-index scan path (`x-bench-scan: 1`) on the
 * same filled state; and the child's RSS after a GC, per entity.
 */
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startGatewayChild, type GatewayChild } from '../lib/gateway-child.ts';
import { createSimPair, DASHBOARD_QUERY, GH_SECRET, GH_TOKEN, gatewayBackends, NO_FIELD_RATE_LIMITS } from '../lib/ci-sims.ts';
import { round } from '../lib/stats.ts';

const ENTRY = fileURLToPath(new URL('../lib/livestate-gateway-process.ts', import.meta.url));

export type LiveStatePath = 'index' | 'scan';

export interface LiveStateRow {
  entities: number;
  path: LiveStatePath;
  requestsPerSec: number;
  p50: number;
  p99: number;
  /** Gateway CPU (user + system) over the run ÷ queries answered: steadier than req/s when other work shares the core. */
  cpuMsPerQuery: number | null;
  non2xx: number;
  errors: number;
}

export interface LiveStateResult {
  rows: LiveStateRow[];
  /** Child RSS after fill and GC, per size. */
  rssBytes: { entities: number; rss: number }[];
  /** (RSS at the largest size − RSS at the smallest) ÷ their difference in entities. */
  rssPerEntity: number | null;
  /** Largest ÷ smallest size, per path: requests/s, p99 and CPU per query. */
  flatness: { path: LiveStatePath; rps: number | null; p99: number | null; cpuPerQuery: number | null }[];
  /** First query's GraphQL errors (there should be none). */
  firstErrors: string[];
}

async function oneRun(base: string, path: LiveStatePath, connections: number, durationSec: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${base}/graphql`,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...(path === 'scan' ? { 'x-bench-scan': '1' } : {}) },
    body: JSON.stringify({ query: DASHBOARD_QUERY }),
    connections,
    duration: durationSec,
    timeout: 30,
  });
}

/** One dashboard query on the index path; its GraphQL error messages. */
async function dashboard(base: string): Promise<string[]> {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: DASHBOARD_QUERY }), signal: AbortSignal.timeout(120_000),
  });
  const body = (await res.json()) as { errors?: { message: string }[] };
  return (body.errors ?? []).map((e) => e.message);
}

export async function runLiveState(o: { sizes: number[]; connections: number; durationSec: number; reps: number; serverCpu?: number; log?: (l: string) => void }): Promise<LiveStateResult> {
  const log = o.log ?? (() => undefined);
  const pair = createSimPair({ history: 8 });
  await pair.start();
  const rows: LiveStateRow[] = [];
  const rssBytes: { entities: number; rss: number }[] = [];
  const firstErrors: string[] = [];
  try {
    for (const entities of o.sizes) {
      log(`livestate: filling ${entities} entities`);
      const child: GatewayChild = await startGatewayChild({
        entry: ENTRY, simUrl: pair.gh.url, token: GH_TOKEN, webhookSecret: GH_SECRET, cpu: o.serverCpu, nodeFlags: ['--expose-gc'], startTimeoutMs: 180_000,
        config: {
          rateLimit: NO_FIELD_RATE_LIMITS, backends: gatewayBackends(pair), benchFill: entities,
          // The bound is raised past the size, as an operator holding this much would.
          liveStateMaxEntries: Math.max(200_000, Math.ceil(entities * 1.2)),
          freshnessSeconds: 3600,
        },
      });
      try {
        rssBytes.push({ entities, rss: child.rssBytes() ?? 0 });
        // Warm-up: the first query fills the list cache from the simulators.
        for (const e of await dashboard(child.base)) firstErrors.push(`${entities}: ${e}`);
        for (let rep = 0; rep < o.reps; rep++) {
          // Alternate the order, so drift in the machine's load hits both paths alike.
          const order: LiveStatePath[] = rep % 2 ? ['scan', 'index'] : ['index', 'scan'];
          for (const path of order) {
            log(`livestate: ${entities} ${path} rep ${rep + 1}/${o.reps}`);
            // Queries of the previous run still in flight when autocannon stopped would eat into this one (a scan at
            // 500k takes long): wait until the gateway answers a single query, twice, before starting.
            for (let i = 0; i < 2; i++) await dashboard(child.base);
            const cpu0 = child.cpuMs();
            const r = await oneRun(child.base, path, o.connections, o.durationSec);
            const cpu1 = child.cpuMs();
            const cpuMsPerQuery = cpu0 !== null && cpu1 !== null && r['2xx'] ? round((cpu1 - cpu0) / r['2xx'], 2)! : null;
            rows.push({ entities, path, requestsPerSec: round(r['2xx'] / r.duration, 1)!, p50: r.latency.p50, p99: r.latency.p99, cpuMsPerQuery, non2xx: r.non2xx, errors: r.errors });
          }
        }
      } finally {
        await child.stop();
      }
    }
  } finally {
    await pair.stop();
  }
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? s[Math.floor((s.length - 1) / 2)]! : null;
  };
  const at = (entities: number, path: LiveStatePath, pick: (r: LiveStateRow) => number | null) =>
    median(rows.filter((r) => r.entities === entities && r.path === path).map(pick).filter((x): x is number => x !== null));
  const small = o.sizes[0]!, large = o.sizes.at(-1)!;
  const ratio = (a: number | null, b: number | null) => (a !== null && b ? round(a / b, 2) : null);
  const flatness = (['index', 'scan'] as const).map((path) => ({
    path,
    rps: ratio(at(large, path, (r) => r.requestsPerSec), at(small, path, (r) => r.requestsPerSec)),
    p99: ratio(at(large, path, (r) => r.p99), at(small, path, (r) => r.p99)),
    cpuPerQuery: ratio(at(large, path, (r) => r.cpuMsPerQuery), at(small, path, (r) => r.cpuMsPerQuery)),
  }));
  const rSmall = rssBytes.find((r) => r.entities === small)?.rss, rLarge = rssBytes.find((r) => r.entities === large)?.rss;
  const rssPerEntity = rSmall && rLarge && large > small ? round((rLarge - rSmall) / (large - small), 0) : null;
  return { rows, rssBytes, rssPerEntity, flatness, firstErrors };
}

/** The scenario's markdown: medians per size and path, then the flatness ratios. */
export function liveStateTable(r: LiveStateResult): string {
  const sizes = [...new Set(r.rows.map((x) => x.entities))];
  const lines = ['| entities | path | runs | req/s | p50 ms | p99 ms | gateway CPU ms/query | RSS MB |', '|---:|---|---:|---:|---:|---:|---:|---:|'];
  for (const entities of sizes) {
    for (const path of ['index', 'scan'] as const) {
      const rows = r.rows.filter((x) => x.entities === entities && x.path === path);
      const med = (pick: (x: LiveStateRow) => number | null) => {
        const xs = rows.map(pick).filter((x): x is number => x !== null).sort((a, b) => a - b);
        return xs.length ? xs[Math.floor((xs.length - 1) / 2)] : '–';
      };
      const rss = r.rssBytes.find((x) => x.entities === entities)?.rss ?? 0;
      lines.push(`| ${entities.toLocaleString('en')} | ${path} | ${rows.length} | ${med((x) => x.requestsPerSec)} | ${med((x) => x.p50)} | ${med((x) => x.p99)} | ${med((x) => x.cpuMsPerQuery)} | ${round(rss / 1048576, 0)} |`);
    }
  }
  const bad = r.rows.filter((x) => x.non2xx || x.errors);
  const notes = [
    ...r.flatness.map((f) => `- ${f.path}: largest ÷ smallest size (medians): req/s ${f.rps}, p99 ${f.p99}, gateway CPU per query ${f.cpuPerQuery}`),
    '- medians over the runs (lower median for an even count)',
    `- RSS per entity (largest − smallest size): ${r.rssPerEntity ?? 'n/a'} bytes`,
    ...(bad.length ? [`- non-2xx or transport errors in ${bad.length} runs`] : []),
    ...(r.firstErrors.length ? [`- GraphQL errors on the first query: ${r.firstErrors.slice(0, 3).join('; ')}`] : []),
  ];
  return `${lines.join('\n')}\n\n${notes.join('\n')}`;
}
