/**
 * Switchyard against the raw `ws` ceiling (bench/baseline/ceiling-server.ts),
 * cell by cell: how much of what this machine can deliver the gateway
 * delivers, and at what latency. Any fan-out-like rows fit (WebSocket or SSE).
 */
import { round } from './stats.ts';

export interface CeilingComparable {
  readonly server: string;
  readonly variant: string;
  readonly subscribers: number;
  readonly eventsPerSec: number | null;
  readonly latencyMs: { readonly p50: number | null; readonly p99: number | null };
  readonly serverCpuPct: number | null;
}

/** A measured p99 above this is the machine's limit, not the gateway's (issue 19). */
export const CEILING_P99_BUDGET_MS = 100;
/** The goal for identical and distinct-filter operations: at least this share of the ceiling's throughput… */
export const GOAL_THROUGHPUT_SHARE = 0.8;
/** …with a p99 at most this multiple of the ceiling's. */
export const GOAL_P99_MULTIPLE = 1.5;
/** Variants the goal applies to (unique selections are executed per subscriber by design). */
const GOAL_VARIANTS = new Set(['identical', 'distinct']);

export interface CeilingComparison {
  variant: string;
  subscribers: number;
  gateway: { deliveriesPerSec: number | null; p50: number | null; p99: number | null; cpuPct: number | null };
  ceiling: { deliveriesPerSec: number | null; p50: number | null; p99: number | null; cpuPct: number | null };
  /** Gateway ÷ ceiling deliveries/s: 1 = as fast as the ceiling (higher is better). */
  throughputShare: number | null;
  /** Gateway p99 ÷ ceiling p99: 1 = as fast (lower is better). */
  p99Multiple: number | null;
  /** Gateway ÷ ceiling server CPU per delivery: what each delivery costs beyond the raw write path. */
  cpuPerDeliveryMultiple: number | null;
  /** The ceiling itself missed p99 ≤ 100 ms: this cell measures the machine, not the gateway. */
  ceilingMissedBudget: boolean;
  /** Goal met (identical and distinct only; null for variants without a goal or missing figures). */
  goalMet: boolean | null;
}

const ratio = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null || b === 0 ? null : round(a / b, 2));
const perDelivery = (r: CeilingComparable) => (r.serverCpuPct == null || !r.eventsPerSec ? null : r.serverCpuPct / r.eventsPerSec);
const figures = (r: CeilingComparable) => ({ deliveriesPerSec: r.eventsPerSec, p50: r.latencyMs.p50, p99: r.latencyMs.p99, cpuPct: r.serverCpuPct });

/** One comparison per (variant, subscribers) that has both a `gateway` row and a `ceiling` row. */
export function compareWithCeiling(rows: readonly CeilingComparable[], gatewayKind = 'gateway'): CeilingComparison[] {
  const out: CeilingComparison[] = [];
  for (const g of rows.filter((r) => r.server === gatewayKind)) {
    const c = rows.find((r) => r.server === 'ceiling' && r.variant === g.variant && r.subscribers === g.subscribers);
    if (!c) continue;
    const throughputShare = ratio(g.eventsPerSec, c.eventsPerSec);
    const p99Multiple = ratio(g.latencyMs.p99, c.latencyMs.p99);
    out.push({
      variant: g.variant,
      subscribers: g.subscribers,
      gateway: figures(g),
      ceiling: figures(c),
      throughputShare,
      p99Multiple,
      cpuPerDeliveryMultiple: ratio(perDelivery(g), perDelivery(c)),
      ceilingMissedBudget: c.latencyMs.p99 !== null && c.latencyMs.p99 > CEILING_P99_BUDGET_MS,
      goalMet: !GOAL_VARIANTS.has(g.variant) || throughputShare === null || p99Multiple === null
        ? null
        : throughputShare >= GOAL_THROUGHPUT_SHARE && p99Multiple <= GOAL_P99_MULTIPLE,
    });
  }
  return out;
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '–' : String(v));

/** Markdown: one row per cell, the two servers' figures, the ratios, the goal and the machine flag. */
export function ceilingTable(rows: readonly CeilingComparison[]): string {
  const head = '| ops | subs | ceiling deliveries/s | ceiling p50 ms | ceiling p99 ms | Switchyard deliveries/s | Switchyard p50 ms | Switchyard p99 ms | throughput ÷ ceiling | p99 × ceiling | CPU per delivery × ceiling | goal (≥ 0.8, ≤ 1.5×) |';
  const sep = '|' + head.split('|').slice(1, -1).map(() => '---').join('|') + '|';
  const lines = rows.map((r) => {
    const goal = r.goalMet === null ? '–' : r.goalMet ? 'met' : '**missed**';
    const machine = r.ceilingMissedBudget ? ' (ceiling p99 > 100 ms: the machine, not us)' : '';
    return `| ${r.variant} | ${r.subscribers} | ${fmt(r.ceiling.deliveriesPerSec)} | ${fmt(r.ceiling.p50)} | ${fmt(r.ceiling.p99)} | ` +
      `${fmt(r.gateway.deliveriesPerSec)} | ${fmt(r.gateway.p50)} | ${fmt(r.gateway.p99)} | ${fmt(r.throughputShare)} | ${fmt(r.p99Multiple)} | ${fmt(r.cpuPerDeliveryMultiple)} | ${goal}${machine} |`;
  });
  return [head, sep, ...lines].join('\n');
}
