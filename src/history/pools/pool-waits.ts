import type { HistoryStore } from '../history-store.ts';
import { scopeCondition, type ProjectScope } from '../project-scope.ts';
import { poolKey } from '../../pools/pool-labels.ts';
import { JOB_POOL_LABELS } from './pool-sql.ts';

export interface WaitFigures {
  /** Milliseconds; null without a sample. */
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly sampleSize: number;
}

export const NO_WAITS: WaitFigures = { p50Ms: null, p95Ms: null, sampleSize: 0 };

interface Row {
  backend: string;
  pool: string[];
  p50: number | null;
  p95: number | null;
  n: number;
}

/**
 * Queue-time percentiles of every pool of `backends` whose jobs left the queue
 * (started) in [from, to), in one query; keyed by poolKey. Jobs outside the
 * caller's projects are not in the sample.
 */
export async function poolWaitsBetween(store: HistoryStore, scope: ProjectScope, backends: readonly string[], from: Date, to: Date): Promise<Map<string, WaitFigures>> {
  const params: unknown[] = [from.toISOString(), to.toISOString(), [...backends]];
  const visible = scopeCondition(scope, params);
  const rows = await store.query<Row>(
    `SELECT backend, pool,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY queue_ms) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY queue_ms) AS p95,
       count(*)::int AS n
     FROM (SELECT backend, ${JOB_POOL_LABELS} AS pool, queue_ms FROM jobs
           WHERE started_at >= $1 AND started_at < $2 AND queue_ms IS NOT NULL AND backend = ANY($3::text[]) AND ${visible}) AS sample
     GROUP BY backend, pool`,
    params,
  );
  return new Map(rows.map((r) => [poolKey(r.backend, r.pool), { p50Ms: r.p50, p95Ms: r.p95, sampleSize: r.n }]));
}
