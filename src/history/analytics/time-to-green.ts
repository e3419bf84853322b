import type { CiStatus } from '../../model.ts';
import { analyticsLimit, ANALYTICS_LIMITS, type AnalyticsWindow } from './window.ts';

/** Periods plus quiet series in one answer. */
const MAX_ROWS = ANALYTICS_LIMITS.maxGroups * 10;
import { baseConditions, projectName, type AnalyticsFilterInput, type AnalyticsScope } from './scope.ts';
import { iso, isoOrNull, num, numOrNull, RED_SQL, SqlParams, type SqlQuery } from './sql-params.ts';

/**
 * Red periods per project and branch, in SQL: decisive pipelines (red or SUCCESS) finished in the
 * window, numbered by how many greens came before each (`grp`; a missing branch is '' so every
 * join is an equality the planner can hash or merge); the reds sharing a grp form one
 * period, and the green whose grp is one more is the one that fixed it (none: ongoing).
 * A series whose last decisive pipeline before the window is red was already red when the window
 * opened: its first period starts at the pipeline that broke it (the first red after the last
 * green before the window), with its real finishedAt, and counts the reds before the window too
 * (`carried`: three short index look-ups per series on pipelines_branch_finished).
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
  // The first/last such pipeline: one ordered LIMIT 1 per branch form, each a short walk of
  // pipelines_branch_finished (an OR of the two forms made PostgreSQL sort the whole branch).
  const edge = (alias: string, select: string, condition: string, order: string) => `(
    SELECT * FROM (
      (SELECT ${select} FROM pipelines ${alias} WHERE ${common(alias)} AND ${alias}.branch = se.branch AND ${condition} ORDER BY ${order} LIMIT 1)
      UNION ALL
      (SELECT ${select} FROM pipelines ${alias} WHERE ${common(alias)} AND se.branch = '' AND ${alias}.branch IS NULL AND ${condition} ORDER BY ${order} LIMIT 1)
    ) AS both_forms ORDER BY ${order.replaceAll(`${alias}.`, '')} LIMIT 1)`;
  // The reds since the last green before the window, per branch form, each an index range from that green.
  const reds = (alias: string, branchForm: string) => `SELECT 1 FROM pipelines ${alias} WHERE ${common(alias)} AND ${branchForm} AND ${alias}.status IN ${RED_SQL}
      AND ${alias}.finished_at >= COALESCE(g.finished_at, '-infinity') AND (g.finished_at IS NULL OR (${alias}.finished_at, ${alias}.native_id) > (g.finished_at, g.native_id))`;
  const columns = 'native_id, number, name, status, commit_sha, url, finished_at';
  const sql = `
WITH inside AS (
  SELECT backend, project_native_id, COALESCE(branch, '') AS branch, ${columns}, (status IN ${RED_SQL}) AS red, 0 AS earlier_reds
  FROM pipelines WHERE ${where.join(' AND ')}
), series AS (
  SELECT DISTINCT backend, project_native_id, branch FROM inside
), carried AS (
  SELECT se.backend, se.project_native_id, se.branch, b.native_id, b.number, b.name, b.status, b.commit_sha, b.url, b.finished_at,
    true AS red, (SELECT count(*)::int FROM (${reds('r1', 'r1.branch = se.branch')} UNION ALL ${reds('r2', `se.branch = '' AND r2.branch IS NULL`)}) AS earlier) - 1 AS earlier_reds
  FROM series se
  CROSS JOIN LATERAL ${edge('l', 'l.status, l.finished_at, l.native_id', `l.status IN ('SUCCESS', 'FAILURE', 'TIMED_OUT', 'ERROR')`, 'l.finished_at DESC, l.native_id DESC')} last
  LEFT JOIN LATERAL ${edge('g', 'g.finished_at, g.native_id', `g.status = 'SUCCESS'`, 'g.finished_at DESC, g.native_id DESC')} g ON true
  CROSS JOIN LATERAL ${edge('b', columns.split(', ').map((c) => `b.${c}`).join(', '), `b.status IN ${RED_SQL}
    AND b.finished_at >= COALESCE(g.finished_at, '-infinity') AND (g.finished_at IS NULL OR (b.finished_at, b.native_id) > (g.finished_at, g.native_id))`, 'b.finished_at, b.native_id')} b
  WHERE last.status IN ${RED_SQL}
), decisive AS (
  SELECT * FROM inside UNION ALL SELECT * FROM carried
), numbered AS (
  SELECT *, count(*) FILTER (WHERE NOT red) OVER (PARTITION BY backend, project_native_id, branch ORDER BY finished_at, native_id) AS grp
  FROM decisive
), periods AS (
  SELECT backend, project_native_id, branch, grp, (count(*) + sum(earlier_reds))::int AS red_count, min(finished_at) AS started_at,
    (array_agg(json_build_object('nativeId', native_id, 'number', number, 'name', name, 'status', status,
      'commitSha', commit_sha, 'url', url, 'finishedAt', finished_at) ORDER BY finished_at, native_id))[1] AS breaking
  FROM numbered WHERE red GROUP BY backend, project_native_id, branch, grp
), fixes AS (
  SELECT backend, project_native_id, branch, grp - 1 AS grp, finished_at AS ended_at, ${columns}
  FROM numbered WHERE NOT red
), joined AS (
  -- The fixing pipeline's JSON only for greens that ended a period, not for every green.
  SELECT pe.*, f.ended_at, CASE WHEN f.native_id IS NOT NULL THEN json_build_object('nativeId', f.native_id, 'number', f.number, 'name', f.name,
      'status', f.status, 'commitSha', f.commit_sha, 'url', f.url, 'finishedAt', f.finished_at) END AS fixing,
    extract(epoch FROM (COALESCE(f.ended_at, ${to}) - pe.started_at)) * 1000 AS duration_ms
  FROM periods pe LEFT JOIN fixes f
    ON f.backend = pe.backend AND f.project_native_id = pe.project_native_id AND f.branch = pe.branch AND f.grp = pe.grp
), summary AS (
  SELECT backend, project_native_id, branch, avg(duration_ms) AS mean_ms,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50_ms
  FROM joined WHERE ended_at IS NOT NULL GROUP BY backend, project_native_id, branch
)
SELECT se.backend, se.project_native_id, NULLIF(se.branch, '') AS branch, j.red_count, j.started_at, j.ended_at, j.breaking, j.fixing, j.duration_ms,
  su.mean_ms, su.p50_ms, j.started_at < ${from} AS before_window
FROM series se
LEFT JOIN joined j ON j.backend = se.backend AND j.project_native_id = se.project_native_id AND j.branch = se.branch
LEFT JOIN summary su ON su.backend = se.backend AND su.project_native_id = se.project_native_id AND su.branch = se.branch
ORDER BY se.backend, se.project_native_id, se.branch, j.started_at
LIMIT ${MAX_ROWS + 1}`;
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
