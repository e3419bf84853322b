import type { AnalyticsWindow } from './window.ts';
import { baseConditions, projectName, visibleRunnerSql, type AnalyticsFilterInput, type AnalyticsScope } from './scope.ts';
import { CATEGORY_SQL, num, rate, REASON_SQL, RED_SQL, SqlParams, type SqlQuery } from './sql-params.ts';

/** A cluster stands out with at least this many infrastructure failures... */
export const CLUSTER_MIN_FAILURES = 3;
/** ...and an infrastructure share at least this many times the overall one. */
export const CLUSTER_SHARE_FACTOR = 2;

export interface FailureCausesQueries {
  readonly topJobs: SqlQuery;
  readonly topReasons: SqlQuery;
  readonly runners: SqlQuery;
  readonly labels: SqlQuery;
}

type Filter = AnalyticsFilterInput | null | undefined;

function jobsWhere(p: SqlParams, window: AnalyticsWindow, scope: AnalyticsScope, filter: Filter): string {
  return baseConditions(p, 'jobs', window, scope, filter).join(' AND ');
}

/**
 * Clusters by runner (only where runners are visible) or by requested label: every group's
 * jobs and infrastructure failures, plus the overall figures over all groups (window
 * aggregates before LIMIT) so a concentrated cluster can be told from the background rate.
 */
function clusterQuery(window: AnalyticsWindow, scope: AnalyticsScope, filter: Filter, top: number, by: 'runner' | 'label'): SqlQuery {
  const p = new SqlParams();
  const where = jobsWhere(p, window, scope, filter);
  const nameSql = by === 'runner' ? visibleRunnerSql(p, scope) : 'l.label';
  const from = by === 'runner' ? 'jobs' : 'jobs CROSS JOIN LATERAL unnest(labels) AS l(label)';
  const sql = `
WITH grouped AS (
  SELECT backend, ${nameSql} AS name, count(*)::int AS jobs,
    count(*) FILTER (WHERE status IN ${RED_SQL})::int AS failed,
    count(*) FILTER (WHERE status = 'ERROR')::int AS infrastructure
  FROM ${from} WHERE ${where}
  GROUP BY 1, 2
)
SELECT *, sum(jobs) OVER () AS all_jobs, sum(infrastructure) OVER () AS all_infrastructure
FROM grouped WHERE name IS NOT NULL
ORDER BY infrastructure DESC, failed DESC, backend, name LIMIT ${top}`;
  return { sql, params: p.values };
}

export function failureCausesQueries(window: AnalyticsWindow, scope: AnalyticsScope, filter: Filter, top: number): FailureCausesQueries {
  const jobs = new SqlParams();
  const jobsSql = `
SELECT backend, project_native_id, pipeline_name, name, count(*)::int AS n,
  count(*) FILTER (WHERE status = 'FAILURE')::int AS code,
  count(*) FILTER (WHERE status = 'TIMED_OUT')::int AS timed_out,
  count(*) FILTER (WHERE status = 'ERROR')::int AS infrastructure,
  sum(count(*) FILTER (WHERE status IN ${RED_SQL})) OVER () AS all_failed
FROM jobs WHERE ${jobsWhere(jobs, window, scope, filter)}
GROUP BY backend, project_native_id, pipeline_name, name
ORDER BY count(*) FILTER (WHERE status IN ${RED_SQL}) DESC, backend, project_native_id, pipeline_name, name
LIMIT ${top}`;
  const reasons = new SqlParams();
  const reasonsSql = `
SELECT ${CATEGORY_SQL} AS category, ${REASON_SQL} AS reason, count(*)::int AS n
FROM jobs WHERE ${jobsWhere(reasons, window, scope, filter)} AND status IN ${RED_SQL}
GROUP BY 1, 2 ORDER BY n DESC, reason, category LIMIT ${top}`;
  return {
    topJobs: { sql: jobsSql, params: jobs.values },
    topReasons: { sql: reasonsSql, params: reasons.values },
    runners: clusterQuery(window, scope, filter, top, 'runner'),
    labels: clusterQuery(window, scope, filter, top, 'label'),
  };
}

export interface TopJobRow {
  backend: string; project_native_id: string; pipeline_name: string | null; name: string;
  n: number; code: number; timed_out: number; infrastructure: number; all_failed: unknown;
}
export interface ReasonRow { category: string; reason: string; n: number }
export interface ClusterRow { backend: string; name: string; jobs: number; failed: number; infrastructure: number; all_jobs: unknown; all_infrastructure: unknown }

export interface FailureCluster {
  backend: string; name: string; jobs: number; failedCount: number; infrastructureCount: number; infrastructureShare: number; concentrated: boolean;
}

export function failingJobs(rows: readonly TopJobRow[], scope: AnalyticsScope) {
  return rows.filter((r) => num(r.code) + num(r.timed_out) + num(r.infrastructure) > 0).map((r) => {
    const failed = num(r.code) + num(r.timed_out) + num(r.infrastructure);
    return {
      backend: r.backend, project: projectName(scope, r.backend, r.project_native_id), pipelineName: r.pipeline_name, jobName: r.name,
      count: num(r.n), failedCount: failed, failureRate: rate(failed, num(r.n)),
      failures: { code: num(r.code), timedOut: num(r.timed_out), infrastructure: num(r.infrastructure) },
    };
  });
}

export function failureReasons(rows: readonly ReasonRow[]) {
  return rows.map((r) => ({ category: r.category as 'CODE' | 'TIMED_OUT' | 'INFRASTRUCTURE', reason: r.reason, count: num(r.n) }));
}

/** The overall infrastructure share and the clusters, `concentrated` where they stand out from it. */
export function failureClusters(rows: readonly ClusterRow[]): { overallShare: number; clusters: FailureCluster[] } {
  const overallShare = rows.length === 0 ? 0 : rate(num(rows[0]!.all_infrastructure), num(rows[0]!.all_jobs));
  const clusters = rows.map((r) => {
    const share = rate(num(r.infrastructure), num(r.jobs));
    return {
      backend: r.backend, name: r.name, jobs: num(r.jobs), failedCount: num(r.failed), infrastructureCount: num(r.infrastructure),
      infrastructureShare: share,
      concentrated: num(r.infrastructure) >= CLUSTER_MIN_FAILURES && share >= CLUSTER_SHARE_FACTOR * overallShare,
    };
  });
  return { overallShare, clusters };
}
