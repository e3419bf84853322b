import type { HistoryStore } from '../history-store.ts';
import { failingJobs, failureCausesQueries, failureClusters, failureReasons, type ClusterRow, type ReasonRow, type TopJobRow } from './failure-causes.ts';
import { flakyJobs, flakyJobsQuery, flakyRollupServes, type FlakyOrder, type FlakyRow } from './flaky-jobs.ts';
import type { AnalyticsFilterInput, AnalyticsScope } from './scope.ts';
import type { SqlQuery } from './sql-params.ts';
import { rollupServes, statsGroups, statsQuery, type GroupBy, type StatsRow } from './stats.ts';
import { planRollup, rowsOnly, wholeDays, type RollupPlan } from '../rollups/rollup-plan.ts';
import { DIRTY_DAYS } from '../rollups/rollup-sql.ts';
import { onDefaultBranches, timeToGreenQuery, timeToGreenSeries, type TimeToGreenRow } from './time-to-green.ts';
import { checkTop, type AnalyticsWindow } from './window.ts';

/** Each figure: build its SQL, run it on the store, map the rows. Resolvers and tests call these. */
type Filter = AnalyticsFilterInput | null | undefined;

const run = <T extends object>(store: HistoryStore, q: SqlQuery): Promise<T[]> => store.queryLarge<T>(q.sql, q.params);

const windowOut = (w: AnalyticsWindow) => ({ from: w.from.toISOString(), to: w.to.toISOString() });

/** Whole clean days from the rollups when the figure's keys allow it, else every row. */
async function readPlan(store: HistoryStore, table: 'pipelines' | 'jobs', window: AnalyticsWindow, groupBy: readonly GroupBy[], filter: Filter): Promise<RollupPlan> {
  const days = rollupServes(groupBy, filter) ? wholeDays(window.from, window.to) : null;
  return days ? planFromDirty(store, table, window, days) : rowsOnly(window.from, window.to);
}

async function planFromDirty(store: HistoryStore, table: 'pipelines' | 'jobs', window: AnalyticsWindow, days: readonly [string, string]): Promise<RollupPlan> {
  const dirty = await store.query<{ day: string }>(DIRTY_DAYS, [table, days[0], days[1]]);
  return planRollup(window.from, window.to, new Set(dirty.map((d) => d.day)));
}

export async function stats(
  store: HistoryStore, table: 'pipelines' | 'jobs', scope: AnalyticsScope, window: AnalyticsWindow, groupBy: readonly GroupBy[], filter: Filter,
) {
  const rows = await run<StatsRow>(store, statsQuery(table, await readPlan(store, table, window, groupBy, filter), groupBy, scope, filter));
  return { window: windowOut(window), groupBy: [...groupBy], groups: statsGroups(rows, scope) };
}

/** `defaultBranch` (when no branch is asked for) answers a project's default branch when known. */
export async function timeToGreen(
  store: HistoryStore, scope: AnalyticsScope, window: AnalyticsWindow, filter: Filter, branch: string | null,
  defaultBranch?: (backend: string, projectNativeId: string) => string | null,
) {
  const rows = await run<TimeToGreenRow>(store, timeToGreenQuery(window, scope, filter, branch));
  const series = timeToGreenSeries(rows, scope);
  const onDefault = branch === null && !filter?.branches && defaultBranch;
  return { window: windowOut(window), series: onDefault ? onDefaultBranches(series, defaultBranch) : series };
}

export async function failureCauses(store: HistoryStore, scope: AnalyticsScope, window: AnalyticsWindow, filter: Filter, top: number) {
  const q = failureCausesQueries(window, scope, filter, checkTop(top, 'failureCauses'));
  const [jobs, reasons, runners, labels] = await Promise.all([
    run<TopJobRow>(store, q.topJobs), run<ReasonRow>(store, q.topReasons), run<ClusterRow>(store, q.runners), run<ClusterRow>(store, q.labels),
  ]);
  const byRunner = failureClusters(runners);
  return {
    window: windowOut(window),
    failedJobs: jobs.length === 0 ? 0 : Number(jobs[0]!.all_failed ?? 0),
    infrastructureShare: byRunner.overallShare,
    topJobs: failingJobs(jobs, scope),
    topReasons: failureReasons(reasons),
    runners: byRunner.clusters,
    labels: failureClusters(labels).clusters,
  };
}

export async function flaky(store: HistoryStore, scope: AnalyticsScope, window: AnalyticsWindow, filter: Filter, top: number, orderBy: FlakyOrder) {
  const checked = checkTop(top, 'flakyJobs');
  const days = flakyRollupServes(filter) ? wholeDays(window.from, window.to) : null;
  const plan = days ? await planFromDirty(store, 'jobs', window, days) : rowsOnly(window.from, window.to);
  const rows = await run<FlakyRow>(store, flakyJobsQuery(window, plan, scope, filter, checked, orderBy));
  return { window: windowOut(window), jobs: flakyJobs(rows, scope) };
}
