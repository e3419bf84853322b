import { badInput } from '../../errors.ts';
import { analyticsLimit, ANALYTICS_LIMITS, type AnalyticsWindow } from './window.ts';
import { baseConditions, projectName, providerSql, visibleRunnerSql, type AnalyticsFilterInput, type AnalyticsScope } from './scope.ts';
import { CATEGORY_SQL, iso, num, numOrNull, rate, REASON_SQL, RED_SQL, SqlParams, type SqlQuery } from './sql-params.ts';

export type GroupBy = 'BACKEND' | 'PROVIDER' | 'PROJECT' | 'BRANCH' | 'PIPELINE_NAME' | 'JOB_NAME' | 'RUNNER_LABEL' | 'RUNNER' | 'DAY' | 'WEEK';
type Table = 'pipelines' | 'jobs';

const JOBS_ONLY: ReadonlySet<GroupBy> = new Set(['JOB_NAME', 'RUNNER_LABEL', 'RUNNER']);

/** The group-by keys as SQL columns (PROJECT brings its backend: a native id is unique per backend only). */
function keyColumns(p: SqlParams, table: Table, groupBy: readonly GroupBy[], scope: AnalyticsScope): [string, string][] {
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
      case 'RUNNER_LABEL': columns.set('k_label', 'label'); break;
      case 'RUNNER': columns.set('k_runner', visibleRunnerSql(p, scope)); break;
      case 'DAY': columns.set('k_bucket', `date_trunc('day', finished_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`); break;
      case 'WEEK': columns.set('k_bucket', `date_trunc('week', finished_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`); break;
    }
  }
  return [...columns];
}

/**
 * Counts, rates, the failure split, the top native reasons and duration/queue percentiles per
 * group, in one statement. LIMIT maxGroups + 1 tells an answer over the limit without building it.
 */
export function statsQuery(
  table: Table, window: AnalyticsWindow, groupBy: readonly GroupBy[], scope: AnalyticsScope, filter: AnalyticsFilterInput | null | undefined,
): SqlQuery {
  const p = new SqlParams();
  const keys = keyColumns(p, table, groupBy, scope);
  const where = baseConditions(p, table, window, scope, filter);
  const labels = groupBy.includes('RUNNER_LABEL') ? ' CROSS JOIN LATERAL unnest(labels) AS l(label)' : '';
  const select = keys.map(([alias, expr]) => `${expr} AS ${alias}`);
  const names = keys.map(([alias]) => alias);
  const groupClause = names.length > 0 ? `GROUP BY ${names.join(', ')} ORDER BY ${names.join(', ')}` : '';
  const sql = `
WITH base AS (
  SELECT ${[...select, 'status', 'duration_ms', 'queue_ms', `${REASON_SQL} AS reason`, `${CATEGORY_SQL} AS category`].join(', ')}
  FROM ${table}${labels}
  WHERE ${where.join(' AND ')}
), groups AS (
  SELECT ${[...names,
    'count(*)::int AS n',
    `count(*) FILTER (WHERE status = 'SUCCESS')::int AS success`,
    `count(*) FILTER (WHERE status = 'UNSTABLE')::int AS unstable`,
    `count(*) FILTER (WHERE status = 'CANCELED')::int AS canceled`,
    `count(*) FILTER (WHERE status = 'SKIPPED')::int AS skipped`,
    `count(*) FILTER (WHERE status = 'FAILURE')::int AS code`,
    `count(*) FILTER (WHERE status = 'TIMED_OUT')::int AS timed_out`,
    `count(*) FILTER (WHERE status = 'ERROR')::int AS infrastructure`,
    `array_agg(category) FILTER (WHERE status IN ${RED_SQL}) AS red_categories`,
    `array_agg(reason) FILTER (WHERE status IN ${RED_SQL}) AS red_reasons`,
    'percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS d50',
    'percentile_cont(0.9) WITHIN GROUP (ORDER BY duration_ms) AS d90',
    'percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS d95',
    'percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) AS d99',
    'percentile_cont(0.5) WITHIN GROUP (ORDER BY queue_ms) AS q50',
    'percentile_cont(0.95) WITHIN GROUP (ORDER BY queue_ms) AS q95',
  ].join(', ')}
  FROM base ${groupClause}
  LIMIT ${ANALYTICS_LIMITS.maxGroups + 1}
)
SELECT g.*, (
  SELECT json_agg(json_build_object('category', t.category, 'reason', t.reason, 'count', t.n) ORDER BY t.n DESC, t.reason, t.category)
  FROM (
    SELECT category, reason, count(*)::int AS n FROM unnest(g.red_categories, g.red_reasons) AS r(category, reason)
    GROUP BY category, reason ORDER BY n DESC, reason, category LIMIT 3
  ) t
) AS top_reasons
FROM groups g${names.length > 0 ? ` ORDER BY ${names.map((n) => `g.${n}`).join(', ')}` : ''}`;
  return { sql, params: p.values };
}

export interface StatsRow {
  k_backend?: string | null; k_provider?: string | null; k_project?: string | null; k_branch?: string | null;
  k_pipeline_name?: string | null; k_job_name?: string | null; k_label?: string | null; k_runner?: string | null; k_bucket?: unknown;
  n: number; success: number; unstable: number; canceled: number; skipped: number; code: number; timed_out: number; infrastructure: number;
  d50: number | null; d90: number | null; d95: number | null; d99: number | null; q50: number | null; q95: number | null;
  top_reasons: { category: string; reason: string; count: number }[] | string | null;
}

export interface StatsGroup {
  key: {
    backend: string | null; provider: string | null; project: string | null; branch: string | null; pipelineName: string | null;
    jobName: string | null; runnerLabel: string | null; runner: string | null; bucket: string | null;
  };
  count: number; successCount: number; unstableCount: number; canceledCount: number; skippedCount: number; failedCount: number;
  successRate: number; failureRate: number; canceledRate: number; skippedRate: number;
  failures: { code: number; timedOut: number; infrastructure: number };
  topFailureReasons: { category: 'CODE' | 'TIMED_OUT' | 'INFRASTRUCTURE'; reason: string; count: number }[];
  duration: { p50: number | null; p90: number | null; p95: number | null; p99: number | null };
  queueTime: { p50: number | null; p95: number | null };
}

/** Rows to groups; refuses an answer with more groups than the limit. */
export function statsGroups(rows: readonly StatsRow[], scope: AnalyticsScope): StatsGroup[] {
  if (rows.length > ANALYTICS_LIMITS.maxGroups) {
    throw analyticsLimit(`groupBy: more than ${ANALYTICS_LIMITS.maxGroups} groups; narrow the window or the filter, or group by fewer keys`);
  }
  return rows.map((r) => {
    const count = num(r.n);
    const code = num(r.code); const timedOut = num(r.timed_out); const infrastructure = num(r.infrastructure);
    const failed = code + timedOut + infrastructure;
    const reasons = typeof r.top_reasons === 'string' ? JSON.parse(r.top_reasons) as StatsRow['top_reasons'] : r.top_reasons;
    return {
      key: {
        backend: r.k_backend ?? null,
        provider: r.k_provider ?? null,
        project: r.k_project != null && r.k_backend != null ? projectName(scope, r.k_backend, r.k_project) : null,
        branch: r.k_branch ?? null,
        pipelineName: r.k_pipeline_name ?? null,
        jobName: r.k_job_name ?? null,
        runnerLabel: r.k_label ?? null,
        runner: r.k_runner ?? null,
        bucket: r.k_bucket != null ? iso(r.k_bucket) : null,
      },
      count,
      successCount: num(r.success), unstableCount: num(r.unstable), canceledCount: num(r.canceled), skippedCount: num(r.skipped),
      failedCount: failed,
      successRate: rate(num(r.success), count), failureRate: rate(failed, count),
      canceledRate: rate(num(r.canceled), count), skippedRate: rate(num(r.skipped), count),
      failures: { code, timedOut, infrastructure },
      topFailureReasons: (Array.isArray(reasons) ? reasons : []).map((t) => ({
        category: t.category as 'CODE' | 'TIMED_OUT' | 'INFRASTRUCTURE', reason: t.reason, count: num(t.count),
      })),
      duration: { p50: numOrNull(r.d50), p90: numOrNull(r.d90), p95: numOrNull(r.d95), p99: numOrNull(r.d99) },
      queueTime: { p50: numOrNull(r.q50), p95: numOrNull(r.q95) },
    };
  });
}
