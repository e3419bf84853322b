import { compareRevisions, type JobModel, type PipelineModel } from '../model.ts';
import type { Observation } from './history-store.ts';
import type { JobColumn, PipelineColumn } from './sql.ts';

/** A batch as the set-based statements of src/history/sql.ts take it: one parameter per statement. */
export interface BatchRows {
  /** JSON arrays ($1 of INSERT_TRANSITIONS, UPSERT_PIPELINES, UPSERT_JOBS); null when the batch has none. */
  readonly transitions: string;
  readonly pipelines: string | null;
  readonly jobs: string | null;
  /**
   * [backends, native ids, names] for SET_*_PROJECT_NAMES: the last name a batch gave each row
   * (the upserts write it too; the store sets it only on rows they left alone).
   */
  readonly pipelineNames: NameColumns | null;
  readonly jobNames: NameColumns | null;
  /** UPSERT_HISTORY_PROJECTS ($1 backends, $2 native ids, $3 full names). */
  readonly projects: [string[], string[], (string | null)[]] | null;
}

type NameColumns = [string[], string[], string[]];

function millisBetween(from: string | null, to: string | null): number | null {
  if (!from || !to) return null;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) && ms >= 0 ? ms : null;
}

function statusOf(entity: Observation['entity']): string {
  return entity.type === 'Runner' ? entity.state : entity.status;
}

function pipelineRow(p: PipelineModel, observedAt: string, projectFullName: string | null): Record<PipelineColumn, unknown> {
  return {
    backend: p.backend, native_id: p.nativeId, revision: p.revision, project_native_id: p.projectNativeId, number: p.number,
    name: p.name, status: p.status, wait_reason: p.waitReason, native_status: p.native.status, native_conclusion: p.native.conclusion,
    failure_reason: p.native.failureReason, attempt: p.attempt, branch: p.branch, ref: p.ref, commit_sha: p.commitSha, event: p.event,
    actor: p.actor?.login ?? null, url: p.url, created_at: p.createdAt, queued_at: p.queuedAt, started_at: p.startedAt,
    finished_at: p.finishedAt, updated_at: p.updatedAt, queue_ms: millisBetween(p.queuedAt ?? p.createdAt, p.startedAt),
    duration_ms: millisBetween(p.startedAt, p.finishedAt), recorded_at: observedAt, project_full_name: projectFullName,
  };
}

function jobRow(j: JobModel, observedAt: string, projectFullName: string | null): Record<JobColumn, unknown> {
  return {
    backend: j.backend, native_id: j.nativeId, revision: j.revision, project_native_id: j.projectNativeId,
    pipeline_native_id: j.pipelineNativeId, name: j.name, status: j.status, wait_reason: j.waitReason, native_status: j.native.status,
    native_conclusion: j.native.conclusion, failure_reason: j.native.failureReason, attempt: j.attempt, branch: j.branch,
    labels: j.labels, runner_native_id: j.runnerNativeId, runner_name: j.runnerName, url: j.url, created_at: j.createdAt,
    queued_at: j.queuedAt, started_at: j.startedAt, finished_at: j.finishedAt,
    queue_ms: millisBetween(j.queuedAt ?? j.createdAt, j.startedAt), duration_ms: millisBetween(j.startedAt, j.finishedAt),
    recorded_at: observedAt, project_full_name: projectFullName,
  };
}

/** A row's key: backend and native id. */
export const rowKey = (backend: string, nativeId: string) => `${backend}\u0000${nativeId}`;
const keyOf = (entity: Observation['entity']) => rowKey(entity.backend, entity.nativeId);

/**
 * Per entity, the observation one row-by-row pass would leave in place: the newest revision,
 * the earliest of equal ones (an equal revision changes nothing). The database still compares
 * it with the row already stored (revision_newer).
 */
function newestPerEntity<E extends PipelineModel | JobModel>(batch: readonly Observation[], type: E['type']): { entity: E; observedAt: string }[] {
  const newest = new Map<string, { entity: E; observedAt: string }>();
  for (const { entity, observedAt } of batch) {
    if (entity.type !== type) continue;
    const key = keyOf(entity);
    const held = newest.get(key);
    if (!held || compareRevisions(entity.revision, held.entity.revision) > 0) newest.set(key, { entity: entity as E, observedAt });
  }
  return [...newest.values()];
}

/** The last full name the batch gave each row of one table (a row-by-row pass sets them in order), by entity key. */
function lastNames(batch: readonly Observation[], type: 'Pipeline' | 'Job'): Map<string, [string, string, string]> {
  const names = new Map<string, [string, string, string]>();
  for (const { entity, projectFullName } of batch) {
    if (entity.type !== type || !projectFullName) continue;
    const key = keyOf(entity);
    names.delete(key);
    names.set(key, [entity.backend, entity.nativeId, projectFullName]);
  }
  return names;
}

/** The names as SET_*_PROJECT_NAMES takes them, leaving out the rows in `written` (keys as `keyOf`). */
export function namesOutside(names: NameColumns | null, written: ReadonlySet<string>): NameColumns | null {
  if (!names) return null;
  const left: NameColumns = [[], [], []];
  names[0].forEach((backend, i) => {
    if (written.has(rowKey(backend, names[1][i]!))) return;
    left[0].push(backend);
    left[1].push(names[1][i]!);
    left[2].push(names[2][i]!);
  });
  return left[0].length ? left : null;
}

function columnsOf(names: Map<string, [string, string, string]>): NameColumns | null {
  if (names.size === 0) return null;
  const columns: NameColumns = [[], [], []];
  for (const [backend, nativeId, name] of names.values()) {
    columns[0].push(backend);
    columns[1].push(nativeId);
    columns[2].push(name);
  }
  return columns;
}

/** Serialized once on this thread: a string crosses to the PGlite process (or the socket) as one copy. */
export function batchRows(batch: readonly Observation[]): BatchRows {
  const transitions = batch.map(({ entity, observedAt }) => ({
    entity_type: entity.type, backend: entity.backend, native_id: entity.nativeId, revision: entity.revision,
    status: statusOf(entity), wait_reason: entity.type === 'Runner' ? null : entity.waitReason, observed_at: observedAt, payload: entity,
  }));
  const pipelineNames = lastNames(batch, 'Pipeline');
  const jobNames = lastNames(batch, 'Job');
  const pipelines = newestPerEntity<PipelineModel>(batch, 'Pipeline').map(({ entity, observedAt }) => pipelineRow(entity, observedAt, pipelineNames.get(keyOf(entity))?.[2] ?? null));
  const jobs = newestPerEntity<JobModel>(batch, 'Job').map(({ entity, observedAt }) => jobRow(entity, observedAt, jobNames.get(keyOf(entity))?.[2] ?? null));
  const projects: [string[], string[], (string | null)[]] = [[], [], []];
  for (const { entity, projectFullName } of batch) {
    if (entity.type === 'Runner') continue;
    projects[0].push(entity.backend);
    projects[1].push(entity.projectNativeId);
    projects[2].push(projectFullName ?? null);
  }
  return {
    transitions: JSON.stringify(transitions),
    pipelines: pipelines.length ? JSON.stringify(pipelines) : null,
    jobs: jobs.length ? JSON.stringify(jobs) : null,
    pipelineNames: columnsOf(pipelineNames),
    jobNames: columnsOf(jobNames),
    projects: projects[0].length ? projects : null,
  };
}
