import type { CiStatus } from '../../model.ts';
import { analyticsLimit, ANALYTICS_LIMITS, type AnalyticsWindow } from './window.ts';

/** Periods plus quiet series in one answer. */
const MAX_ROWS = ANALYTICS_LIMITS.maxGroups * 10;
import { baseConditions, projectName, type AnalyticsFilterInput, type AnalyticsScope } from './scope.ts';
import { iso, isoOrNull, num, numOrNull, RED_SQL, SqlParams, type SqlQuery } from './sql-params.ts';

/**
 * Red periods per project and branch, in SQL. The series are the (backend, project, branch) with a
 * decisive pipeline (red or SUCCESS) finished in the window (a missing branch is '' so every join is
 * an equality the planner can hash or merge). Each red in the window is paired with the green that
 * ended its period: the series' first SUCCESS after it, in (finishedAt, nativeId) order and before
 * the window's end (none: ongoing). The reds sharing that green form one period; the first of them
 * broke it. Only the reds and their greens are read, from covering indexes (migration 9); the full
 * rows of the breaking and fixing pipelines are fetched by primary key for the periods answered.
 * A series whose last decisive pipeline before the window is red was already red when the window
 * opened: its first period starts at the pipeline that broke it (the first red after the last
 * green before the window), with its real finishedAt, and counts the reds before the window too
 * (`carried`: per series, a probe for its last green before the window and the index range of the reds since).
 */
export function timeToGreenQuery(
  window: AnalyticsWindow, scope: AnalyticsScope, filter: AnalyticsFilterInput | null | undefined, branch: string | null,
): SqlQuery {
  const p = new SqlParams();
  const where = baseConditions(p, 'pipelines', window, scope, filter);
  if (branch !== null) where.push(`branch = ${p.add(branch)}`);
  where.push(`status IN ('SUCCESS', 'FAILURE', 'TIMED_OUT', 'ERROR')`);
  const to = p.add(window.to.toISOString(), '::timestamptz');
  const from = p.add(window.from.toISOString(), '::timestamptz');
  // The same series before the window (a pipeline-name filter still applies; scope and branch are the series').
  const names = filter?.pipelineNames ? p.add(filter.pipelineNames, '::text[]') : null;
  const common = (alias: string) => [
    `${alias}.backend = se.backend`, `${alias}.project_native_id = se.project_native_id`, `${alias}.finished_at < ${from}`,
    ...(names ? [`${alias}.name = ANY(${names})`] : []),
  ].join(' AND ');
  // The last green before the window: one ordered LIMIT 1 per branch form (an OR of the two made
  // PostgreSQL sort the whole branch), each an index-only probe of pipelines_green_next.
  const lastGreen = (alias: string, branchForm: string) => `(SELECT ${alias}.finished_at, ${alias}.native_id FROM pipelines ${alias}
      WHERE ${common(alias)} AND ${branchForm} AND ${alias}.status = 'SUCCESS' ORDER BY ${alias}.finished_at DESC, ${alias}.native_id DESC LIMIT 1)`;
  // The reds after it and before the window, per branch form: one index range of pipelines_branch_finished
  // each. Status is tested through COALESCE (it is NOT NULL) so that pipelines_decisive_finished's
  // predicate does not hold: PGlite took that index, whose range crosses every project back to the green.
  const redsSince = (alias: string, branchForm: string) => `SELECT ${alias}.finished_at, ${alias}.native_id FROM pipelines ${alias}
      WHERE ${common(alias)} AND ${branchForm} AND COALESCE(${alias}.status, '') IN ${RED_SQL}
      AND ${alias}.finished_at >= COALESCE(g.finished_at, '-infinity') AND (g.finished_at IS NULL OR (${alias}.finished_at, ${alias}.native_id) > (g.finished_at, g.native_id))`;
  // A pipeline's JSON, built only for the breaking and fixing pipelines of the periods answered.
  const ref = (alias: string) => `json_build_object('nativeId', ${alias}.native_id, 'number', ${alias}.number, 'name', ${alias}.name,
      'status', ${alias}.status, 'commitSha', ${alias}.commit_sha, 'url', ${alias}.url, 'finishedAt', ${alias}.finished_at)`;
  // The green that ends red r's period: the series' first after r and before the window's end, per
  // branch form (r.branch '' is either); an index-only probe of pipelines_green_next, past no red.
  const green = (branchForm: string) => `(SELECT fx.native_id, fx.finished_at FROM pipelines fx
      WHERE fx.backend = r.backend AND fx.project_native_id = r.project_native_id AND ${branchForm} AND fx.status = 'SUCCESS'
      AND fx.finished_at >= r.finished_at AND (fx.finished_at, fx.native_id) > (r.finished_at, r.native_id) AND fx.finished_at < ${to}
      ${names ? `AND fx.name = ANY(${names})` : ''} ORDER BY fx.finished_at, fx.native_id LIMIT 1)`;
  const sql = `
WITH series AS (
  SELECT DISTINCT backend, project_native_id, COALESCE(branch, '') AS branch FROM pipelines WHERE ${where.join(' AND ')}
), carried AS (
  -- Red when the window opened: a red after the last green (or no green at all). The first of those
  -- reds broke it; the others count as earlier reds.
  SELECT se.backend, se.project_native_id, se.branch, e.finished_at, e.native_id, e.n - 1 AS earlier_reds
  FROM series se
  LEFT JOIN LATERAL (SELECT * FROM (${lastGreen('g1', 'g1.branch = se.branch')} UNION ALL ${lastGreen('g2', `se.branch = '' AND g2.branch IS NULL`)}) AS both_forms
    ORDER BY finished_at DESC, native_id DESC LIMIT 1) g ON true
  CROSS JOIN LATERAL (
    SELECT count(*)::int AS n, min(x.finished_at) AS finished_at, (array_agg(x.native_id ORDER BY x.finished_at, x.native_id))[1] AS native_id
    FROM (${redsSince('r1', 'r1.branch = se.branch')} UNION ALL ${redsSince('r2', `se.branch = '' AND r2.branch IS NULL`)}) AS x
  ) e
  WHERE e.n > 0
), reds AS (
  SELECT backend, project_native_id, COALESCE(branch, '') AS branch, finished_at, native_id, 0 AS earlier_reds
  FROM pipelines WHERE ${where.join(' AND ')} AND status IN ${RED_SQL}
  UNION ALL SELECT * FROM carried
), fixed AS (
  -- Each red with the green that ended its period (none: still red); the reds sharing it form one period.
  SELECT r.*, fix.native_id AS fixing_id, fix.finished_at AS ended_at
  FROM reds r LEFT JOIN LATERAL (SELECT * FROM (${green('fx.branch = r.branch')} UNION ALL ${green(`r.branch = '' AND fx.branch IS NULL`)}) AS both_forms
    ORDER BY finished_at, native_id LIMIT 1) fix ON true
), joined AS (
  SELECT backend, project_native_id, branch, (count(*) + sum(earlier_reds))::int AS red_count, min(finished_at) AS started_at, ended_at, fixing_id,
    (array_agg(native_id ORDER BY finished_at, native_id))[1] AS breaking_id,
    extract(epoch FROM (COALESCE(ended_at, ${to}) - min(finished_at))) * 1000 AS duration_ms
  FROM fixed GROUP BY backend, project_native_id, branch, fixing_id, ended_at
), summary AS (
  SELECT backend, project_native_id, branch, avg(duration_ms) AS mean_ms,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50_ms
  FROM joined WHERE ended_at IS NOT NULL GROUP BY backend, project_native_id, branch
), answered AS (
  SELECT se.backend, se.project_native_id, NULLIF(se.branch, '') AS branch, j.red_count, j.started_at, j.ended_at, j.breaking_id, j.fixing_id,
    j.duration_ms, su.mean_ms, su.p50_ms, j.started_at < ${from} AS before_window, se.branch AS series_branch
  FROM series se
  LEFT JOIN joined j ON j.backend = se.backend AND j.project_native_id = se.project_native_id AND j.branch = se.branch
  LEFT JOIN summary su ON su.backend = se.backend AND su.project_native_id = se.project_native_id AND su.branch = se.branch
  ORDER BY se.backend, se.project_native_id, se.branch, j.started_at, j.breaking_id
  LIMIT ${MAX_ROWS + 1}
)
-- Full rows by primary key, for the answered periods alone.
SELECT a.backend, a.project_native_id, a.branch, a.red_count, a.started_at, a.ended_at,
  (SELECT ${ref('bp')} FROM pipelines bp WHERE bp.backend = a.backend AND bp.native_id = a.breaking_id) AS breaking,
  (SELECT ${ref('fp')} FROM pipelines fp WHERE fp.backend = a.backend AND fp.native_id = a.fixing_id) AS fixing,
  a.duration_ms, a.mean_ms, a.p50_ms, a.before_window
FROM answered a
ORDER BY a.backend, a.project_native_id, a.series_branch, a.started_at, a.breaking_id`;
  return { sql, params: p.values };
}

interface PipelineRefRow {
  nativeId: string; number: number | null; name: string | null; status: CiStatus; commitSha: string | null; url: string | null; finishedAt: string | null;
}

export interface TimeToGreenRow {
  backend: string; project_native_id: string; branch: string | null; red_count: number | null;
  started_at: unknown; ended_at: unknown; breaking: PipelineRefRow | string | null; fixing: PipelineRefRow | string | null;
  duration_ms: unknown; mean_ms: unknown; p50_ms: unknown; before_window: boolean | null;
}

export interface RedPeriod {
  startedAt: string; endedAt: string | null; durationMs: number; ongoing: boolean; redCount: number; startedBeforeWindow: boolean;
  breaking: PipelineRefRow; fixing: PipelineRefRow | null;
}

export interface TimeToGreenSeries {
  backend: string; projectNativeId: string; project: string; branch: string | null; periods: RedPeriod[]; meanMs: number | null; p50Ms: number | null; ongoing: RedPeriod | null;
}

function pipelineRef(value: PipelineRefRow | string | null): PipelineRefRow | null {
  if (value === null) return null;
  const ref = typeof value === 'string' ? JSON.parse(value) as PipelineRefRow : value;
  return { ...ref, finishedAt: isoOrNull(ref.finishedAt) };
}

export function timeToGreenSeries(rows: readonly TimeToGreenRow[], scope: AnalyticsScope): TimeToGreenSeries[] {
  if (rows.length > MAX_ROWS) throw analyticsLimit(`timeToGreen: more than ${MAX_ROWS} red periods and series; narrow the window or the filter`);
  const series = new Map<string, TimeToGreenSeries>();
  for (const r of rows) {
    const key = JSON.stringify([r.backend, r.project_native_id, r.branch]);
    let s = series.get(key);
    if (!s) {
      s = { backend: r.backend, projectNativeId: r.project_native_id, project: projectName(scope, r.backend, r.project_native_id), branch: r.branch, periods: [], meanMs: numOrNull(r.mean_ms), p50Ms: numOrNull(r.p50_ms), ongoing: null };
      series.set(key, s);
    }
    if (r.started_at === null || r.started_at === undefined) continue;
    const endedAt = isoOrNull(r.ended_at);
    const period: RedPeriod = {
      startedAt: iso(r.started_at), endedAt, durationMs: num(r.duration_ms), ongoing: endedAt === null, redCount: num(r.red_count),
      startedBeforeWindow: r.before_window === true,
      breaking: pipelineRef(r.breaking)!, fixing: pipelineRef(r.fixing),
    };
    s.periods.push(period);
    if (period.ongoing) s.ongoing = period;
  }
  if (series.size > ANALYTICS_LIMITS.maxGroups) throw analyticsLimit(`timeToGreen: more than ${ANALYTICS_LIMITS.maxGroups} project/branch series; filter by project or branch`);
  return [...series.values()];
}

/**
 * Without a branch asked for: a project whose default branch is known keeps that branch's series
 * alone; the others keep one series per branch.
 */
export function onDefaultBranches(series: readonly TimeToGreenSeries[], defaultBranch: (backend: string, projectNativeId: string) => string | null): TimeToGreenSeries[] {
  return series.filter((s) => {
    const branch = defaultBranch(s.backend, s.projectNativeId);
    return branch === null || s.branch === branch;
  });
}
