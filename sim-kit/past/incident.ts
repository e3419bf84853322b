/** The infrastructure incident: one runner that, for a few hours on a weekday morning, loses the jobs it takes. */
import type { Random } from '../seeded-random.ts';
import type { PoolClock } from './pool-clock.ts';
import { DAY, HOUR, isWeekend } from './time.ts';
import type { PastOptions, PastOutcome, PastTimeline } from './types.ts';

export type Incident = PastTimeline['incident'];

export function chooseIncident(options: PastOptions, from: number, to: number, random: Random): Incident {
  const explicit = options.incident;
  const pool = explicit ? options.pools.find((p) => p.key === explicit.pool) : options.pools.find((p) => p.runners.length >= 2);
  const runner = explicit?.runner ?? pool?.runners[0]?.name;
  if (!pool || !runner) return { pool: '', runner: '', from: 0, to: 0 };
  // A weekday morning in the middle of the window, a few hours long.
  let day = from + Math.floor((to - from) / DAY / 2) * DAY;
  day -= day % DAY;
  while (isWeekend(day) && day + DAY < to) day += DAY;
  const start = day + (9 + random.int(0, 2)) * HOUR;
  return { pool: pool.key, runner, from: start, to: start + random.int(3, 4) * HOUR };
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
  if (!inIncident || !random.chance(0.8)) return null;
  const hang = runner !== null && random.chance(0.35) && clock.fits(runner, slot, start, start + timeoutMs);
  return hang ? { outcome: 'timeout', length: timeoutMs } : { outcome: 'infra', length: Math.round(length * (0.2 + random.next() * 0.5)) };
}
