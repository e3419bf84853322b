/** What shapes the past over time: business-hours cadence, a project getting slower, red periods on the default branch. */
import type { Random } from '../seeded-random.ts';
import { DAY, HOUR, isWeekend, MINUTE } from './time.ts';
import type { PastJobTemplate, PastProject, PastTimeline } from './types.ts';

/** The business-hours arrival times of one project's pipelines over the window. */
export function arrivals(random: Random, project: PastProject, from: number, to: number): number[] {
  const out: number[] = [];
  for (let day = from - (from % DAY); day < to; day += DAY) {
    const n = isWeekend(day) ? (random.chance(project.perDay / 10) ? 1 : 0) : Math.max(1, Math.round(project.perDay * (0.8 + random.next() * 0.4)));
    for (let i = 0; i < n; i++) {
      // Business hours 08:00–18:00 UTC, busiest late morning and mid afternoon.
      const hour = 8 + (random.next() + random.next() + random.next()) / 3 * 10;
      const t = day + Math.floor(hour * HOUR);
      if (t >= from && t < to) out.push(t);
    }
  }
  return out.sort((a, b) => a - b);
}

/** A duration around `minutes` with noise, scaled by the project's trend at time `at` (`from`: the window's start). */
export function duration(random: Random, from: number, project: PastProject, t: PastJobTemplate, at: number): number {
  const days = (at - from) / DAY;
  const trend = 1 + (project.slowdownPerDay ?? 0) * days;
  const noise = 0.8 + random.next() * 0.45;
  return Math.max(20_000, Math.round(t.minutes * MINUTE * trend * noise));
}

/** About one red period per four days on `project`'s default branch: a weekday, from a breaking commit to its fix. */
export function redPeriods(random: Random, project: PastProject, days: number, from: number, to: number): PastTimeline['redPeriods'] {
  const out: PastTimeline['redPeriods'][number][] = [];
  const breakable = project.jobs.filter((j) => j.stage > 0 && !j.defaultBranchOnly);
  const periods = Math.max(1, Math.round(days / 4));
  for (let i = 0; i < periods && breakable.length > 0; i++) {
    let start = from + ((i + 0.3 + random.next() * 0.5) / periods) * (to - from);
    start -= start % DAY;
    while (isWeekend(start)) start -= DAY;
    start += (9 + random.int(0, 6)) * HOUR;
    if (start > from) out.push({ project: project.name, job: random.pick(breakable).name, from: start, to: start + random.int(2, 6) * HOUR });
  }
  return out;
}
