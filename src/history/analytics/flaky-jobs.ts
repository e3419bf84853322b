import type { AnalyticsWindow } from './window.ts';
import { baseConditions, projectName, type AnalyticsFilterInput, type AnalyticsScope } from './scope.ts';
import { iso, num, RED_SQL, SqlParams, type SqlQuery } from './sql-params.ts';

export type FlakyOrder = 'FLAKE_RATE' | 'TIME_COST';

/**
 * Per (backend, project, job name, commit): red and SUCCESS attempts; a commit with both is
 * flaky for that job; per job name, the share of its commits that were flaky.
 */
export function flakyJobsQuery(
  window: AnalyticsWindow, scope: AnalyticsScope, filter: AnalyticsFilterInput | null | undefined, top: number, orderBy: FlakyOrder,
): SqlQuery {
  const p = new SqlParams();
  const where = [...baseConditions(p, 'jobs', window, scope, filter), 'commit_sha IS NOT NULL', `status IN ('SUCCESS', 'FAILURE', 'TIMED_OUT', 'ERROR')`].join(' AND ');
  const order = orderBy === 'TIME_COST'
    ? 'time_cost_ms DESC, flake_rate DESC'
    : 'flake_rate DESC, time_cost_ms DESC';
  const sql = `
WITH decisive AS (
  SELECT backend, project_native_id, name, commit_sha, status, duration_ms, finished_at FROM jobs WHERE ${where}
), per_commit AS (
  SELECT backend, project_native_id, name, commit_sha,
    count(*) FILTER (WHERE status IN ${RED_SQL}) AS failed,
    count(*) FILTER (WHERE status = 'SUCCESS') AS passed,
    COALESCE(sum(duration_ms) FILTER (WHERE status IN ${RED_SQL}), 0) AS failed_ms,
    max(finished_at) AS last_at
  FROM decisive GROUP BY backend, project_native_id, name, commit_sha
), per_job AS (
  SELECT backend, project_native_id, name, count(*)::int AS commits,
    count(*) FILTER (WHERE failed > 0 AND passed > 0)::int AS flaky_commits,
    COALESCE(sum(failed) FILTER (WHERE failed > 0 AND passed > 0), 0)::int AS failed_attempts,
    COALESCE(sum(failed_ms) FILTER (WHERE failed > 0 AND passed > 0), 0)::float8 AS time_cost_ms,
    max(last_at) FILTER (WHERE failed > 0 AND passed > 0) AS last_flake_at
  FROM per_commit GROUP BY backend, project_native_id, name
)
SELECT *, flaky_commits::float8 / commits AS flake_rate FROM per_job WHERE flaky_commits > 0
ORDER BY ${order}, backend, project_native_id, name LIMIT ${top}`;
  return { sql, params: p.values };
}

export interface FlakyRow {
  backend: string; project_native_id: string; name: string; commits: number; flaky_commits: number;
  failed_attempts: number; time_cost_ms: unknown; last_flake_at: unknown; flake_rate: unknown;
}

export function flakyJobs(rows: readonly FlakyRow[], scope: AnalyticsScope) {
  return rows.map((r) => ({
    backend: r.backend, project: projectName(scope, r.backend, r.project_native_id), jobName: r.name,
    commits: num(r.commits), flakyCommits: num(r.flaky_commits), flakeRate: num(r.flake_rate),
    failedAttempts: num(r.failed_attempts), timeCostMs: num(r.time_cost_ms), lastFlakeAt: iso(r.last_flake_at),
  }));
}
