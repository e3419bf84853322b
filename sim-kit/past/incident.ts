/**
 * The infrastructure incident: one runner that, for 5–6 hours on a weekday
 * morning, loses nine in ten of the jobs it takes (now and then one hangs
 * until its time limit instead), and takes every job it is free for. It has
 * to stand out in the analytics' failure clusters (at least
 * CLUSTER_MIN_FAILURES infrastructure failures and twice the overall share,
 * src/history/analytics/failure-causes.ts) on every seed.
 */
import type { Random } from '../seeded-random.ts';
import type { PoolClock } from './pool-clock.ts';
import { DAY, HOUR, isWeekend } from './time.ts';
import type { PastOptions, PastOutcome, PastPool, PastRunner, PastTimeline } from './types.ts';

export type Incident = PastTimeline['incident'];

/**
 * The runner of `pool` that runs the fewest of its jobs: the fewest slots, and
 * on a tie the last listed (the first listed wins ties for a job). Against
 * its small share of the jobs, the failures the incident leaves stand out.
 */
function smallestRunner(pool: PastPool): string | undefined {
  let smallest: PastRunner | undefined;
  for (const r of pool.runners) if (!smallest || (r.slots ?? 1) <= (smallest.slots ?? 1)) smallest = r;
  return smallest?.name;
}

export function chooseIncident(options: PastOptions, from: number, to: number, random: Random): Incident {
  const explicit = options.incident;
  const pool = explicit ? options.pools.find((p) => p.key === explicit.pool) : options.pools.find((p) => p.runners.length >= 2);
  const runner = explicit?.runner ?? (pool ? smallestRunner(pool) : undefined);
  if (!pool || !runner) return { pool: '', runner: '', from: 0, to: 0 };
  // A weekday morning in the middle of the window, 5–6 hours long.
  let day = from + Math.floor((to - from) / DAY / 2) * DAY;
  day -= day % DAY;
  while (isWeekend(day) && day + DAY < to) day += DAY;
  const start = day + (9 + random.int(0, 2)) * HOUR;
  return { pool: pool.key, runner, from: start, to: start + random.int(5, 6) * HOUR };
}

/**
 * The order `runners` are offered a job ready at `at`: while the incident
 * lasts its runner comes first. A runner that loses its jobs at once is free
 * again at once and asks for work more often than the healthy ones, so it
 * takes every job it is free for (a "black hole" runner).
 */
export function offerOrder(incident: Incident, runners: readonly PastRunner[], at: number): readonly PastRunner[] {
  if (at < incident.from || at >= incident.to) return runners;
  const broken = runners.find((r) => r.name === incident.runner);
  return broken ? [broken, ...runners.filter((r) => r !== broken)] : runners;
}

export interface IncidentHit {
  readonly outcome: PastOutcome;
  readonly length: number;
}

/**
 * What the incident does to a job that starts on `runner` at `start` (null:
 * nothing, the job runs as planned). A hung job runs into its time limit,
 * unless that would overlap the slot's next job: then the runner drops it.
 */
export function incidentHit(
  random: Random, clock: PoolClock, incident: Incident, timeoutMs: number,
  at: { runner: string | null; slot: number; start: number; length: number },
): IncidentHit | null {
  const { runner, slot, start, length } = at;
  const inIncident = runner === incident.runner && start >= incident.from && start < incident.to;
  if (!inIncident || !random.chance(0.9)) return null;
  const hang = runner !== null && random.chance(0.1) && clock.fits(runner, slot, start, start + timeoutMs);
  return hang ? { outcome: 'timeout', length: timeoutMs } : { outcome: 'infra', length: Math.round(length * (0.2 + random.next() * 0.5)) };
}
