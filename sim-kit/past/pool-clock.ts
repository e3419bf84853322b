/** Runner capacity over the window: which slot a job gets, and which pool is starved. */
import type { PastOptions, PastPool, PastRunner } from './types.ts';

/**
 * Runner slots and the intervals they are busy. A job takes the slot where it
 * can start first (the earliest gap that fits it at or after it is ready).
 */
export class PoolClock {
  private readonly busy = new Map<string, [number, number][][]>();

  constructor(pools: readonly PastPool[]) {
    for (const p of pools) for (const r of p.runners) this.busy.set(r.name, Array.from({ length: Math.max(1, r.slots ?? 1) }, () => []));
  }

  /** Where a job of `length` ms ready at `ready` can start first among `runners` (ties: first listed). */
  earliest(runners: readonly PastRunner[], ready: number, length: number, exclude: string | null): { runner: string; slot: number; at: number } | null {
    let best: { runner: string; slot: number; at: number } | null = null;
    for (const r of runners) {
      if (r.name === exclude && runners.length > 1) continue;
      (this.busy.get(r.name) ?? []).forEach((intervals, slot) => {
        const at = firstGap(intervals, ready, length);
        if (!best || at < best.at) best = { runner: r.name, slot, at };
      });
    }
    return best;
  }

  fits(runner: string, slot: number, from: number, to: number): boolean {
    const intervals = this.busy.get(runner)?.[slot] ?? [];
    return firstGap(intervals, from, to - from) === from;
  }

  hold(runner: string, slot: number, from: number, to: number): void {
    const intervals = this.busy.get(runner)?.[slot];
    if (!intervals) return;
    intervals.push([from, to]);
    intervals.sort((a, b) => a[0] - b[0]);
  }
}

function firstGap(intervals: readonly [number, number][], ready: number, length: number): number {
  let at = ready;
  for (const [from, to] of intervals) {
    if (to <= at) continue;
    if (from >= at + length) break;
    at = to;
  }
  return at;
}

/** The pool whose runner slots are most oversubscribed (job minutes per slot). */
export function starvedPool(options: PastOptions): string | null {
  let worst: { key: string; load: number } | null = null;
  for (const pool of options.pools) {
    if (pool.runners.length === 0) continue;
    const slots = pool.runners.reduce((n, r) => n + Math.max(1, r.slots ?? 1), 0);
    const minutes = options.projects.reduce(
      (n, p) => n + p.jobs.filter((j) => j.pool === pool.key).reduce((m, j) => m + j.minutes * (j.share ?? 1) * p.perDay, 0),
      0,
    );
    const load = minutes / slots;
    if (!worst || load > worst.load) worst = { key: pool.key, load };
  }
  return worst?.key ?? null;
}
