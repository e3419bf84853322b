import type { HistoryStore } from '../../history/history-store.ts';
import { ESTIMATE_SAMPLE } from '../../history/estimates.ts';

/** Fewer successful runs than this, and `p95` has no bound: nothing fires without history. */
export const MIN_P95_SAMPLE = 5;

/** p95 of the last successful runs of the same job (or pipeline) on the same project and branch, else any branch. */
const P95_SQL = (table: 'jobs' | 'pipelines') => `
WITH same_branch AS (
  SELECT duration_ms FROM ${table} WHERE backend = $1 AND project_native_id = $2 AND name IS NOT DISTINCT FROM $3 AND branch = $4
    AND status = 'SUCCESS' AND duration_ms IS NOT NULL ORDER BY finished_at DESC NULLS LAST LIMIT ${ESTIMATE_SAMPLE}
), any_branch AS (
  SELECT duration_ms FROM ${table} WHERE backend = $1 AND project_native_id = $2 AND name IS NOT DISTINCT FROM $3
    AND status = 'SUCCESS' AND duration_ms IS NOT NULL ORDER BY finished_at DESC NULLS LAST LIMIT ${ESTIMATE_SAMPLE}
)
SELECT 'branch' AS basis, count(*)::int AS n, percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95 FROM same_branch
UNION ALL
SELECT 'any' AS basis, count(*)::int AS n, percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95 FROM any_branch`;

export interface P95Key {
  readonly kind: 'Job' | 'Pipeline';
  readonly backend: string;
  readonly project: string;
  readonly name: string | null;
  readonly branch: string | null;
}

/** The p95 duration in ms, or null without MIN_P95_SAMPLE successful runs. */
export async function p95DurationMs(store: HistoryStore, key: P95Key): Promise<number | null> {
  const rows = await store.query<{ basis: string; n: number; p95: unknown }>(P95_SQL(key.kind === 'Job' ? 'jobs' : 'pipelines'), [key.backend, key.project, key.name, key.branch]);
  const branch = rows.find((r) => r.basis === 'branch');
  const any = rows.find((r) => r.basis === 'any');
  const chosen = branch && branch.n >= MIN_P95_SAMPLE ? branch : any && any.n >= MIN_P95_SAMPLE ? any : null;
  return chosen && chosen.p95 !== null ? Number(chosen.p95) : null;
}
