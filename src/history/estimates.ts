import type { HistoryStore } from './history-store.ts';

export interface EstimateKey {
  readonly kind: 'Job' | 'Pipeline';
  readonly backend: string;
  readonly project: string;
  /** Job name, or pipeline name (null for unnamed pipelines: matched with other unnamed ones). */
  readonly name: string | null;
  readonly branch: string | null;
}

export type EstimateBasis = 'SAME_BRANCH' | 'ANY_BRANCH' | 'BRANCH_ANY_NAME';

export interface EstimateSample {
  /** Median run time (ms) of the sample; null without one. */
  readonly durationMs: number | null;
  /** Median queue time (ms) of the same runs. */
  readonly queueMs: number | null;
  readonly sampleSize: number;
  readonly basis: EstimateBasis | null;
}

/** Runs an estimate is taken over, newest first. */
export const ESTIMATE_SAMPLE = 20;
/** Fewer successful runs than this on the branch, and the project's any-branch sample is used if larger. */
export const MIN_BRANCH_SAMPLE = 3;

const NAME_MATCH = { jobs: 'AND t.name = k.name', pipelines: 'AND t.name IS NOT DISTINCT FROM k.name' } as const;

const sample = (table: 'jobs' | 'pipelines', kind: string, basis: EstimateBasis) => `
  (SELECT '${basis}' AS basis, t.duration_ms, t.queue_ms FROM ${table} t
   WHERE k.kind = '${kind}' AND t.backend = k.backend AND t.project_native_id = k.project
     ${basis === 'BRANCH_ANY_NAME' ? '' : NAME_MATCH[table]} ${basis === 'ANY_BRANCH' ? '' : 'AND t.branch = k.branch'}
     AND t.status = 'SUCCESS' AND t.duration_ms IS NOT NULL
   ORDER BY t.finished_at DESC NULLS LAST LIMIT ${ESTIMATE_SAMPLE})`;

/** Every estimate a request needs, in one query: both bases of every key. */
const ESTIMATES_SQL = `
SELECT k.i::int AS i, s.basis, count(*)::int AS n,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY s.duration_ms) AS duration_ms,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY s.queue_ms) AS queue_ms
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS k(kind, backend, project, name, branch, i)
CROSS JOIN LATERAL (
  ${sample('jobs', 'Job', 'SAME_BRANCH')} UNION ALL ${sample('jobs', 'Job', 'ANY_BRANCH')}
  UNION ALL ${sample('pipelines', 'Pipeline', 'SAME_BRANCH')} UNION ALL ${sample('pipelines', 'Pipeline', 'ANY_BRANCH')}
  UNION ALL ${sample('pipelines', 'Pipeline', 'BRANCH_ANY_NAME')}
) AS s
GROUP BY k.i, s.basis`;

interface Row {
  i: number;
  basis: EstimateBasis;
  n: number;
  duration_ms: number | null;
  queue_ms: number | null;
}

const NONE: EstimateSample = { durationMs: null, queueMs: null, sampleSize: 0, basis: null };

export async function estimateSamples(store: HistoryStore, keys: readonly EstimateKey[]): Promise<EstimateSample[]> {
  if (keys.length === 0) return [];
  const rows = await store.query<Row>(ESTIMATES_SQL, [
    keys.map((k) => k.kind), keys.map((k) => k.backend), keys.map((k) => k.project), keys.map((k) => k.name), keys.map((k) => k.branch),
  ]);
  const byKey = new Map<number, Partial<Record<EstimateBasis, Row>>>();
  for (const row of rows) byKey.set(row.i, { ...byKey.get(row.i), [row.basis]: row });
  return keys.map((_, index) => {
    const found = byKey.get(index + 1) ?? {};
    const branch = found.SAME_BRANCH;
    const any = found.ANY_BRANCH;
    // Pipelines named after their commit (GitLab without workflow:name) share no name: any pipeline of the branch.
    const chosen = (branch && (branch.n >= MIN_BRANCH_SAMPLE || !any || branch.n >= any.n) ? branch : any) ?? found.BRANCH_ANY_NAME;
    if (!chosen) return NONE;
    return { durationMs: chosen.duration_ms, queueMs: chosen.queue_ms, sampleSize: chosen.n, basis: chosen.basis };
  });
}
