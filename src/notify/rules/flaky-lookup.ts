import type { HistoryStore } from '../../history/history-store.ts';

/** How far back a job's past flakes count. */
export const FLAKE_WINDOW_DAYS = 14;

/**
 * The history's flake data (as analytics/flaky-jobs.ts defines it): a job is flaky when the same
 * job name failed and passed on one commit, in the window or on this very commit.
 */
const FLAKY_JOBS_SQL = `
SELECT DISTINCT r.name FROM jobs r
WHERE r.backend = $1 AND r.project_native_id = $2 AND r.name = ANY($3::text[]) AND r.commit_sha IS NOT NULL
  AND r.status IN ('FAILURE', 'UNSTABLE', 'TIMED_OUT', 'ERROR') AND r.finished_at >= $4::timestamptz
  AND EXISTS (SELECT 1 FROM jobs s WHERE s.backend = r.backend AND s.project_native_id = r.project_native_id AND s.name = r.name
    AND s.commit_sha = r.commit_sha AND s.status = 'SUCCESS')
UNION
SELECT DISTINCT s.name FROM jobs s
WHERE s.backend = $1 AND s.project_native_id = $2 AND s.name = ANY($3::text[]) AND s.commit_sha = $5 AND s.status = 'SUCCESS'`;

export async function flakyJobNames(store: HistoryStore, backend: string, projectNativeId: string, names: readonly string[], commitSha: string | null, now: Date): Promise<Set<string>> {
  if (names.length === 0) return new Set();
  const since = new Date(now.getTime() - FLAKE_WINDOW_DAYS * 86_400_000).toISOString();
  const rows = await store.query<{ name: string }>(FLAKY_JOBS_SQL, [backend, projectNativeId, [...names], since, commitSha]);
  return new Set(rows.map((r) => r.name));
}
