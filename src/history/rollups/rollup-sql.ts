import { RED_SQL, REASON_SQL } from '../analytics/sql-params.ts';

/**
 * Daily rollups (migration 6) of the rows the stats figures count: per UTC day of finished_at,
 * backend and project, the count by status and red reason, and the histograms of duration and
 * queue time in log buckets (src/history/analytics/histogram.ts). Dashboards ask for weeks of
 * these; reading a few thousand rollup rows instead of every job is what keeps them fast.
 *
 * Consistency: a write that touches a finished row marks its day dirty (triggers, same
 * transaction) and a figure reads a dirty day from the rows themselves. A refresh claims one
 * dirty day by deleting its mark, then rebuilds it. A writer that has marked the day holds the
 * mark's row lock until it commits, so the claim waits for it and the rebuild (a later
 * statement, a later snapshot) includes it; a writer after the claim marks the day again.
 */
export type RollupKind = 'pipelines' | 'jobs';

/** The newest dirty day no other refresher holds, claimed by deleting its mark. */
export const CLAIM_DIRTY_DAY = `
DELETE FROM rollup_dirty WHERE (kind, day) IN (
  SELECT kind, day FROM rollup_dirty ORDER BY day DESC, kind LIMIT 1 FOR UPDATE SKIP LOCKED
) RETURNING kind, to_char(day, 'YYYY-MM-DD') AS day`;

export const DELETE_DAY = [
  'DELETE FROM rollup_counts WHERE kind = $1 AND day = $2::date',
  'DELETE FROM rollup_histograms WHERE kind = $1 AND day = $2::date',
  `DELETE FROM rollup_job_commits WHERE $1 = 'jobs' AND day = $2::date`,
] as const;

/** The statuses that decide whether a job passed on a commit (flaky jobs count only these). */
export const DECISIVE_SQL = `('SUCCESS', 'FAILURE', 'TIMED_OUT', 'ERROR')`;

const ofDay = `finished_at >= ($2::date)::timestamp AT TIME ZONE 'UTC' AND finished_at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'`;

/** $1 kind (also the table, checked against RollupKind by the caller), $2 the day. */
export function rebuildDay(kind: RollupKind): readonly string[] {
  return [
    `INSERT INTO rollup_counts (kind, day, backend, project_native_id, status, reason, n)
SELECT $1, $2::date, backend, project_native_id, status, CASE WHEN status IN ${RED_SQL} THEN ${REASON_SQL} ELSE '' END, count(*)
FROM ${kind} WHERE ${ofDay} GROUP BY 3, 4, 5, 6`,
    `INSERT INTO rollup_histograms (kind, day, backend, project_native_id, metric, buckets, counts)
SELECT $1, $2::date, backend, project_native_id, metric, array_agg(bucket ORDER BY bucket), array_agg(n ORDER BY bucket)
FROM (
  SELECT backend, project_native_id, m.metric, duration_bucket(m.ms) AS bucket, count(*)::int AS n
  FROM ${kind} CROSS JOIN LATERAL (VALUES ('d'::"char", duration_ms), ('q'::"char", queue_ms)) AS m(metric, ms)
  WHERE ${ofDay} AND m.ms IS NOT NULL GROUP BY 1, 2, 3, 4
) AS b GROUP BY backend, project_native_id, metric`,
    ...(kind === 'jobs' ? [`INSERT INTO rollup_job_commits (day, backend, project_native_id, name, commits)
SELECT $2::date, backend, project_native_id, name, count(DISTINCT commit_sha)
FROM jobs WHERE ${ofDay} AND $1 = 'jobs' AND commit_sha IS NOT NULL AND status IN ${DECISIVE_SQL} GROUP BY 2, 3, 4`] : []),
  ];
}

/** The dirty days of one kind in [$2, $3] (a figure reads those from the rows). */
export const DIRTY_DAYS = `SELECT to_char(day, 'YYYY-MM-DD') AS day FROM rollup_dirty WHERE kind = $1 AND day >= $2::date AND day <= $3::date`;

/** Planner statistics for the rollups after a catch-up (a backfill, a first start): without them it misjudges them badly. */
export const ANALYZE_ROLLUPS = 'ANALYZE rollup_counts, rollup_histograms, rollup_job_commits';
