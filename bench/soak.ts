/**
 * `npm run soak`: the two long runs of reliability-security-anchors.md §6 that
 * do not fit CI. Not part of `npm test` or `npm run bench`.
 *
 * - row 8, load: 1,000 graphql-ws subscribers × 50 signed webhooks/s for 10 min
 *   (30M deliveries); goal 0 lost, 0 duplicated, p99 ≤ 100 ms from the scheduled send time.
 * - row 11, soak: 500 subscribers × 10 webhooks/s for 30 min; goal RSS growth
 *   < 10 % after warm-up, event-loop delay p99 < 50 ms, 0 lost.
 *
 * - row 9, capacity: webhooks at 50/s while subscribers are added 500 → 4,000
 *   (20 s a step); reports the knee (last step with p99 ≤ 250 ms), shedding,
 *   event-loop delay and RSS per step (bench/scenarios/capacity.ts).
 *
 * - row 15, shutdown: the real entry point with 1,000 subscribers under 50
 *   webhooks/s gets SIGTERM; close codes and times, exit code and time
 *   (bench/scenarios/shutdown.ts).
 *
 * Load and soak reuse the latency cell of `npm run bench` (bench/scenarios/webhook-latency.ts):
 * a fresh gateway child pinned to CPU 0, the load pinned to CPU 1, an open-loop
 * sender, latency from each webhook's scheduled time. `--quick` runs each for
 * 1 min (a smoke check of the harness); `--only=load,soak,capacity,shutdown` picks runs.
 * Writes bench/results/soak.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { createGithubSimulator } from '../adapters/github/simulator/index.ts';
import { HAS_TASKSET, killAllChildren } from './lib/gateway-child.ts';
import type { GatewayStats } from './lib/gateway-stats.ts';
import { round } from './lib/stats.ts';
import { captureJobTemplates } from './lib/webhook-templates.ts';
import { runCapacity, type CapacityResult } from './scenarios/capacity.ts';
import { runShutdown, type ShutdownResult } from './scenarios/shutdown.ts';
import { runLatencyCell, type LatencyCellResult } from './scenarios/webhook-latency.ts';

const TOKEN = 'ghp_bench_token';
const SECRET = 'bench-webhook-secret';
const quick = process.argv.includes('--quick');
const onlyArg = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const minutes = (full: number) => (quick ? 1 : full);

interface Row {
  name: 'load' | 'soak';
  anchorRow: number;
  subscribers: number;
  ratePerSec: number;
  durationSec: number;
  /** RSS is compared from the end of this share of the run (the warm-up) to the end. */
  warmupShare: number;
}
const ROWS: Row[] = [
  { name: 'load', anchorRow: 8, subscribers: 1000, ratePerSec: 50, durationSec: minutes(10) * 60, warmupShare: 0.1 },
  { name: 'soak', anchorRow: 11, subscribers: 500, ratePerSec: 10, durationSec: minutes(30) * 60, warmupShare: 0.1 },
].filter((r) => !onlyArg || onlyArg.split(',').includes(r.name)) as Row[];

const CAPACITY = { steps: quick ? [250, 500] : [500, 1000, 2000, 3000, 4000], stepSec: quick ? 8 : 20, ratePerSec: 50, p99BoundMs: 250 };
const runsCapacity = !onlyArg || onlyArg.split(',').includes('capacity');
const runsShutdown = !onlyArg || onlyArg.split(',').includes('shutdown');
const budgetMs = ROWS.reduce((sum, r) => sum + r.durationSec * 1000 + 180_000, 0) + (runsCapacity ? 300_000 : 0) + (runsShutdown ? 120_000 : 0);
function abort(reason: string, code = 1): never {
  process.stderr.write(`soak: ${reason}\n`);
  killAllChildren();
  process.exit(code);
}
process.on('exit', () => killAllChildren());
process.on('SIGINT', () => abort('interrupted', 130));
process.on('SIGTERM', () => abort('terminated', 143));
setTimeout(() => abort(`time budget of ${budgetMs / 1000} s exceeded`), budgetMs).unref();

const loadAvgAtStart = os.loadavg();
let pinned = false;
if (HAS_TASKSET && os.availableParallelism() >= 2) {
  execFileSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' });
  pinned = true;
}

/** RSS after the warm-up share of the run against the last sample and the peak. */
function memoryGrowth(stats: GatewayStats[], warmupShare: number) {
  if (stats.length < 2) return null;
  const warm = stats[Math.min(stats.length - 1, Math.floor(stats.length * warmupShare))]!;
  const last = stats[stats.length - 1]!;
  const peak = Math.max(...stats.map((s) => s.rssBytes));
  const pct = (a: number, b: number) => round(((a - b) / b) * 100, 1);
  return {
    rssAfterWarmupMb: round(warm.rssBytes / 1048576, 1), rssEndMb: round(last.rssBytes / 1048576, 1), rssPeakMb: round(peak / 1048576, 1),
    rssGrowthPct: pct(last.rssBytes, warm.rssBytes), rssPeakGrowthPct: pct(peak, warm.rssBytes),
    heapAfterWarmupMb: round(warm.heapUsedBytes / 1048576, 1), heapEndMb: round(last.heapUsedBytes / 1048576, 1),
    eventLoopDelayMs: last.since, worstIntervalP99Ms: Math.max(...stats.map((s) => s.interval.p99)),
  };
}

const sim = createGithubSimulator({ token: TOKEN, seed: 7 });
await sim.start();
const templates = await captureJobTemplates(sim, SECRET);
const results: Array<{ row: Row; cell: LatencyCellResult; memory: ReturnType<typeof memoryGrowth> }> = [];
for (const [i, row] of ROWS.entries()) {
  process.stderr.write(`${row.name} (§6 row ${row.anchorRow}): ${row.subscribers} subscribers × ${row.ratePerSec}/s for ${row.durationSec} s\n`);
  const cell = await runLatencyCell({
    sim, token: TOKEN, secret: SECRET, templates, subscribers: row.subscribers, ratePerSec: row.ratePerSec,
    durationSec: row.durationSec, warmupSec: 2, drainMs: 15_000, gatewayCpu: pinned ? 0 : undefined, cellIndex: i,
    statsEveryMs: quick ? 2000 : 10_000,
    onProgress: ({ elapsedSec, sent, delivered }) => {
      if (elapsedSec % 60 === 0) process.stderr.write(`  ${elapsedSec} s: ${sent} webhooks sent, ${delivered} deliveries\n`);
    },
  });
  results.push({ row, cell, memory: memoryGrowth(cell.gatewayStats, row.warmupShare) });
}
let capacity: CapacityResult | null = null;
if (runsCapacity) {
  process.stderr.write(`capacity (§6 row 9): ${CAPACITY.ratePerSec}/s while subscribers step ${CAPACITY.steps.join(' → ')}, ${CAPACITY.stepSec} s a step\n`);
  capacity = await runCapacity({ sim, token: TOKEN, secret: SECRET, templates, ...CAPACITY, gatewayCpu: pinned ? 0 : undefined, cellIndex: ROWS.length });
}
let shutdown: ShutdownResult | null = null;
if (runsShutdown) {
  process.stderr.write('shutdown (§6 row 15): SIGTERM to src/main.ts with 1,000 subscribers under 50 webhooks/s\n');
  shutdown = await runShutdown({ sim, token: TOKEN, secret: SECRET, templates, subscribers: 1000, ratePerSec: 50, gatewayCpu: pinned ? 0 : undefined });
}
await sim.stop();

const fmt = (v: unknown) => (v === null || v === undefined ? '–' : String(v));
console.log(`# Switchyard soak (${quick ? 'quick, 1 min each' : 'full'})`);
console.log(`node ${process.version}, load average at start ${loadAvgAtStart.map((x) => x.toFixed(2)).join(' ')}, at end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}, ${pinned ? 'gateway on CPU 0, load on CPU 1' : 'not pinned'}\n`);
console.log('| run | subs × rate × s | webhooks | failed | expected | delivered | lost | dup | p50 / p99 / max ms | RSS MB after warm-up → end (peak) | RSS growth % | heap MB | event-loop delay p99 / max ms | gw CPU % |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const { row, cell: c, memory: m } of results) {
  console.log(`| ${row.name} (row ${row.anchorRow}) | ${row.subscribers} × ${row.ratePerSec} × ${row.durationSec} | ${c.webhooksSent} | ${c.webhookErrors} | ${c.expected} | ${c.delivered} | ${c.lost} | ${c.duplicates} | ` +
    `${fmt(c.latencyMs.p50)} / ${fmt(c.latencyMs.p99)} / ${fmt(c.latencyMs.max)} | ${fmt(m?.rssAfterWarmupMb)} → ${fmt(m?.rssEndMb)} (${fmt(m?.rssPeakMb)}) | ${fmt(m?.rssGrowthPct)} | ` +
    `${fmt(m?.heapAfterWarmupMb)} → ${fmt(m?.heapEndMb)} | ${fmt(m?.eventLoopDelayMs.p99)} / ${fmt(m?.eventLoopDelayMs.max)} | ${fmt(c.gatewayCpuPct)} |`);
}
if (capacity) {
  console.log(`\n## Capacity (row 9): ${capacity.ratePerSec} webhooks/s, subscribers added step by step; knee (p99 ≤ ${CAPACITY.p99BoundMs} ms): ${fmt(capacity.kneeSubscribers)} subscribers; ` +
    `lost by accepted, never-cut subscribers: ${capacity.lostByLive}; duplicates: ${capacity.duplicates}; webhooks not published: ${capacity.webhookFailures}; gateway ${capacity.gatewayExited ? `EXITED: ${capacity.gatewayExited}` : 'stayed up'}\n`);
  console.log('| subscribers | live | refused | cut | p50 / p99 / max ms | event-loop delay p99 ms (worst second) | gw RSS MB | gw CPU % |');
  console.log('|---|---|---|---|---|---|---|---|');
  const reasons = (r: Record<string, number>) => Object.entries(r).map(([k, v]) => `${v} ${k}`).join(', ') || '0';
  for (const s of capacity.steps) {
    console.log(`| ${s.subscribers} | ${s.live} | ${reasons(s.refused)} | ${reasons(s.cut)} | ${fmt(s.latencyMs.p50)} / ${fmt(s.latencyMs.p99)} / ${fmt(s.latencyMs.max)} | ${fmt(s.eventLoopDelayP99Ms)} | ${fmt(s.gatewayRssMb)} | ${fmt(s.gatewayCpuPct)} |`);
  }
}
if (shutdown) {
  const codes = Object.entries(shutdown.closeCodes).map(([k, v]) => `${v} × ${k}`).join(', ') || 'none';
  console.log(`\n## Shutdown (row 15): ${shutdown.subscribers} subscribers, ${shutdown.deliveredBeforeSignal} events delivered before SIGTERM; ` +
    `closes: ${codes}, ${shutdown.stillOpen} left open; signal → close p50 / p99 / max ${fmt(shutdown.closeMs.p50)} / ${fmt(shutdown.closeMs.p99)} / ${fmt(shutdown.closeMs.max)} ms; ` +
    `exit code ${fmt(shutdown.exitCode)} after ${fmt(shutdown.exitMs)} ms`);
}
const outDir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(outDir, { recursive: true });
writeFileSync(`${outDir}soak.json`, JSON.stringify({ meta: { quick, loadAvgAtStart, loadAvgAtEnd: os.loadavg(), node: process.version }, results, capacity, shutdown }, null, 2));
process.exit(0);
