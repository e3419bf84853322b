/**
 * Which days of a window a figure reads from the daily rollups, and which time ranges from the
 * rows: a day is rolled up when it lies wholly inside the window and is not dirty; the rest of
 * the window (partial days at its ends, dirty days) is read from the rows. Pure.
 */
export interface RollupPlan {
  /** UTC days, 'YYYY-MM-DD'. */
  readonly rolledDays: readonly string[];
  /** Half-open [from, to) ranges covering the window minus the rolled days, in order. */
  readonly rawRanges: readonly (readonly [Date, Date])[];
}

const DAY_MS = 86_400_000;

/** The whole window from the rows (a figure whose keys the rollups do not keep). */
export const rowsOnly = (from: Date, to: Date): RollupPlan => ({ rolledDays: [], rawRanges: [[from, to]] });
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The whole UTC days inside [from, to) as [first, last] day strings, or null when there is none. */
export function wholeDays(from: Date, to: Date): readonly [string, string] | null {
  const first = Math.ceil(from.getTime() / DAY_MS) * DAY_MS;
  const end = Math.floor(to.getTime() / DAY_MS) * DAY_MS;
  return end - first >= DAY_MS ? [dayOf(first), dayOf(end - DAY_MS)] : null;
}

export function planRollup(from: Date, to: Date, dirtyDays: ReadonlySet<string>): RollupPlan {
  const rolledDays: string[] = [];
  const rawRanges: [Date, Date][] = [];
  const addRaw = (a: number, b: number) => {
    if (b <= a) return;
    const last = rawRanges.at(-1);
    if (last && last[1].getTime() === a) last[1] = new Date(b);
    else rawRanges.push([new Date(a), new Date(b)]);
  };
  const first = Math.ceil(from.getTime() / DAY_MS) * DAY_MS;
  const end = Math.floor(to.getTime() / DAY_MS) * DAY_MS;
  if (end - first < DAY_MS) return { rolledDays, rawRanges: from < to ? [[from, to]] : [] };
  addRaw(from.getTime(), first);
  for (let day = first; day < end; day += DAY_MS) {
    if (dirtyDays.has(dayOf(day))) addRaw(day, day + DAY_MS);
    else rolledDays.push(dayOf(day));
  }
  addRaw(end, to.getTime());
  return { rolledDays, rawRanges };
}
