import type { JobModel, PipelineModel } from '../model.ts';
import type { HistoryStore } from './history-store.ts';
import { scopeCondition, type ProjectScope } from './project-scope.ts';

/** A page of `pipelines` or `jobs` read from the history, newest first. */
export interface HistoryListQuery {
  readonly backends: readonly string[];
  readonly projects: readonly { readonly backend: string; readonly nativeId: string }[] | null;
  /** Jobs only: of these pipelines. */
  readonly pipelines?: readonly { readonly backend: string; readonly nativeId: string }[] | null;
  readonly statuses: readonly string[] | null;
  readonly branch: string | null;
  readonly createdAfter: Date | null;
  /** Inclusive: rows created at this instant are returned whole (the cursor's ties are resolved by the caller). */
  readonly createdBefore: Date;
  readonly limit: number;
  readonly scope: ProjectScope;
  /** The filter's `projectNames`, resolved like a scope (projectScope) against the projects the history holds. */
  readonly named?: ProjectScope | null;
}

const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string).toISOString());

interface PipelineRow {
  payload: PipelineModel | null;
  backend: string; native_id: string; revision: number[]; project_native_id: string; number: number | null; name: string | null;
  status: PipelineModel['status']; wait_reason: PipelineModel['waitReason']; native_status: string | null; native_conclusion: string | null;
  failure_reason: string | null; attempt: number; branch: string | null; ref: string | null; commit_sha: string | null; event: string | null;
  actor: string | null; url: string | null; created_at: unknown; queued_at: unknown; started_at: unknown; finished_at: unknown; updated_at: unknown;
}

interface JobRow {
  payload: JobModel | null;
  backend: string; native_id: string; revision: number[]; project_native_id: string; pipeline_native_id: string; name: string;
  status: JobModel['status']; wait_reason: JobModel['waitReason']; native_status: string | null; native_conclusion: string | null;
  failure_reason: string | null; attempt: number; branch: string | null; labels: string[]; runner_native_id: string | null;
  runner_name: string | null; url: string | null; created_at: unknown; queued_at: unknown; started_at: unknown; finished_at: unknown;
}

/** Which provider wrote a row: the payload says; without one, the adapter that owns the backend must. */
type ProviderOf = (backend: string) => string;

/** The final shape as recorded: the latest revision's payload (the whole model), else rebuilt from the columns. */
function pipelineOf(row: PipelineRow, providerOf: ProviderOf): PipelineModel {
  if (row.payload) return row.payload;
  return {
    type: 'Pipeline', backend: row.backend, nativeId: row.native_id, revision: row.revision, projectNativeId: row.project_native_id,
    number: row.number, name: row.name, status: row.status, waitReason: row.wait_reason,
    native: { provider: providerOf(row.backend), status: row.native_status, conclusion: row.native_conclusion, failureReason: row.failure_reason },
    attempt: row.attempt, url: row.url, branch: row.branch, ref: row.ref, commitSha: row.commit_sha, event: row.event,
    actor: row.actor ? { login: row.actor, url: null, avatarUrl: null } : null,
    createdAt: iso(row.created_at)!, queuedAt: iso(row.queued_at), startedAt: iso(row.started_at), finishedAt: iso(row.finished_at), updatedAt: iso(row.updated_at),
  };
}

function jobOf(row: JobRow, providerOf: ProviderOf): JobModel {
  if (row.payload) return row.payload;
  return {
    type: 'Job', backend: row.backend, nativeId: row.native_id, revision: row.revision, projectNativeId: row.project_native_id,
    pipelineNativeId: row.pipeline_native_id, name: row.name, status: row.status, waitReason: row.wait_reason,
    native: { provider: providerOf(row.backend), status: row.native_status, conclusion: row.native_conclusion, failureReason: row.failure_reason },
    attempt: row.attempt, url: row.url, labels: row.labels, runnerNativeId: row.runner_native_id, runnerName: row.runner_name, branch: row.branch,
    createdAt: iso(row.created_at), queuedAt: iso(row.queued_at), startedAt: iso(row.started_at), finishedAt: iso(row.finished_at), steps: [],
  };
}

/** Rows are read as `x`. */
function pairs(list: readonly { backend: string; nativeId: string }[], params: unknown[], column: string): string {
  params.push(list.map((p) => p.backend), list.map((p) => p.nativeId));
  return `(x.backend, x.${column}) IN (SELECT * FROM unnest($${params.length - 1}::text[], $${params.length}::text[]))`;
}

/** WHERE conditions shared by both lists, without the createdBefore bound ($1 is reserved for it). */
function conditions(q: HistoryListQuery, params: unknown[]): string[] {
  params.push([...q.backends]);
  const where = [`x.backend = ANY($${params.length}::text[])`, scopeCondition(q.scope, params, 'x')];
  if (q.named) where.push(scopeCondition(q.named, params, 'x'));
  if (q.projects) where.push(pairs(q.projects, params, 'project_native_id'));
  if (q.pipelines) where.push(pairs(q.pipelines, params, 'pipeline_native_id'));
  if (q.statuses) {
    params.push([...q.statuses]);
    where.push(`x.status = ANY($${params.length}::text[])`);
  }
  if (q.branch !== null) {
    params.push(q.branch);
    where.push(`x.branch = $${params.length}`);
  }
  if (q.createdAfter) {
    params.push(q.createdAfter.toISOString());
    where.push(`x.created_at >= $${params.length}`);
  }
  return where;
}

/**
 * Every row created exactly at `createdBefore` (a cursor's ties), then the newest
 * `limit` created before it; each with the payload of its latest revision.
 */
function pageSql(table: 'pipelines' | 'jobs', entityType: string, where: readonly string[], limitParam: number): string {
  const select = `SELECT x.*, t.payload FROM ${table} x
    LEFT JOIN transitions t ON t.entity_type = '${entityType}' AND t.backend = x.backend AND t.native_id = x.native_id AND t.revision = x.revision`;
  const filtered = where.join(' AND ');
  return `(${select} WHERE ${filtered} AND x.created_at = $1)
    UNION ALL
    (${select} WHERE ${filtered} AND x.created_at < $1 ORDER BY x.created_at DESC LIMIT $${limitParam})`;
}

export async function historyPipelines(store: HistoryStore, q: HistoryListQuery, providerOf: ProviderOf): Promise<PipelineModel[]> {
  const params: unknown[] = [q.createdBefore.toISOString()];
  const where = conditions(q, params);
  params.push(q.limit);
  const rows = await store.query<PipelineRow>(pageSql('pipelines', 'Pipeline', where, params.length), params);
  return rows.map((r) => pipelineOf(r, providerOf));
}

export async function historyJobs(store: HistoryStore, q: HistoryListQuery, providerOf: ProviderOf): Promise<JobModel[]> {
  const params: unknown[] = [q.createdBefore.toISOString()];
  const where = conditions(q, params);
  params.push(q.limit);
  const rows = await store.query<JobRow>(pageSql('jobs', 'Job', where, params.length), params);
  return rows.map((r) => jobOf(r, providerOf));
}

/** The backends whose history reaches back to `createdBefore` (it holds a pipeline created at or before it). */
export async function backendsCoveredBefore(store: HistoryStore, backends: readonly string[], createdBefore: Date): Promise<Set<string>> {
  const rows = await store.query<{ backend: string }>(
    'SELECT b AS backend FROM unnest($1::text[]) AS b WHERE EXISTS (SELECT 1 FROM pipelines p WHERE p.backend = b AND p.created_at <= $2)',
    [[...backends], createdBefore.toISOString()],
  );
  return new Set(rows.map((r) => r.backend));
}

/**
 * Jobs of these pipelines as the history recorded them (pipelines older than the live window):
 * the latest attempt of each name, as `Pipeline.jobs` shows live; the history keeps the others.
 */
export async function historyJobsOfPipelines(store: HistoryStore, pipelines: readonly { backend: string; nativeId: string }[], providerOf: ProviderOf): Promise<JobModel[]> {
  if (pipelines.length === 0) return [];
  const params: unknown[] = [];
  const where = pairs(pipelines, params, 'pipeline_native_id');
  const rows = await store.query<JobRow>(
    `SELECT x.*, t.payload FROM jobs x
     LEFT JOIN transitions t ON t.entity_type = 'Job' AND t.backend = x.backend AND t.native_id = x.native_id AND t.revision = x.revision
     WHERE ${where}
       AND NOT EXISTS (SELECT 1 FROM jobs y WHERE y.backend = x.backend AND y.pipeline_native_id = x.pipeline_native_id AND y.name = x.name AND y.attempt > x.attempt)`,
    params,
  );
  return rows.map((r) => jobOf(r, providerOf));
}

/** One entity as the history last recorded it, with its project's full name (the latest the history knows). */
export interface RecordedEntity<T extends PipelineModel | JobModel> {
  readonly entity: T;
  readonly projectFullName: string | null;
}

type Ref = { readonly backend: string; readonly nativeId: string };

/** Rows by (backend, native id), each with its latest revision's payload, as the list pages read them. */
function byIdsSql(table: 'pipelines' | 'jobs', entityType: string): string {
  return `SELECT x.*, t.payload, COALESCE(h.project_full_name, x.project_full_name) AS named_project
    FROM ${table} x
    LEFT JOIN transitions t ON t.entity_type = '${entityType}' AND t.backend = x.backend AND t.native_id = x.native_id AND t.revision = x.revision
    LEFT JOIN history_projects h ON h.backend = x.backend AND h.project_native_id = x.project_native_id
    WHERE (x.backend, x.native_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`;
}

const refParams = (refs: readonly Ref[]) => [refs.map((r) => r.backend), refs.map((r) => r.nativeId)];

/** Pipelines by id as recorded (for `node(id)` of pipelines older than the live window). */
export async function historyPipelinesByIds(store: HistoryStore, refs: readonly Ref[], providerOf: ProviderOf): Promise<RecordedEntity<PipelineModel>[]> {
  if (refs.length === 0) return [];
  const rows = await store.query<PipelineRow & { named_project: string | null }>(byIdsSql('pipelines', 'Pipeline'), refParams(refs));
  return rows.map((r) => ({ entity: pipelineOf(r, providerOf), projectFullName: r.named_project }));
}

/** Jobs by id as recorded. */
export async function historyJobsByIds(store: HistoryStore, refs: readonly Ref[], providerOf: ProviderOf): Promise<RecordedEntity<JobModel>[]> {
  if (refs.length === 0) return [];
  const rows = await store.query<JobRow & { named_project: string | null }>(byIdsSql('jobs', 'Job'), refParams(refs));
  return rows.map((r) => ({ entity: jobOf(r, providerOf), projectFullName: r.named_project }));
}
