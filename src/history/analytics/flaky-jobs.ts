import type { RollupPlan } from '../rollups/rollup-plan.ts';
import { DECISIVE_SQL } from '../rollups/rollup-sql.ts';
import type { AnalyticsWindow } from './window.ts';
import { projectName, rangesCondition, visibleConditions, type AnalyticsFilterInput, type AnalyticsScope } from './scope.ts';
import { iso, num, RED_SQL, SqlParams, type SqlQuery } from './sql-params.ts';

export type FlakyOrder = 'FLAKE_RATE' | 'TIME_COST';

/** Whether the commits per job can come from the daily rollups (they keep no branch or workflow name). */
export function flakyRollupServes(filter: AnalyticsFilterInput | null | undefined): boolean {
  return !filter?.branches && !filter?.pipelineNames;
}

/**
 * Flaky: per (backend, project, job name, commit), a red attempt and a SUCCESS in the window.
 * It starts from the red attempts (few; index jobs_red_finished), and looks for a SUCCESS of the
 * same job and commit (index jobs_flaky). Flake rate: flaky commits over the commits the job
 * ran on decisively, counted per UTC day (a commit run again on a later day counts again), which
 * whole clean days take from the daily rollups and the rest of the window from the rows.
 */
export function flakyJobsQuery(
  window: AnalyticsWindow, plan: RollupPlan, scope: AnalyticsScope, filter: AnalyticsFilterInput | null | undefined, top: number, orderBy: FlakyOrder,
): SqlQuery {
  const p = new SqlParams();
  const from = p.add(window.from.toISOString(), '::timestamptz');
  const to = p.add(window.to.toISOString(), '::timestamptz');
  const where = (alias: string) => visibleConditions(p, 'jobs', scope, filter, alias);
  const order = orderBy === 'TIME_COST' ? 'time_cost_ms DESC, flake_rate DESC' : 'flake_rate DESC, time_cost_ms DESC';
  const rawWindow = rangesCondition(p, plan.rawRanges, 'j.finished_at');
  const rolled = plan.rolledDays.length === 0 ? ''
    : `UNION ALL SELECT c.backend, c.project_native_id, c.name, c.commits FROM rollup_job_commits c JOIN per_job k USING (backend, project_native_id, name)
       WHERE c.day = ANY(${p.add(plan.rolledDays, '::date[]')})`;
  const sql = `
WITH red AS (
  SELECT r.backend, r.project_native_id, r.name, r.commit_sha, count(*) AS failed, COALESCE(sum(r.duration_ms), 0) AS failed_ms, max(r.finished_at) AS last_red
  FROM jobs r
  WHERE r.finished_at >= ${from} AND r.finished_at < ${to} AND r.status IN ${RED_SQL} AND r.commit_sha IS NOT NULL ${where('r').map((c) => `AND ${c}`).join(' ')}
  GROUP BY 1, 2, 3, 4
), flaky AS (
  SELECT red.*, passed.last_success FROM red
  CROSS JOIN LATERAL (
    SELECT max(s.finished_at) AS last_success FROM jobs s
    WHERE s.backend = red.backend AND s.project_native_id = red.project_native_id AND s.name = red.name AND s.commit_sha = red.commit_sha
      AND s.status = 'SUCCESS' AND s.finished_at >= ${from} AND s.finished_at < ${to} ${where('s').map((c) => `AND ${c}`).join(' ')}
  ) passed
  WHERE passed.last_success IS NOT NULL
), per_job AS (
  SELECT backend, project_native_id, name, count(*)::int AS flaky_commits, sum(failed)::int AS failed_attempts,
    sum(failed_ms)::float8 AS time_cost_ms, max(greatest(last_red, last_success)) AS last_flake_at
  FROM flaky GROUP BY 1, 2, 3
), commit_days AS (
  SELECT j.backend, j.project_native_id, j.name, count(DISTINCT (j.commit_sha, (j.finished_at AT TIME ZONE 'UTC')::date))::int AS commits
  FROM jobs j JOIN per_job k USING (backend, project_native_id, name)
  WHERE (${rawWindow}) AND j.commit_sha IS NOT NULL AND j.status IN ${DECISIVE_SQL} ${where('j').map((c) => `AND ${c}`).join(' ')}
  GROUP BY 1, 2, 3
  ${rolled}
), commits AS (
  SELECT backend, project_native_id, name, sum(commits)::int AS commits FROM commit_days GROUP BY 1, 2, 3
)
SELECT k.*, c.commits, k.flaky_commits::float8 / c.commits AS flake_rate
FROM per_job k JOIN commits c USING (backend, project_native_id, name)
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
