import { compareRevisions, type JobModel, type PipelineModel } from '../model.ts';
import type { Observation } from './history-store.ts';
import type { JobColumn, PipelineColumn } from './sql.ts';

/** A batch as the set-based statements of src/history/sql.ts take it: one parameter per statement. */
export interface BatchRows {
  /** JSON arrays ($1 of INSERT_TRANSITIONS, UPSERT_PIPELINES, UPSERT_JOBS); null when the batch has none. */
  readonly transitions: string;
  readonly pipelines: string | null;
  readonly jobs: string | null;
  /** [backends, native ids, names] for SET_*_PROJECT_NAMES: the last name a batch gave each row. */
  readonly pipelineNames: NameColumns | null;
  readonly jobNames: NameColumns | null;
  /** UPSERT_HISTORY_PROJECTS ($1 backends, $2 native ids, $3 full names) and LINK_JOBS_TO_PIPELINES ($1, $2). */
  readonly projects: [string[], string[], (string | null)[]] | null;
  readonly pipelinesToLink: [string[], string[]] | null;
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

function pipelineRow(p: PipelineModel, observedAt: string): Record<PipelineColumn, unknown> {
  return {
    backend: p.backend, native_id: p.nativeId, revision: p.revision, project_native_id: p.projectNativeId, number: p.number,
    name: p.name, status: p.status, wait_reason: p.waitReason, native_status: p.native.status, native_conclusion: p.native.conclusion,
    failure_reason: p.native.failureReason, attempt: p.attempt, branch: p.branch, ref: p.ref, commit_sha: p.commitSha, event: p.event,
    actor: p.actor?.login ?? null, url: p.url, created_at: p.createdAt, queued_at: p.queuedAt, started_at: p.startedAt,
    finished_at: p.finishedAt, updated_at: p.updatedAt, queue_ms: millisBetween(p.queuedAt ?? p.createdAt, p.startedAt),
    duration_ms: millisBetween(p.startedAt, p.finishedAt), recorded_at: observedAt,
  };
}

function jobRow(j: JobModel, observedAt: string): Record<JobColumn, unknown> {
  return {
    backend: j.backend, native_id: j.nativeId, revision: j.revision, project_native_id: j.projectNativeId,
    pipeline_native_id: j.pipelineNativeId, name: j.name, status: j.status, wait_reason: j.waitReason, native_status: j.native.status,
    native_conclusion: j.native.conclusion, failure_reason: j.native.failureReason, attempt: j.attempt, branch: j.branch,
    labels: j.labels, runner_native_id: j.runnerNativeId, runner_name: j.runnerName, url: j.url, created_at: j.createdAt,
    queued_at: j.queuedAt, started_at: j.startedAt, finished_at: j.finishedAt,
    queue_ms: millisBetween(j.queuedAt ?? j.createdAt, j.startedAt), duration_ms: millisBetween(j.startedAt, j.finishedAt),
    recorded_at: observedAt,
  };
}

const keyOf = (entity: Observation['entity']) => `${entity.backend}\u0000${entity.nativeId}`;

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

/** The last full name the batch gave each row of one table (a row-by-row pass sets them in order). */
function lastNames(batch: readonly Observation[], type: 'Pipeline' | 'Job'): NameColumns | null {
  const names = new Map<string, [string, string, string]>();
  for (const { entity, projectFullName } of batch) {
    if (entity.type !== type || !projectFullName) continue;
    const key = keyOf(entity);
    names.delete(key);
    names.set(key, [entity.backend, entity.nativeId, projectFullName]);
  }
  if (names.size === 0) return null;
  const columns: NameColumns = [[], [], []];
  for (const [backend, nativeId, name] of names.values()) {
    columns[0].push(backend);
    columns[1].push(nativeId);
    columns[2].push(name);
  }
  return columns;
}

/** Serialized once on this thread: a string crosses to the PGlite worker (or the socket) as one copy. */
export function batchRows(batch: readonly Observation[]): BatchRows {
  const transitions = batch.map(({ entity, observedAt }) => ({
    entity_type: entity.type, backend: entity.backend, native_id: entity.nativeId, revision: entity.revision,
    status: statusOf(entity), wait_reason: entity.type === 'Runner' ? null : entity.waitReason, observed_at: observedAt, payload: entity,
  }));
  const pipelines = newestPerEntity<PipelineModel>(batch, 'Pipeline').map(({ entity, observedAt }) => pipelineRow(entity, observedAt));
  const jobs = newestPerEntity<JobModel>(batch, 'Job').map(({ entity, observedAt }) => jobRow(entity, observedAt));
  const projects: [string[], string[], (string | null)[]] = [[], [], []];
  const pipelinesToLink = new Map<string, [string, string]>();
  for (const { entity, projectFullName } of batch) {
    if (entity.type === 'Runner') continue;
    projects[0].push(entity.backend);
    projects[1].push(entity.projectNativeId);
    projects[2].push(projectFullName ?? null);
    const pipelineId = entity.type === 'Job' ? entity.pipelineNativeId : entity.nativeId;
    pipelinesToLink.set(`${entity.backend}\u0000${pipelineId}`, [entity.backend, pipelineId]);
  }
  const link: [string[], string[]] = [[], []];
  for (const [backend, pipelineId] of pipelinesToLink.values()) {
    link[0].push(backend);
    link[1].push(pipelineId);
  }
  return {
    transitions: JSON.stringify(transitions),
    pipelines: pipelines.length ? JSON.stringify(pipelines) : null,
    jobs: jobs.length ? JSON.stringify(jobs) : null,
    pipelineNames: lastNames(batch, 'Pipeline'),
    jobNames: lastNames(batch, 'Job'),
    projects: projects[0].length ? projects : null,
    pipelinesToLink: link[0].length ? link : null,
  };
}
