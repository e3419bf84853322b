import { badInput } from '../../errors.ts';
import type { RollupPlan } from '../rollups/rollup-plan.ts';
import { ANALYTICS_LIMITS } from './window.ts';
import { providerSql, rangesCondition, visibleConditions, visibleRunnerSql, type AnalyticsFilterInput, type AnalyticsScope } from './scope.ts';
import { CATEGORY_SQL, RED_SQL, REASON_SQL, SqlParams, type SqlQuery } from './sql-params.ts';

export type GroupBy = 'BACKEND' | 'PROVIDER' | 'PROJECT' | 'BRANCH' | 'PIPELINE_NAME' | 'JOB_NAME' | 'RUNNER_LABEL' | 'RUNNER' | 'DAY' | 'WEEK';
export type StatsTable = 'pipelines' | 'jobs';

const JOBS_ONLY: ReadonlySet<GroupBy> = new Set(['JOB_NAME', 'RUNNER_LABEL', 'RUNNER']);
/** What the daily rollups keep: day, backend, project. */
const ROLLED_UP: ReadonlySet<GroupBy> = new Set(['BACKEND', 'PROVIDER', 'PROJECT', 'DAY', 'WEEK']);

/** Whether a figure can read whole days from the rollups: its keys and filter need nothing they dropped. */
export function rollupServes(groupBy: readonly GroupBy[], filter: AnalyticsFilterInput | null | undefined): boolean {
  return groupBy.every((key) => ROLLED_UP.has(key)) && !filter?.branches && !filter?.pipelineNames && !filter?.jobNames;
}

/** The group-by keys as SQL, over the rows or over rollup rows (PROJECT brings its backend: a native id is unique per backend only). */
function keyColumns(p: SqlParams, table: StatsTable, groupBy: readonly GroupBy[], scope: AnalyticsScope, rollup: boolean): [string, string][] {
  const day = rollup ? `(day::timestamp AT TIME ZONE 'UTC')` : `(date_trunc('day', finished_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')`;
  const week = rollup ? `(date_trunc('week', day::timestamp) AT TIME ZONE 'UTC')` : `(date_trunc('week', finished_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')`;
  const columns = new Map<string, string>();
  for (const key of groupBy) {
    if (JOBS_ONLY.has(key) && table !== 'jobs') throw badInput(`groupBy ${key} is for jobStats only`);
    switch (key) {
      case 'BACKEND': columns.set('k_backend', 'backend'); break;
      case 'PROVIDER': columns.set('k_provider', providerSql(p, scope)); break;
      case 'PROJECT': columns.set('k_backend', 'backend'); columns.set('k_project', 'project_native_id'); break;
      case 'BRANCH': columns.set('k_branch', 'branch'); break;
      case 'PIPELINE_NAME': columns.set('k_pipeline_name', table === 'jobs' ? 'pipeline_name' : 'name'); break;
      case 'JOB_NAME': columns.set('k_job_name', 'name'); break;
      case 'RUNNER_LABEL': columns.set('k_label', 'l.label'); break;
      case 'RUNNER': columns.set('k_runner', visibleRunnerSql(p, scope)); break;
      case 'DAY': columns.set('k_bucket', day); break;
      case 'WEEK': columns.set('k_bucket', week); break;
    }
  }
  return [...columns];
}

const list = (names: readonly string[], ...more: string[]) => [...names, ...more].join(', ');
const groupClause = (names: readonly string[], ...more: string[]) => (names.length + more.length > 0 ? `GROUP BY ${list(names, ...more)}` : '');
const partition = (names: readonly string[], ...more: string[]) => (names.length + more.length > 0 ? `PARTITION BY ${list(names, ...more)}` : '');
/** A group's keys as one hashable text (nulls included), computed on aggregated rows only. */
const gkey = (names: readonly string[]) => (names.length > 0 ? `json_build_array(${list(names)})::text` : `''`);

/**
 * Counts, rates, the failure split, the top native reasons and duration/queue percentiles per
 * group, in one statement. Whole clean days come from the daily rollups, the rest of the window
 * from the rows; both give counts by status and reason and log-bucket histograms, which add up,
 * so the answer is the same whichever way a day is read. LIMIT maxGroups + 1 tells an answer
 * over the limit without building it.
 */
export function statsQuery(
  table: StatsTable, plan: RollupPlan, groupBy: readonly GroupBy[], scope: AnalyticsScope, filter: AnalyticsFilterInput | null | undefined,
): SqlQuery {
  const p = new SqlParams();
  const rawKeys = keyColumns(p, table, groupBy, scope, false);
  const names = rawKeys.map(([alias]) => alias);
  const rawWindow = rangesCondition(p, plan.rawRanges);
  const labels = groupBy.includes('RUNNER_LABEL') ? ' CROSS JOIN LATERAL unnest(labels) AS l(label)' : '';
  const rawWhere = [`(${rawWindow})`, ...visibleConditions(p, table, scope, filter)].join(' AND ');
  const rawSelect = [...rawKeys.map(([alias, expr]) => `${expr} AS ${alias}`), 'status', `CASE WHEN status IN ${RED_SQL} THEN ${REASON_SQL} ELSE '' END AS reason`, 'duration_ms', 'queue_ms'];

  let rolledCounts = '';
  let rolledHistograms = '';
  if (plan.rolledDays.length > 0) {
    const rolledKeys = keyColumns(p, table, groupBy, scope, true).map(([alias, expr]) => `${expr} AS ${alias}`);
    const rolledWhere = [`kind = ${p.add(table)}`, `day = ANY(${p.add(plan.rolledDays, '::date[]')})`, ...visibleConditions(p, table, scope, filter)].join(' AND ');
    rolledCounts = `UNION ALL SELECT ${list(rolledKeys, 'status', 'reason', 'n')} FROM rollup_counts WHERE ${rolledWhere}`;
    rolledHistograms = `UNION ALL SELECT ${list(rolledKeys, 'metric', 'buckets', 'counts')} FROM rollup_histograms WHERE ${rolledWhere}`;
  }
  const sql = `
WITH raw AS (
  SELECT ${rawSelect.join(', ')} FROM ${table}${labels} WHERE ${rawWhere}
), counts AS (
  SELECT ${list(names, 'status', 'reason', 'count(*)::int AS n')} FROM raw ${groupClause(names, 'status', 'reason')}
  ${rolledCounts}
), histograms AS (
  -- Per group and metric, sparse histograms (buckets ascending) to merge: one from the rows, one per rolled-up day.
  SELECT ${list(names, 'metric', 'array_agg(bucket ORDER BY bucket) AS buckets', 'array_agg(n ORDER BY bucket) AS counts')} FROM (
    SELECT ${list(names, `'d'::"char" AS metric`, 'duration_bucket(duration_ms) AS bucket', 'count(*)::int AS n')} FROM raw WHERE duration_ms IS NOT NULL ${groupClause(names, 'metric', 'bucket')}
    UNION ALL
    SELECT ${list(names, `'q'::"char" AS metric`, 'duration_bucket(queue_ms) AS bucket', 'count(*)::int AS n')} FROM raw WHERE queue_ms IS NOT NULL ${groupClause(names, 'metric', 'bucket')}
  ) AS from_rows ${groupClause(names, 'metric')}
  ${rolledHistograms}
), groups AS (
  SELECT ${list(names,
    'coalesce(sum(n), 0)::int AS n',
    `coalesce(sum(n) FILTER (WHERE status = 'SUCCESS'), 0)::int AS success`,
    `coalesce(sum(n) FILTER (WHERE status = 'UNSTABLE'), 0)::int AS unstable`,
    `coalesce(sum(n) FILTER (WHERE status = 'CANCELED'), 0)::int AS canceled`,
    `coalesce(sum(n) FILTER (WHERE status = 'SKIPPED'), 0)::int AS skipped`,
    `coalesce(sum(n) FILTER (WHERE status = 'FAILURE'), 0)::int AS code`,
    `coalesce(sum(n) FILTER (WHERE status = 'TIMED_OUT'), 0)::int AS timed_out`,
    `coalesce(sum(n) FILTER (WHERE status = 'ERROR'), 0)::int AS infrastructure`,
  )}
  FROM counts ${groupClause(names)}${names.length > 0 ? ` ORDER BY ${list(names)}` : ''}
  LIMIT ${ANALYTICS_LIMITS.maxGroups + 1}
), reasons AS (
  SELECT ${gkey(names)} AS gkey, json_agg(json_build_object('category', category, 'reason', reason, 'count', n) ORDER BY n DESC, reason, category) AS top_reasons
  FROM (
    SELECT *, row_number() OVER (${partition(names)} ORDER BY n DESC, reason, category) AS rank
    FROM (SELECT ${list(names, `${CATEGORY_SQL} AS category`, 'reason', 'sum(n)::int AS n')} FROM counts WHERE reason <> '' ${groupClause(names, 'category', 'reason')}) AS by_reason
  ) AS ranked
  WHERE rank <= 3 ${groupClause(names)}
), percentiles AS (
  -- The pieces go to JS as they are (stats.ts merges them and reads the percentiles off):
  -- cheaper than unnesting and sorting every bucket of every day in SQL.
  SELECT ${gkey(names)} AS gkey, json_agg(json_build_array(metric, buckets, counts)) AS histograms
  FROM histograms ${groupClause(names)}
)
SELECT g.*, r.top_reasons, pc.histograms
FROM (SELECT *, ${gkey(names)} AS gkey FROM groups) AS g
LEFT JOIN reasons r ON r.gkey = g.gkey
LEFT JOIN percentiles pc ON pc.gkey = g.gkey
${names.length > 0 ? `ORDER BY ${names.map((n) => `g.${n}`).join(', ')}` : ''}`;
  return { sql, params: p.values };
}
