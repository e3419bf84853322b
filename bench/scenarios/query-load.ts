/**
 * Scenario 4: the dashboard query under load, gateway against a stock yoga
 * baseline whose plain resolvers call the simulators' REST APIs on every request.
 *
 * Rows:
 * - gateway-live: one warm-up query on a fresh gateway, then autocannon for the
 *   duration (well inside freshnessSeconds): served from the gateway's live state.
 * - gateway-cold: the first query on a fresh gateway process, once per rep
 *   (no cache, no state); latency and upstream requests per query, no throughput.
 * - baseline: bench/baseline/query-server.ts under the same autocannon load.
 *
 * Upstream requests are counted in the simulators' request logs (bench process).
 * The gateway rows and the baseline each get their own simulator pair (same
 * seeds, no autoplay, so the same data): the baseline's request volume would
 * otherwise exhaust the simulated GitLab rate-limit window the gateway honours.
 */
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startGatewayChild, type GatewayChild } from '../lib/gateway-child.ts';
import { countsSince, createSimPair, DASHBOARD_QUERY, GH_TOKEN, GL_TOKEN, logPosition, mergeCounts, startCiGateway, type SimPair, type UpstreamCounts } from '../lib/ci-sims.ts';
import { round, sleep, summarize } from '../lib/stats.ts';

const BASELINE_ENTRY = fileURLToPath(new URL('../baseline/query-server.ts', import.meta.url));

export type QueryServerKind = 'gateway-live' | 'gateway-cold' | 'baseline';

export interface AnswerCheck {
  pipelines: number;
  jobs: number;
  jobsWithRunner: number;
  runners: number;
  errors: number;
  firstError: string | null;
  /** fingerprint() of the answer. */
  fingerprint: string;
}

export interface QueryLoadRow {
  server: QueryServerKind;
  /** Closed-loop connections (autocannon); null for gateway-cold. */
  connections: number | null;
  durationSec: number | null;
  /** Queries answered (2xx) in the measured run; for gateway-cold, the reps. */
  queries: number;
  requestsPerSec: number | null;
  latencyMs: { p50: number | null; p90: number | null; p99: number | null; max: number | null; mean: number | null };
  non2xx: number;
  /** Connection errors and timeouts (autocannon). */
  transportErrors: number;
  /** Upstream requests in the measured run (gateway-cold: over all reps). */
  upstream: UpstreamCounts;
  /**
   * upstream.total ÷ queries. Under load this also counts requests made for
   * queries still in flight when autocannon stopped, so it can overstate a little.
   */
  upstreamPerQuery: number | null;
  /** Upstream requests caused by the single check query made alone just before the measured run. */
  upstreamOneQuery: number;
  /** Answer of one query made just before the measured run (gateway-cold: of rep 1). */
  check: AnswerCheck;
  serverCpuPct: number | null;
  loadCpuPct: number | null;
}

interface DashboardData {
  pipelines?: {
    nodes: {
      number: number | null; status: string; backend: { name: string }; project: { fullName: string };
      jobs: { nodes: { name: string; status: string; runner: { name: string; state: string } | null }[] };
    }[];
  };
  runners?: { nodes: { name: string; state: string; labels: string[] }[] };
}

/** The answer without ids (their format differs between the servers): pipelines in order, jobs and runners sorted. */
function fingerprint(d: DashboardData | undefined): string {
  const pipelines = (d?.pipelines?.nodes ?? []).map((p) =>
    `${p.backend.name} ${p.project.fullName}#${p.number} ${p.status} [${p.jobs.nodes.map((j) => `${j.name}:${j.status}:${j.runner?.name ?? '-'}:${j.runner?.state ?? '-'}`).sort().join(',')}]`);
  const runners = (d?.runners?.nodes ?? []).map((r) => `${r.name}:${r.state}:${[...r.labels].sort().join('+')}`).sort();
  return JSON.stringify({ pipelines, runners });
}

async function queryOnce(base: string): Promise<{ latencyMs: number; check: AnswerCheck }> {
  const started = performance.now();
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query: DASHBOARD_QUERY }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json()) as { data?: DashboardData; errors?: { message: string }[] };
  const latencyMs = performance.now() - started;
  const nodes = body.data?.pipelines?.nodes ?? [];
  const jobs = nodes.flatMap((p) => p.jobs.nodes);
  return {
    latencyMs,
    check: {
      pipelines: nodes.length,
      jobs: jobs.length,
      jobsWithRunner: jobs.filter((j) => j.runner?.name).length,
      runners: body.data?.runners?.nodes.length ?? 0,
      errors: body.errors?.length ?? (res.ok ? 0 : 1),
      firstError: body.errors?.[0]?.message ?? (res.ok ? null : `HTTP ${res.status}`),
      fingerprint: fingerprint(body.data),
    },
  };
}

async function load(base: string, connections: number, durationSec: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${base}/graphql`,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query: DASHBOARD_QUERY }),
    connections,
    duration: durationSec,
    timeout: 10,
  });
}

async function measured(server: QueryServerKind, child: GatewayChild, pair: SimPair, connections: number, durationSec: number): Promise<QueryLoadRow> {
  const before = logPosition(pair);
  const { check } = await queryOnce(child.base);
  await sleep(50);
  const upstreamOneQuery = countsSince(pair, before).total;
  const from = logPosition(pair);
  const cpu0 = child.cpuMs();
  const load0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await load(child.base, connections, durationSec);
  const windowMs = performance.now() - t0;
  const cpu1 = child.cpuMs();
  const loadUsed = process.cpuUsage(load0);
  // Let requests the last queries started land before counting.
  await sleep(100);
  const upstream = countsSince(pair, from);
  const answered = r['2xx'];
  return {
    server, connections, durationSec,
    queries: answered,
    requestsPerSec: round(answered / r.duration, 1),
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: round(r.latency.mean) },
    non2xx: r.non2xx,
    transportErrors: r.errors,
    upstream,
    upstreamPerQuery: answered ? round(upstream.total / answered, 3) : null,
    upstreamOneQuery,
    check,
    serverCpuPct: cpu0 === null || cpu1 === null ? null : round(((cpu1 - cpu0) / windowMs) * 100, 1),
    loadCpuPct: round(((loadUsed.user + loadUsed.system) / 1000 / windowMs) * 100, 1),
  };
}

export interface QueryLoadOptions {
  connections: number;
  durationSec: number;
  coldReps: number;
  serverCpu?: number;
  log?: (line: string) => void;
}

export interface QueryLoadResult {
  rows: QueryLoadRow[];
  /** gateway-live ÷ baseline requests per second. */
  liveOverBaselineRps: number | null;
  coldByRoute: Record<string, number>;
  /** Whether the gateway's and the baseline's check answers are equal apart from ids (same pipelines in the same order, same jobs, statuses, runners). */
  answersMatch: boolean | null;
  /** Each gateway-cold rep: latency and upstream requests of the first query on a fresh gateway. */
  coldReps: { latencyMs: number; upstream: number; notModified: number; errors: number }[];
}

export async function runQueryLoad(o: QueryLoadOptions): Promise<QueryLoadResult> {
  const log = o.log ?? (() => undefined);
  const gwPair = createSimPair({ history: 8 });
  const basePair = createSimPair({ history: 8 });
  await gwPair.start();
  await basePair.start();
  const rows: QueryLoadRow[] = [];
  // The baseline process starts now, while nothing is measured, and waits idle for its turn.
  const baselineStart = startGatewayChild({
    entry: BASELINE_ENTRY, simUrl: basePair.gh.url, token: GH_TOKEN, webhookSecret: '', cpu: o.serverCpu,
    config: {
      github: { url: basePair.gh.url, token: GH_TOKEN, org: basePair.gh.world.org },
      gitlab: { url: basePair.gl.url, token: GL_TOKEN, group: basePair.gl.world.group },
    },
  });
  baselineStart.catch(() => undefined); // awaited below; never an unhandled rejection
  try {
    // ---- gateway-cold: first query on fresh gateway processes; the last one then serves gateway-live.
    const cold: { latencyMs: number; upstream: UpstreamCounts; check: AnswerCheck }[] = [];
    let live: GatewayChild | null = null;
    for (let i = 0; i < o.coldReps; i++) {
      log(`queries: gateway-cold rep ${i + 1}/${o.coldReps}`);
      const gw = await startCiGateway(gwPair, { cpu: o.serverCpu });
      if (i === 0) await baselineStart; // its start-up must not overlap a measurement
      gwPair.hookTo(gw.base);
      const from = logPosition(gwPair);
      const q = await queryOnce(gw.base);
      await sleep(50);
      cold.push({ latencyMs: q.latencyMs, upstream: countsSince(gwPair, from), check: q.check });
      if (i === o.coldReps - 1) live = gw;
      else await gw.stop();
    }
    const lat = summarize(cold.map((c) => c.latencyMs));
    rows.push({
      server: 'gateway-cold', connections: null, durationSec: null, queries: cold.length, requestsPerSec: null,
      latencyMs: { p50: round(lat.p50), p90: round(lat.p90), p99: round(lat.p99), max: round(lat.max), mean: round(lat.mean) },
      non2xx: 0, transportErrors: 0,
      upstream: mergeCounts(cold.map((c) => c.upstream)),
      upstreamPerQuery: null,
      upstreamOneQuery: cold[0]!.upstream.total,
      check: { ...cold[0]!.check, errors: cold.reduce((s, c) => s + c.check.errors, 0) },
      serverCpuPct: null, loadCpuPct: null,
    });

    // ---- gateway-live: the warm-up was the cold query above; autocannon now, inside freshnessSeconds.
    log(`queries: gateway-live, ${o.connections} connections for ${o.durationSec} s`);
    try {
      rows.push(await measured('gateway-live', live!, gwPair, o.connections, o.durationSec));
    } finally {
      await live?.stop();
      gwPair.hookTo(null);
    }

    // ---- baseline (started at the beginning, idle until now)
    log(`queries: baseline, ${o.connections} connections for ${o.durationSec} s`);
    const baseline = await baselineStart;
    rows.push(await measured('baseline', baseline, basePair, o.connections, o.durationSec));
    const coldByRoute = cold[0]?.upstream.byRoute ?? {};
    const liveRow = rows.find((r) => r.server === 'gateway-live');
    const baseRow = rows.find((r) => r.server === 'baseline');
    const ratio = liveRow?.requestsPerSec && baseRow?.requestsPerSec ? round(liveRow.requestsPerSec / baseRow.requestsPerSec, 1) : null;
    const coldReps = cold.map((c) => ({ latencyMs: round(c.latencyMs)!, upstream: c.upstream.total, notModified: c.upstream.notModified, errors: c.check.errors }));
    const answersMatch = liveRow && baseRow ? liveRow.check.fingerprint === baseRow.check.fingerprint : null;
    return { rows, liveOverBaselineRps: ratio, coldByRoute, coldReps, answersMatch };
  } finally {
    await baselineStart.then((b) => b.stop(), () => undefined);
    await gwPair.stop();
    await basePair.stop();
  }
}
