/**
 * Switchyard benchmarks. `npm run bench -- --quick` (< 1 min) or `npm run bench`
 * (full, < 10 min). Prints markdown tables and writes bench/results/latest.json.
 * See bench/README.md for how each figure is made.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createGithubSimulator, type GithubSimulator } from '../adapters/github/simulator/index.ts';
import type { ClientKind } from './lib/fanout-client.ts';
import { HAS_TASKSET, killAllChildren } from './lib/gateway-child.ts';
import { runIdleMemory, type IdleMemoryRow } from './scenarios/idle-memory.ts';
import { authFloodTable, runAuthFlood, type AuthFloodRow } from './scenarios/auth-flood.ts';
import { liveStateTable, runLiveState, type LiveStateResult } from './scenarios/live-state.ts';
import { round } from './lib/stats.ts';
import { captureJobTemplates } from './lib/webhook-templates.ts';
import { NESTED_QUERY, runNestedQueryRep, type NestedRepResult } from './scenarios/nested-query.ts';
import { runLatencyCell, SUBSCRIPTION, type LatencyCellResult } from './scenarios/webhook-latency.ts';
import { runQueryLoad, type QueryLoadResult } from './scenarios/query-load.ts';
import { runUpstreamEconomy, type EconomyResult } from './scenarios/upstream-economy.ts';
import { jenkinsReadsTable, runJenkinsReads, type JenkinsReadsRow } from './scenarios/jenkins-reads.ts';
import { DASHBOARD_QUERY } from './lib/ci-sims.ts';
import { ceilingTable, compareWithCeiling } from './lib/ceiling-ratios.ts';
import { runSseFanoutCell, SSE_FANOUT_QUERY, sseFanoutTable, type SseFanoutCellResult, type SseServerKind } from './scenarios/sse-fanout.ts';
import { FANOUT_DISTINCT, FANOUT_IDENTICAL, FANOUT_UNIQUE, lastCpuProfile, runFanoutCell, summarizeCpuProfile, type FanoutCellResult, type ProfileSummary, type ServerKind, type Variant } from './scenarios/fanout.ts';

const TOKEN = 'ghp_bench_token';
const SECRET = 'bench-webhook-secret';
const GATEWAY_CPU = 0;
const LOAD_CPU = 1;

const quick = process.argv.includes('--quick');
// `--only=latency,fanout,nested` runs a subset (for development); `--profile` writes a V8 CPU
// profile of the gateway in the largest identical-operation fan-out cell and prints its top functions.
const onlyArg = process.argv.find((a) => a.startsWith('--only='));
const only = onlyArg ? new Set(onlyArg.slice('--only='.length).split(',')) : null;
const runs = (name: string) => !only || only.has(name);
const profile = process.argv.includes('--profile') || process.argv.some((a) => a.startsWith('--profile='));
// `--profile=<variant>` profiles that variant's largest gateway cell instead of the identical one.
const profiledVariant = (process.argv.find((a) => a.startsWith('--profile='))?.slice('--profile='.length) ?? 'identical') as Variant;
// `--client=graphql-ws` makes fan-out subscribers use graphql-ws's createClient instead of the lean protocol client.
const fanoutClient: ClientKind = process.argv.includes('--client=graphql-ws') ? 'graphql-ws' : 'lean';
const plan = quick
  ? { subscribers: [100], rates: [200], durationSec: 2, warmupSec: 1, drainMs: 4000, nestedReps: 2, budgetMs: 120_000,
    fanout: { subscribers: [500], distinctAt: [500], uniqueAt: [] as number[], baselineAt: [] as number[], clientProcesses: 2, ratePerSec: 25, durationSec: 1.5, warmupEvents: 5, drainMs: 3000 },
    queries: { connections: 10, durationSec: 1.5, coldReps: 1 },
    economy: { dashboards: 50, periodSec: 10, warmupSec: 1, windowSec: 4 } }
  // Budgeted for 10 minutes with the ceiling in every fan-out cell: the stock baseline runs at 1,000 only (its
  // larger cells took ~30 s each and only restated the 1,000 ratio), latency at the two ends of the subscriber range.
  : { subscribers: [1, 1000], rates: [50, 200], durationSec: 8, warmupSec: 2, drainMs: 8000, nestedReps: 5, budgetMs: 600_000,
    fanout: { subscribers: [1000, 5000, 10_000], distinctAt: [1000, 5000, 10_000], uniqueAt: [1000, 5000, 10_000], baselineAt: [1000], clientProcesses: 4, ratePerSec: 25, durationSec: 3, warmupEvents: 10, drainMs: 6000 },
    queries: { connections: 10, durationSec: 6, coldReps: 3 },
    economy: { dashboards: 50, periodSec: 10, warmupSec: 4, windowSec: 30 } };
// `--fanout-subs=1000,5000` replaces the fan-out sizes (for development and profiling).
const subsArg = process.argv.find((a) => a.startsWith('--fanout-subs='));
if (subsArg) {
  const sizes = subsArg.slice('--fanout-subs='.length).split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0 && n <= 20_000);
  plan.fanout.subscribers = sizes;
  plan.fanout.distinctAt = sizes;
}
// `--query-connections=N` replaces the autocannon connection count of the query-load scenario (for development).
const connArg = process.argv.find((a) => a.startsWith('--query-connections='));
if (connArg) {
  const n = Number(connArg.slice('--query-connections='.length));
  if (Number.isInteger(n) && n > 0 && n <= 1000) plan.queries.connections = n;
}
/** Wall time (ms) the query-load and upstream-economy scenarios need, kept free of the fan-out cells when they run. */
const QUERIES_RESERVE_MS = runs('queries') ? (quick ? 9000 : 30_000) : 0;
const ECONOMY_RESERVE_MS = runs('economy') ? (quick ? 9000 : 45_000) : 0;
/** Idle-subscriber memory: sizes and the wall time they need. */
const MEMORY_SIZES = quick ? [500] : [1000, 10_000];
// 10,000 sockets connect in ~8 s on a quiet machine, then two forced GCs: 20 s was cut short once the ceiling rows were added.
const MEMORY_RESERVE_MS = runs('memory') ? (quick ? 20_000 : 45_000) : 0;
/** Fan-out cells start only while this much of the budget (ms) is left, so the run ends inside it. */
const FANOUT_RESERVE_MS = (quick ? 20_000 : 45_000) + QUERIES_RESERVE_MS + ECONOMY_RESERVE_MS + MEMORY_RESERVE_MS;

// ---- cleanup: children never outlive us ----------------------------------------
const sims: GithubSimulator[] = [];
let exiting = false;
function abort(reason: string, code = 1): never {
  if (!exiting) {
    exiting = true;
    process.stderr.write(`bench: ${reason}\n`);
  }
  killAllChildren();
  process.exit(code);
}
process.on('exit', () => killAllChildren());
process.on('SIGINT', () => abort('interrupted', 130));
process.on('SIGTERM', () => abort('terminated', 143));
process.on('uncaughtException', (error) => abort(`uncaught: ${error.stack ?? String(error)}`));
process.on('unhandledRejection', (error) => abort(`unhandled rejection: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`));
const watchdog = setTimeout(() => abort(`time budget of ${plan.budgetMs / 1000} s exceeded`), plan.budgetMs);
watchdog.unref();

// ---- pin the load generator (this process, all threads) -------------------------
const cpuCount = os.availableParallelism(); // before pinning narrows it to 1
const loadAvgAtStart = os.loadavg();
let pinned = false;
if (HAS_TASKSET && cpuCount > Math.max(GATEWAY_CPU, LOAD_CPU)) {
  try {
    execFileSync('taskset', ['-a', '-cp', String(LOAD_CPU), String(process.pid)], { stdio: 'ignore' });
    pinned = true;
  } catch {
    pinned = false;
  }
}
const gatewayCpu = pinned ? GATEWAY_CPU : undefined;

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '–' : String(v));

function latencyTable(rows: LatencyCellResult[]): string {
  const head = '| subs | rate/s | webhooks | failed | expected | delivered | lost | dup | p50 ms | p99 ms | max ms | events/s | gw RSS MB (before→subscribed→after) | gw CPU % | load CPU % |';
  const sep = '|' + head.split('|').slice(1, -1).map(() => '---').join('|') + '|';
  const lines = rows.map((r) =>
    `| ${r.subscribers} | ${r.ratePerSec} | ${r.webhooksSent} | ${r.webhookErrors} | ${r.expected} | ${r.delivered} | ${r.lost} | ${r.duplicates} | ` +
    `${fmt(r.latencyMs.p50)} | ${fmt(r.latencyMs.p99)} | ${fmt(r.latencyMs.max)} | ${fmt(r.eventsPerSec)} | ` +
    `${fmt(r.gatewayRssMb.before)}→${fmt(r.gatewayRssMb.subscribed)}→${fmt(r.gatewayRssMb.after)} | ${fmt(r.gatewayCpuPct)} | ${fmt(r.loadCpuPct)} |`,
  );
  return [head, sep, ...lines].join('\n');
}

function nestedTable(reps: NestedRepResult[]): string {
  const head = '| rep | cold calls | cold ms | warm calls | warm ms | pipelines | jobs | jobs with runner | errors |';
  const sep = '|---|---|---|---|---|---|---|---|---|';
  const lines = reps.map((r, i) =>
    `| ${i + 1} | ${r.cold.calls} | ${r.cold.latencyMs} | ${r.warm.calls} | ${r.warm.latencyMs} | ${r.cold.pipelines} | ${r.cold.jobs} | ${r.cold.runnersNamed} | ${r.cold.errors + r.warm.errors} |`,
  );
  return [head, sep, ...lines].join('\n');
}

function fanoutTable(rows: FanoutCellResult[]): string {
  const head = '| server | ops | subs | events | expected | delivered | lost | dup | p50 ms | p99 ms | max ms | deliveries/s | RSS MB (before→subscribed) | KB/sub | server CPU % | load CPU % |';
  const sep = '|' + head.split('|').slice(1, -1).map(() => '---').join('|') + '|';
  const lines = rows.map((r) =>
    `| ${r.server} | ${r.variant} | ${r.subscribers} | ${r.events} | ${r.expected} | ${r.delivered} | ${r.lost} | ${r.duplicates} | ` +
    `${fmt(r.latencyMs.p50)} | ${fmt(r.latencyMs.p99)} | ${fmt(r.latencyMs.max)} | ${fmt(r.eventsPerSec)} | ` +
    `${fmt(r.serverRssMb.before)}→${fmt(r.serverRssMb.subscribed)} | ${fmt(r.rssPerSubscriberKb)} | ${fmt(r.serverCpuPct)} | ${fmt(r.loadCpuPct)} |`,
  );
  return [head, sep, ...lines].join('\n');
}

/** Gateway ÷ baseline for each (ops, subs) pair that has both. */
function fanoutRatios(rows: FanoutCellResult[]) {
  const out: Array<{ variant: Variant; subscribers: number; deliveriesPerSec: number | null; p99: number | null; kbPerSub: number | null; cpu: number | null; cpuPerDelivery: number | null }> = [];
  const ratio = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null || b === 0 ? null : round(a / b, 2));
  for (const g of rows.filter((r) => r.server === 'gateway')) {
    const b = rows.find((r) => r.server === 'baseline' && r.variant === g.variant && r.subscribers === g.subscribers);
    if (!b) continue;
    const perDelivery = (r: FanoutCellResult) => (r.serverCpuPct == null || !r.eventsPerSec ? null : r.serverCpuPct / r.eventsPerSec);
    out.push({
      variant: g.variant, subscribers: g.subscribers,
      deliveriesPerSec: ratio(g.eventsPerSec, b.eventsPerSec), p99: ratio(g.latencyMs.p99, b.latencyMs.p99),
      kbPerSub: ratio(g.rssPerSubscriberKb, b.rssPerSubscriberKb), cpu: ratio(g.serverCpuPct, b.serverCpuPct),
      cpuPerDelivery: ratio(perDelivery(g), perDelivery(b)),
    });
  }
  return out;
}

function fanoutRatioTable(ratios: ReturnType<typeof fanoutRatios>): string {
  const head = '| ops | subs | deliveries/s | p99 | KB/sub | server CPU | CPU per delivery |';
  const lines = ratios.map((r) => `| ${r.variant} | ${r.subscribers} | ${fmt(r.deliveriesPerSec)} | ${fmt(r.p99)} | ${fmt(r.kbPerSub)} | ${fmt(r.cpu)} | ${fmt(r.cpuPerDelivery)} |`);
  return [head, '|---|---|---|---|---|---|---|', ...lines].join('\n');
}

function queryTable(q: QueryLoadResult): string {
  const head = '| server | conns | queries | req/s | p50 ms | p99 ms | max ms | upstream req/query (one query) | upstream req/query (under load) | upstream 304s | answer: pipelines / jobs / runners | errors | server CPU % | load CPU % |';
  const sep = '|' + head.split('|').slice(1, -1).map(() => '---').join('|') + '|';
  const lines = q.rows.map((r) =>
    `| ${r.server} | ${fmt(r.connections)} | ${r.queries} | ${fmt(r.requestsPerSec)} | ${fmt(r.latencyMs.p50)} | ${fmt(r.latencyMs.p99)} | ${fmt(r.latencyMs.max)} | ` +
    `${r.upstreamOneQuery} | ${fmt(r.upstreamPerQuery)} | ${r.upstream.notModified} | ${r.check.pipelines} / ${r.check.jobs} / ${r.check.runners} | ${r.check.errors + r.non2xx + r.transportErrors} | ${fmt(r.serverCpuPct)} | ${fmt(r.loadCpuPct)} |`,
  );
  return [head, sep, ...lines].join('\n');
}

function economyTable(e: EconomyResult): string {
  const head = '| side | requests in window | requests/hour | 304s | 304 share | rate-limited requests/hour | refreshes in window | failed refreshes |';
  const sep = '|' + head.split('|').slice(1, -1).map(() => '---').join('|') + '|';
  const lines = e.sides.map((s) =>
    `| ${s.side} | ${s.upstream.total} | ${s.requestsPerHour} | ${s.upstream.notModified} | ${fmt(s.notModifiedShare)} | ${s.rateLimitedPerHour} | ${s.refreshes} | ${s.failedRefreshes} |`,
  );
  return [head, sep, ...lines].join('\n');
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const began = performance.now();
  console.log(`# Switchyard bench (${quick ? 'quick' : 'full'})`);
  console.log(`node ${process.version}, ${cpuCount} CPUs, load average ${loadAvgAtStart.map((x) => x.toFixed(2)).join(' ')}, ${pinned ? `gateway pinned to CPU ${GATEWAY_CPU}, load to CPU ${LOAD_CPU}` : 'not pinned (no taskset or < 2 CPUs)'}\n`);

  // ---- scenario 1 --------------------------------------------------------------
  const latencySim = createGithubSimulator({ token: TOKEN, seed: 7 });
  sims.push(latencySim);
  await latencySim.start();
  const templates = await captureJobTemplates(latencySim, SECRET);
  const latency: LatencyCellResult[] = [];
  let cell = 0;
  for (const subscribers of runs('latency') ? plan.subscribers : []) {
    for (const ratePerSec of plan.rates) {
      process.stderr.write(`webhook latency: ${subscribers} subscribers, ${ratePerSec}/s for ${plan.durationSec} s ... `);
      const t = performance.now();
      const r = await runLatencyCell({
        sim: latencySim, token: TOKEN, secret: SECRET, templates,
        subscribers, ratePerSec, durationSec: plan.durationSec, warmupSec: plan.warmupSec, drainMs: plan.drainMs,
        gatewayCpu, cellIndex: cell++,
      });
      process.stderr.write(`done in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
      latency.push(r);
    }
  }

  // ---- scenario 3: fan-out, gateway vs baseline ---------------------------------
  const fanout: FanoutCellResult[] = [];
  const fanoutSkipped: string[] = [];
  let profileTop: ProfileSummary | null = null;
  let profileFile: string | null = null;
  const fp = plan.fanout;
  const profDir = fileURLToPath(new URL('./results/profiles/', import.meta.url));
  const biggest = fp.subscribers[fp.subscribers.length - 1];
  for (const subscribers of runs('fanout') ? fp.subscribers : []) {
    const variants: Variant[] = ['identical'];
    if (fp.distinctAt.includes(subscribers)) variants.push('distinct');
    if (fp.uniqueAt.includes(subscribers)) variants.push('unique');
    for (const variant of variants) {
      // The ceiling runs right after the other servers of the same cell, so all of them see the same machine.
      const servers: ServerKind[] = fp.baselineAt.includes(subscribers) ? ['gateway', 'baseline', 'ceiling'] : ['gateway', 'ceiling'];
      for (const server of servers) {
        const label = `${server} ${variant} ${subscribers} subscribers`;
        const left = plan.budgetMs - (performance.now() - began);
        if (left < FANOUT_RESERVE_MS) {
          fanoutSkipped.push(label);
          continue;
        }
        process.stderr.write(`fan-out: ${label}, ${fp.ratePerSec}/s for ${fp.durationSec} s ... `);
        const t = performance.now();
        const profiled = profile && server === 'gateway' && variant === profiledVariant && subscribers === biggest;
        const r = await runFanoutCell({
          server, variant, sim: latencySim, token: TOKEN, secret: SECRET, templates, subscribers,
          clientProcesses: subscribers >= 5000 ? fp.clientProcesses : 2, ratePerSec: fp.ratePerSec, durationSec: fp.durationSec,
          warmupEvents: fp.warmupEvents, drainMs: fp.drainMs, serverCpu: gatewayCpu, loadCpu: pinned ? LOAD_CPU : undefined,
          cpuProfDir: profiled ? profDir : undefined, client: fanoutClient,
        });
        if (profiled && lastCpuProfile()) {
          profileFile = `${profDir}${lastCpuProfile()}`;
          r.cpuProfile = profileFile;
          profileTop = summarizeCpuProfile(profileFile, r.windowMonoUs);
        }
        process.stderr.write(`done in ${((performance.now() - t) / 1000).toFixed(1)} s (${Object.entries(r.phaseMs).map(([k, v]) => `${k} ${v}`).join(", ")} ms)\n`);
        fanout.push(r);
      }
    }
  }
  const ratios = fanoutRatios(fanout);
  const ceiling = compareWithCeiling(fanout);

  // ---- scenario 3b: SSE fan-out, multiplexed vs per-subscriber vs the raw ceiling ----
  const sse: SseFanoutCellResult[] = [];
  const sseSkipped: string[] = [];
  const sp = quick ? { subscribers: [300], durationSec: 1.5, warmupEvents: 3, drainMs: 3000 } : { subscribers: [1000, 5000], durationSec: 4, warmupEvents: 5, drainMs: 6000 };
  // --quick stays under a minute: there SSE runs only when asked for (--only=sse).
  // Opt-in (--only=sse): 5,000 SSE streams take a minute to open, which the 10-minute full run cannot spare.
  for (const subscribers of only?.has('sse') ? sp.subscribers : []) {
    for (const server of ['ceiling', 'gateway', 'gateway-solo'] as SseServerKind[]) {
      const label = `SSE ${server} ${subscribers} subscribers`;
      if (plan.budgetMs - (performance.now() - began) < FANOUT_RESERVE_MS) {
        sseSkipped.push(label);
        continue;
      }
      process.stderr.write(`fan-out: ${label}, ${fp.ratePerSec}/s for ${sp.durationSec} s ... `);
      const t = performance.now();
      const cellResult = await runSseFanoutCell({
        server, sim: latencySim, token: TOKEN, secret: SECRET, templates, subscribers, clientProcesses: subscribers >= 5000 ? 4 : 2,
        ratePerSec: fp.ratePerSec, durationSec: sp.durationSec, warmupEvents: sp.warmupEvents, drainMs: sp.drainMs,
        serverCpu: gatewayCpu, loadCpu: pinned ? LOAD_CPU : undefined,
      });
      sse.push(cellResult);
      process.stderr.write(`done in ${((performance.now() - t) / 1000).toFixed(1)} s: ${JSON.stringify({ ...cellResult, subscriberErrorSamples: undefined })}\n`);
    }
  }

  // ---- scenario 2 --------------------------------------------------------------
  // 3 repositories × 8 finished runs = 24 completed runs, so a page of 20 spans every repository.
  const nestedSim = createGithubSimulator({ token: TOKEN, seed: 7, history: 8 });
  sims.push(nestedSim);
  await nestedSim.start();
  const completedRuns = nestedSim.world.runs().filter((r) => r.status === 'completed').length;
  const reps: NestedRepResult[] = [];
  for (let i = 0; i < (runs('nested') ? plan.nestedReps : 0); i++) {
    process.stderr.write(`nested query: rep ${i + 1}/${plan.nestedReps}\n`);
    reps.push(await runNestedQueryRep({ sim: nestedSim, token: TOKEN, secret: SECRET, gatewayCpu }));
  }

  // ---- scenario 4: dashboard query under load, gateway vs baseline ------------------
  const budgetSkipped: string[] = [];
  const left = () => plan.budgetMs - (performance.now() - began);
  let queries: QueryLoadResult | null = null;
  if (runs('queries')) {
    if (left() < QUERIES_RESERVE_MS + ECONOMY_RESERVE_MS + MEMORY_RESERVE_MS + 5000) budgetSkipped.push('queries');
    else queries = await runQueryLoad({ ...plan.queries, serverCpu: gatewayCpu, log: (line) => process.stderr.write(`${line}\n`) });
  }

  // ---- scenario 5: upstream economy ------------------------------------------------
  let economy: EconomyResult | null = null;
  if (runs('economy')) {
    if (left() < ECONOMY_RESERVE_MS + MEMORY_RESERVE_MS + 5000) budgetSkipped.push('economy');
    else economy = await runUpstreamEconomy({ ...plan.economy, gatewayCpu, log: (line) => process.stderr.write(`${line}\n`) });
  }

  // ---- scenario 6: memory per idle subscriber ---------------------------------------
  let idleMemory: IdleMemoryRow[] | null = null;
  if (runs('memory')) {
    if (left() < MEMORY_RESERVE_MS) budgetSkipped.push('memory');
    else {
      process.stderr.write(`idle memory: ${MEMORY_SIZES.join(', ')} subscribers ... `);
      idleMemory = await runIdleMemory(MEMORY_SIZES, MEMORY_RESERVE_MS);
      process.stderr.write('done\n');
    }
  }

  // ---- scenario 8: Jenkins stage reads per job (a few seconds) -------------------------
  let jenkinsReads: JenkinsReadsRow[] | null = null;
  if (runs('jenkins')) {
    process.stderr.write('jenkins reads ... ');
    jenkinsReads = await runJenkinsReads([{ builds: 10 }, { builds: 15 }, { builds: 25 }, { builds: 25, maxRunsPerJob: 50 }], gatewayCpu);
    process.stderr.write('done\n');
  }

  // ---- scenario 7: a valid user's latency under a bogus-key flood (opt-in: --only=authflood) ----
  let authFlood: AuthFloodRow[] | null = null;
  if (only?.has('authflood')) {
    authFlood = await runAuthFlood({ phaseSec: quick ? 4 : 10, validPerSec: 100, floodPerSec: 200, floodInFlight: 64, serverCpu: gatewayCpu, log: (l) => process.stderr.write(`${l}\n`) });
  }

  // ---- scenario 10: the dashboard query over a large live state (opt-in: --only=livestate) ----
  let liveState: LiveStateResult | null = null;
  if (only?.has('livestate')) {
    liveState = await runLiveState({
      sizes: quick ? [10_000, 100_000] : [10_000, 100_000, 500_000], connections: 10, durationSec: quick ? 2 : 5, reps: quick ? 1 : 2,
      serverCpu: gatewayCpu, log: (l) => process.stderr.write(`${l}\n`),
    });
  }

  await Promise.allSettled(sims.map((s) => s.stop()));

  console.log('## Webhook → subscriber latency\n');
  console.log(`Subscription: \`${SUBSCRIPTION}\`; each row: ${plan.durationSec} s of signed workflow_job webhooks at a fixed rate, latency from each webhook's scheduled send time to receipt at each subscriber.\n`);
  console.log(latencyTable(latency));
  for (const r of latency) {
    const notes = [
      r.webhookErrors ? `failed webhooks ${JSON.stringify(r.webhookErrorReasons)}` : '',
      r.wrongTransition ? `${r.wrongTransition} events with an unexpected previousStatus` : '',
      r.subscriberErrors ? `${r.subscriberErrors} subscriptions ended with an error, e.g. ${JSON.stringify(r.subscriberErrorSamples[0])}` : '',
    ].filter(Boolean);
    if (notes.length) console.log(`- ${r.subscribers} subs @ ${r.ratePerSec}/s: ${notes.join('; ')}`);
  }
  if (fanout.length) {
    console.log('\n## Subscription fan-out: gateway vs stock yoga baseline and the raw ws ceiling\n');
    console.log(`Identical: every subscriber runs \`${FANOUT_IDENTICAL}\`. Distinct: \`${FANOUT_DISTINCT}\` with its own \`$f = { backends: ["gh", "x<i>"] }\`. Unique: \`${FANOUT_UNIQUE.replace('__I__', '<i>')}\`, every selection different. ` +
      `${fp.ratePerSec} events/s for ${fp.durationSec} s per row (gateway and ceiling: signed workflow_job webhooks; baseline: POST /publish); latency from each event's intended send time to receipt.\n`);
    console.log(fanoutTable(fanout));
    for (const r of fanout) {
      const notes = [
        r.failedSends ? `failed sends ${JSON.stringify(r.failedSendReasons)}` : '',
        r.wrongTransition ? `${r.wrongTransition} events with an unexpected previousStatus` : '',
        r.subscriberErrors ? `${r.subscriberErrors} subscriber errors, e.g. ${JSON.stringify(r.subscriberErrorSamples[0])}` : '',
        r.serverExited ? `server exited: ${r.serverExited.slice(0, 200)}` : '',
      ].filter(Boolean);
      if (notes.length) console.log(`- ${r.server} ${r.variant} ${r.subscribers}: ${notes.join('; ')}`);
    }
    if (fanoutSkipped.length) console.log(`- skipped (time budget): ${fanoutSkipped.join(', ')}`);
    console.log('\nRatios gateway ÷ baseline (deliveries/s: higher is better; the rest: lower is better):\n');
    console.log(fanoutRatioTable(ratios));
    // ---- issue 19: Switchyard against the raw ws ceiling (section 3, "The ceiling") ----
    if (ceiling.length) {
      console.log('\nSwitchyard against the raw `ws` ceiling (same clients, same webhooks, same frames; goal for identical and distinct: throughput ≥ 0.8 of the ceiling, p99 ≤ 1.5× the ceiling\'s):\n');
      console.log(ceilingTable(ceiling));
    }
    // ---- end issue 19 ceiling ----
    if (profileTop) {
      console.log(`\nGateway CPU profile (${profiledVariant}, ${biggest} subscribers, ${profileTop.samples} samples in the measured window; ${profileFile}). Self time by package, then by function:\n`);
      console.log(['| self % | package / area |', '|---|---|', ...profileTop.groups.map((p) => `| ${p.selfPct} | ${p.group} |`)].join('\n'));
      console.log('');
      console.log(['| self % | function |', '|---|---|', ...profileTop.functions.map((p) => `| ${p.selfPct} | \`${p.fn}\` |`)].join('\n'));
    }
  }
  console.log('\n## Nested query upstream cost\n');
  console.log(`Query: \`${NESTED_QUERY}\` against a simulator with ${completedRuns} completed runs; cold = first query on a fresh gateway, warm = the same query right after.\n`);
  console.log(nestedTable(reps));
  const summary = {
    coldCallsMedian: median(reps.map((r) => r.cold.calls)),
    warmCallsMedian: median(reps.map((r) => r.warm.calls)),
    coldLatencyMsMedian: round(median(reps.map((r) => r.cold.latencyMs))),
    warmLatencyMsMedian: round(median(reps.map((r) => r.warm.latencyMs))),
  };
  console.log(`\nmedian: cold ${summary.coldCallsMedian} calls / ${summary.coldLatencyMsMedian} ms, warm ${summary.warmCallsMedian} calls / ${summary.warmLatencyMsMedian} ms`);
  console.log(`cold calls by route (rep 1): ${JSON.stringify(reps[0]?.cold.byRoute ?? {})}`);

  if (queries) {
    console.log('\n## Dashboard query under load: gateway vs stock yoga baseline\n');
    console.log(`Query: \`${DASHBOARD_QUERY}\` over GitHub (3 repositories) and GitLab (3 projects) simulators, 8 finished pipelines each. ` +
      `gateway-live and baseline: autocannon, ${plan.queries.connections} connections for ${plan.queries.durationSec} s; gateway-cold: the first query on ${plan.queries.coldReps} fresh gateway processes.\n`);
    console.log(queryTable(queries));
    console.log(`\ngateway-live ÷ baseline requests/s: ${fmt(queries.liveOverBaselineRps)}`);
    console.log(`answers equal apart from ids (pipelines in order, jobs, statuses, runners): ${queries.answersMatch === null ? '–' : queries.answersMatch ? 'yes' : '**no**'}`);
    console.log(`gateway-cold reps (ms / upstream requests): ${queries.coldReps.map((c) => `${c.latencyMs} / ${c.upstream}`).join(', ')}`);
    console.log(`cold upstream requests by route (rep 1): ${JSON.stringify(queries.coldByRoute)}`);
  }
  if (economy) {
    console.log('\n## Upstream economy: Switchyard against dashboards polling the REST APIs\n');
    console.log(`${economy.dashboards} dashboards per side, each wanting state no older than ${economy.periodSec} s; simulators change once per ${economy.autoplayIntervalMs / 1000} s each. ` +
      `Counted over a ${economy.windowSec} s window after ${economy.warmupSec} s of warm-up and **extrapolated** ×${round(3600 / economy.windowSec, 1)} to one hour.\n`);
    console.log(economyTable(economy));
    if (economy.windowSec < 2 * economy.periodSec) {
      console.log(`\n**Smoke check only:** a ${economy.windowSec} s window is shorter than the gateway's list refresh cycle (${economy.periodSec} s) and poll interval (30 s), ` +
        'so the Switchyard count can miss a whole refresh; extrapolated figures and ratios are not estimates. Run the full bench for them.');
    }
    console.log(`\ndirect ÷ Switchyard, all requests: ${fmt(economy.ratio)} (direct-etag: ${fmt(economy.ratioEtag)}); requests that cost rate limit (all but 304s): ${fmt(economy.rateLimitedRatio)} (direct-etag: ${fmt(economy.rateLimitedRatioEtag)})`);
    console.log(`direct without GitLab bridges and runner details (less than the query returns): ${economy.directMinimal.requestsPerHour} requests/hour, ratio ${fmt(economy.directMinimal.ratio)}`);
    console.log(`webhooks pushed to Switchyard in the window: GitHub ${economy.webhooksInWindow.github}, GitLab ${economy.webhooksInWindow.gitlab}`);
    console.log(`Switchyard requests by route: ${JSON.stringify(economy.sides[0]?.upstream.byRoute ?? {})}`);
  }
  if (idleMemory) {
    console.log('\n## Memory per idle subscriber\n');
    console.log('S idle graphql-ws subscribers (one socket and one identical `jobUpdated` subscription each) held by a client process; measured inside the gateway process after the connections settled and two full garbage collections, against the same measurement with none. Goal: at most 8 KB RSS per idle subscriber at 10,000 (issue 19).\n');
    console.log('| subscribers | heap KB/sub | RSS KB/sub | external KB/sub | connect s |');
    console.log('|---|---|---|---|---|');
    for (const r of idleMemory) console.log(`| ${r.subscribers} | ${r.heapKbPerSub} | ${r.rssKbPerSub} | ${r.externalKbPerSub} | ${r.connectSec} |`);
  }
  if (jenkinsReads) {
    console.log('\n## Jenkins stage reads per job\n');
    console.log('One query (projects, the N newest pipelines of one Pipeline job with jobs and steps, runners) on a fresh gateway; requests the Jenkins simulator received. The stage view pages 10 runs (`maxRunsPerJob`) with no offset, so older runs cost one describe each.\n');
    console.log(jenkinsReadsTable(jenkinsReads));
    console.log(`\nrequests by route (N = 15): ${JSON.stringify(jenkinsReads.find((r) => r.builds === 15)?.byRoute ?? {})}`);
  }
  if (budgetSkipped.length) console.log(`\nskipped (time budget): ${budgetSkipped.join(', ')}`);
  if (sse.length || sseSkipped.length) {
    console.log('\n## SSE fan-out: multiplexed vs per-subscriber vs the raw ceiling\n');
    console.log(`Every subscriber runs \`${SSE_FANOUT_QUERY}\` over SSE (distinct connections). gateway: multiplexed; gateway-solo: \`server.sseMultiplexing: false\` (one execution per subscriber, as before); ceiling: bench/baseline/sse-ceiling-server.ts (one pre-serialized frame written to every response). ${fp.ratePerSec} events/s for ${sp.durationSec} s per row.\n`);
    console.log(sseFanoutTable(sse));
    for (const r of sse) if (r.subscriberErrors || r.failedSends || r.duplicates || r.failedOpens) console.log(`- ${r.server} ${r.subscribers}: ${r.failedOpens} streams could not open, ${r.subscriberErrors} subscriber errors ${JSON.stringify(r.subscriberErrorSamples[0] ?? '')}, ${r.failedSends} failed sends, ${r.duplicates} duplicates`);
    if (sseSkipped.length) console.log(`- skipped (time budget): ${sseSkipped.join(', ')}`);
  }

  if (authFlood) {
    console.log('\n## Authentication flood\n');
    console.log('A valid API-key user (`{ __typename }`) at 100 requests/s from 127.0.0.1, idle and while 127.0.0.2 sends 200 new bogus `sy_` keys/s (each would cost one scrypt). Goal: flood p99 within 2× of idle.\n');
    console.log(authFloodTable(authFlood));
  }
  if (liveState) {
    console.log('\n## Dashboard query over a large live state\n');
    console.log(`\`${DASHBOARD_QUERY}\` through the gateway, its live state filled in-process; per size, runs of the indexed path and of the pre-index scan path alternate on the same state (bench/README.md, "Large live state").\n`);
    console.log(liveStateTable(liveState));
  }
  const results = {
    meta: {
      mode: quick ? 'quick' : 'full',
      finishedAt: new Date().toISOString(),
      elapsedSec: round((performance.now() - began) / 1000, 1),
      commit: gitCommit(),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      cpus: cpuCount,
      // Other work on the machine skews every figure; compare runs only at similar load.
      loadAvg: { start: loadAvgAtStart.map((x) => round(x)), end: os.loadavg().map((x) => round(x)) },
      cpuModel: os.cpus()[0]?.model ?? null,
      pinned: pinned ? { gateway: GATEWAY_CPU, load: LOAD_CPU } : null,
      plan,
    },
    webhookLatency: { subscription: SUBSCRIPTION, cells: latency },
    nestedQuery: { query: NESTED_QUERY, completedRuns, reps, summary },
    queryLoad: queries ? { query: DASHBOARD_QUERY, ...queries } : null,
    economy,
    idleMemory,
    authFlood,
    liveState,
    jenkinsReads,
    budgetSkipped,
    sseFanout: { query: SSE_FANOUT_QUERY, cells: sse, skipped: sseSkipped },
    fanout: { identical: FANOUT_IDENTICAL, distinct: FANOUT_DISTINCT, unique: FANOUT_UNIQUE, cells: fanout, skipped: fanoutSkipped, ratios, ceiling, profile: profileTop ? { file: profileFile, top: profileTop } : null },
  };
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}latest.json`, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote bench/results/latest.json (${results.meta.elapsedSec} s)`);
}

main().then(
  () => {
    killAllChildren();
    process.exit(0);
  },
  (error: unknown) => abort(error instanceof Error ? (error.stack ?? error.message) : String(error)),
);
