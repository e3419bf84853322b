import type { HistoryStore, SqlSession } from '../../history/history-store.ts';
import type { CiStatus } from '../../model.ts';
import { EMPTY_BRANCH, colorOf, stepBranch, type BranchColor, type BranchFiring, type BranchState, type BranchStep, type FinishedPipeline } from './branch-transition.ts';

export interface BranchKey {
  readonly backend: string;
  readonly projectNativeId: string;
  readonly branch: string;
  /** Null pipeline names share one row per branch (stored as ''). */
  readonly pipelineName: string | null;
}

const KEY_PARAMS = (k: BranchKey) => [k.backend, k.projectNativeId, k.branch, k.pipelineName ?? ''];

/** Creates the row if missing: a second instance's insert waits for the first one's commit, then does nothing. */
const ENSURE_ROW = `INSERT INTO notify_branch_state (backend, project_native_id, branch, pipeline_name) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`;
const LOCK_ROW = `SELECT last_native_id, last_attempt, last_created_at, last_status, last_finished_at, previous, color, red_since, red_count, fired, still_failing_sent
FROM notify_branch_state WHERE backend = $1 AND project_native_id = $2 AND branch = $3 AND pipeline_name = $4 FOR UPDATE`;
const SAVE_ROW = `UPDATE notify_branch_state SET last_native_id = $5, last_attempt = $6, last_created_at = $7, last_status = $8, last_finished_at = $9,
  previous = $10::jsonb, color = $11, red_since = $12, red_count = $13, fired = $14::jsonb, still_failing_sent = $15::jsonb, updated_at = now()
WHERE backend = $1 AND project_native_id = $2 AND branch = $3 AND pipeline_name = $4`;
/** The branch's last decisive pipeline before this one in the history (no row yet: a new instance, a new rule set). */
const SEED_FROM_HISTORY = `SELECT native_id, attempt, created_at, status, finished_at FROM pipelines
WHERE backend = $1 AND project_native_id = $2 AND branch = $3 AND name IS NOT DISTINCT FROM $4 AND native_id <> $5
  AND created_at < $6::timestamptz AND status IN ('SUCCESS', 'FAILURE', 'UNSTABLE', 'TIMED_OUT', 'ERROR')
ORDER BY created_at DESC LIMIT 1`;

interface Row {
  last_native_id: string | null; last_attempt: number | null; last_created_at: unknown; last_status: string | null; last_finished_at: unknown;
  previous: unknown; color: string | null; red_since: unknown; red_count: number; fired: unknown; still_failing_sent: unknown;
}

const iso = (v: unknown): string | null => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());
const json = <T>(v: unknown, fallback: T): T => (v === null || v === undefined ? fallback : typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

function fromRow(row: Row): BranchState | null {
  if (row.last_native_id === null) return null;
  const fired = json<Partial<BranchFiring>>(row.fired, {});
  return {
    last: { nativeId: row.last_native_id, attempt: row.last_attempt ?? 1, createdAt: iso(row.last_created_at)!, status: row.last_status as CiStatus, finishedAt: iso(row.last_finished_at) },
    previous: json<FinishedPipeline | null>(row.previous, null),
    color: row.color as BranchColor | null,
    redSince: iso(row.red_since),
    redCount: row.red_count,
    fired: { transition: fired.transition ?? null, stillFailingRules: fired.stillFailingRules ?? [], red: fired.red ?? null },
    stillFailingSent: json<Record<string, string>>(row.still_failing_sent, {}),
  };
}

/** The branch before any row: the history's last decisive pipeline on it (its colour), or an unknown past. */
async function seed(tx: SqlSession, key: BranchKey, pipeline: FinishedPipeline): Promise<{ state: BranchState; previous: FinishedPipeline | null }> {
  const { rows } = await tx.query<{ native_id: string; attempt: number; created_at: unknown; status: CiStatus; finished_at: unknown }>(
    SEED_FROM_HISTORY, [key.backend, key.projectNativeId, key.branch, key.pipelineName, pipeline.nativeId, pipeline.createdAt],
  );
  const found = rows[0];
  if (!found) return { state: EMPTY_BRANCH, previous: null }; // unknown: a failure is `failed`, a success is not `fixed`
  const color = colorOf(found.status);
  const finishedAt = iso(found.finished_at);
  const previous = { nativeId: found.native_id, attempt: found.attempt, createdAt: iso(found.created_at)!, status: found.status, finishedAt };
  // Only the colour is taken: `last` stays empty, so nothing the history holds makes this finish stale.
  return { state: { ...EMPTY_BRANCH, color, redSince: color === 'red' ? finishedAt : null, redCount: color === 'red' ? 1 : 0 }, previous };
}

/**
 * Steps the branch's state by one finished pipeline in one transaction, the row locked (FOR
 * UPDATE): of two instances handling the same finish, the second waits and sees it recorded
 * (a repeat). Returns the step, with `previous` the branch's last finished pipeline before it.
 */
export function advanceBranch(store: HistoryStore, key: BranchKey, pipeline: FinishedPipeline, stillFailingEvery: ReadonlyMap<string, number>, nowIso: string): Promise<BranchStep> {
  return store.transaction(async (tx) => {
    await tx.query(ENSURE_ROW, KEY_PARAMS(key));
    const [row] = (await tx.query<Row>(LOCK_ROW, KEY_PARAMS(key))).rows;
    const known = row ? fromRow(row) : null;
    const { state, previous: seedPrevious } = known ? { state: known, previous: null } : await seed(tx, key, pipeline);
    const step = stepBranch(state, pipeline, stillFailingEvery, nowIso);
    if (step.kind !== 'advance') return step;
    const next = step.next;
    const previous = step.previous ?? seedPrevious;
    await tx.query(SAVE_ROW, [
      ...KEY_PARAMS(key), pipeline.nativeId, pipeline.attempt, pipeline.createdAt, pipeline.status, pipeline.finishedAt,
      JSON.stringify(previous), next.color, next.redSince, next.redCount, JSON.stringify(next.fired), JSON.stringify(next.stillFailingSent),
    ]);
    return { ...step, previous };
  });
}
