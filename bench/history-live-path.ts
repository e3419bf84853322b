/**
 * The live path with the history on vs off (issue 13: "≤ 10% more"), in one run:
 * webhook → subscriber latency (bench/scenarios/webhook-latency.ts: open loop,
 * latency from each webhook's intended send time) of a fresh gateway child per cell,
 * history off and on interleaved rep by rep so drift in the machine hits both alike.
 * Two pairs: embedded events + PGlite (the write-behind buffer), and Redis events +
 * PostgreSQL (the consumer group over the streams, ack after commit).
 *   npx tsx bench/history-live-path.ts [--quick] [--reps=N] [--subs=10] [--rate=50] [--seconds=10] [--pairs=memory|redis] [--gateway-cpus=0]
 * Needs Redis at 127.0.0.1:6379 and PostgreSQL at 127.0.0.1:5432 (database `test`).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createGithubSimulator } from '../adapters/github/simulator/index.ts';
import { HAS_TASKSET, killAllChildren } from './lib/gateway-child.ts';
import { round } from './lib/stats.ts';
import { captureJobTemplates } from './lib/webhook-templates.ts';
import { runLatencyCell, type LatencyCellResult } from './scenarios/webhook-latency.ts';

const TOKEN = 'ghp_bench_token';
const SECRET = 'bench-webhook-secret';
const POSTGRES = 'postgres://postgres@127.0.0.1:5432/test';
const quick = process.argv.includes('--quick');
const reps = Number(process.argv.find((a) => a.startsWith('--reps='))?.slice('--reps='.length) ?? (quick ? 1 : 3));
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
// The gateway child's CPUs (taskset list): one core by default, where the event loop and the
// PGlite thread share it; `--gateway-cpus=0,1` gives them two, as a deployment has.
const gatewayCpus = arg('gateway-cpus') ?? '0';
/** Seconds between the gateway being ready (history open) and the measured run, for both variants: the start-up transient is left out. */
const settleSec = Number(arg('settle') ?? 40);
// Below saturation on purpose: the figure is what the history adds, not how an overloaded gateway queues.
const plan = {
  subscribers: Number(arg('subs') ?? 10),
  ratePerSec: Number(arg('rate') ?? 50),
  durationSec: Number(arg('seconds') ?? (quick ? 3 : 10)),
};

interface Variant {
  readonly name: string;
  readonly pair: 'memory' | 'redis';
  readonly history: boolean;
}

const VARIANTS: readonly Variant[] = [
  { name: 'embedded events, history off', pair: 'memory', history: false },
  { name: 'embedded events, history on (PGlite, buffer)', pair: 'memory', history: true },
  { name: 'Redis events, history off', pair: 'redis', history: false },
  { name: 'Redis events, history on (PostgreSQL, consumer group)', pair: 'redis', history: true },
];

/** A cell's gateway config, and what to clean up after it. */
async function setup(v: Variant): Promise<{ config: Record<string, unknown>; cleanup: () => Promise<void>; recorded: () => Promise<number | null> }> {
  const prefix = `switchyard:bench:hist:${randomBytes(4).toString('hex')}:`;
  const events = v.pair === 'redis' ? { store: 'redis', streamPrefix: prefix } : {};
  if (!v.history) return { config: { events, history: { enabled: false } }, cleanup: async () => {}, recorded: async () => null };
  if (v.pair === 'memory') return { config: { events, history: {} }, cleanup: async () => {}, recorded: async () => null };
  const schema = `history_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = `${POSTGRES}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return {
    config: { events, history: { url: { value: url } } },
    recorded: async () => Number((await admin.query(`SELECT count(*) AS n FROM ${schema}.transitions`)).rows[0].n),
    cleanup: async () => {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
      const redis = new Redis('redis://127.0.0.1:6379');
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    },
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : Number.NaN;
};

// `--pairs=redis` (or memory) runs one pair only.
const pairs = arg('pairs')?.split(',') ?? ['memory', 'redis'];
const variants = VARIANTS.filter((v) => pairs.includes(v.pair));

/** The q-quantile of every sample of the given cells together. */
function pooledQuantile(cells: readonly Float64Array[], q: number): number {
  const all = new Float64Array(cells.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of cells) {
    all.set(c, at);
    at += c.length;
  }
  all.sort();
  return all.length ? all[Math.min(all.length - 1, Math.floor(q * all.length))]! : Number.NaN;
}

/**
 * The pooled p99 ratio on / off, and a 90% interval from resampling the reps (whole cells,
 * with replacement, 400 times): the spread between reps is what the interval must carry,
 * as one rep's p99 swings more than the history's effect.
 */
function pooledRatio(off: readonly Float64Array[], on: readonly Float64Array[]): { ratio: number; low: number; high: number } {
  const ratio = pooledQuantile(on, 0.99) / pooledQuantile(off, 0.99);
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const resample = (cells: readonly Float64Array[]) => cells.map(() => cells[Math.floor(random() * cells.length)]!);
  const ratios = Array.from({ length: 400 }, () => pooledQuantile(resample(on), 0.99) / pooledQuantile(resample(off), 0.99)).sort((a, b) => a - b);
  return { ratio, low: ratios[Math.floor(0.05 * ratios.length)]!, high: ratios[Math.floor(0.95 * ratios.length)]! };
}

async function main(): Promise<void> {
  const sim = createGithubSimulator({ token: TOKEN, seed: 7, repositories: ['api'], history: 1 });
  await sim.start();
  const templates = await captureJobTemplates(sim, SECRET);
  const results = new Map<string, LatencyCellResult[]>(VARIANTS.map((v) => [v.name, []]));
  const recordedRows = new Map<string, (number | null)[]>(VARIANTS.map((v) => [v.name, []]));
  let cell = 0;
  try {
    for (let rep = 0; rep < reps; rep++) {
      for (const v of variants) {
        const { config, cleanup, recorded } = await setup(v);
        try {
          process.stderr.write(`rep ${rep + 1}/${reps}: ${v.name} ... `);
          const r = await runLatencyCell({
            sim, token: TOKEN, secret: SECRET, templates, subscribers: plan.subscribers, ratePerSec: plan.ratePerSec,
            durationSec: plan.durationSec, warmupSec: 1, drainMs: 8000, gatewayCpu: HAS_TASKSET ? gatewayCpus : undefined, cellIndex: cell++,
            config, awaitHistory: true, settleSec,
          });
          recordedRows.get(v.name)!.push(await recorded());
          process.stderr.write(`p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, lost ${r.lost}, gateway CPU ${r.gatewayCpuPct} %\n`);
          results.get(v.name)!.push(r);
        } finally {
          await cleanup();
        }
      }
    }
  } finally {
    await sim.stop();
    killAllChildren();
  }

  console.log(`\n### Live path with the history on vs off (${plan.subscribers} subscribers, ${plan.ratePerSec} webhooks/s for ${plan.durationSec} s, ${reps} rep(s) each, interleaved, gateway on CPU ${gatewayCpus}, measured ${settleSec} s after ready)\n`);
  console.log('| variant | p50 ms | p90 ms | p99 ms (median of reps) | p99 per rep | lost | gateway CPU % (with its PGlite process) | transitions recorded |');
  console.log('|---|---|---|---|---|---|---|---|');
  const p99Of = new Map<string, number>();
  for (const v of variants) {
    const rs = results.get(v.name)!;
    const p99s = rs.map((r) => r.latencyMs.p99 ?? Number.NaN);
    p99Of.set(v.name, median(p99s));
    const rows = recordedRows.get(v.name)!.filter((n) => n !== null);
    console.log(`| ${v.name} | ${round(median(rs.map((r) => r.latencyMs.p50 ?? Number.NaN)))} | ${round(median(rs.map((r) => r.latencyMs.p90 ?? Number.NaN)))} | ${round(median(p99s))} | ${p99s.join(', ')} | ${rs.reduce((n, r) => n + r.lost, 0)} | ${round(median(rs.map((r) => r.gatewayCpuPct ?? Number.NaN)), 0)} | ${rows.length ? rows.join(', ') : '-'} |`);
  }
  console.log('\n| pair | p99 on / off (median of reps) | p99 on / off (all reps pooled) | 90% interval (reps resampled) |');
  console.log('|---|---|---|---|');
  for (const pair of pairs) {
    const [offV, onV] = variants.filter((v) => v.pair === pair);
    const [off, on] = [offV!, onV!].map((v) => p99Of.get(v.name)!);
    const pooled = pooledRatio(results.get(offV!.name)!.map((r) => r.latencySamples), results.get(onV!.name)!.map((r) => r.latencySamples));
    console.log(`| ${pair === 'memory' ? 'embedded events + PGlite' : 'Redis events + PostgreSQL'} | ${round(on! / off!, 2)} | ${round(pooled.ratio, 2)} | ${round(pooled.low, 2)}–${round(pooled.high, 2)} |`);
  }
}

main().catch((error: unknown) => {
  killAllChildren();
  console.error(error);
  process.exit(1);
});
