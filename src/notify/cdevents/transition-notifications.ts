import type { ChangeEvent, JobEvent, PipelineEvent } from '../../events/event-types.ts';
import { toGlobalId } from '../../ids.ts';
import { isTerminal, type CiStatus, type JobModel, type PipelineModel, type ProjectModel } from '../../model.ts';
import { notificationId, type FailureCategory, type Notification, type NotifiedJob, type NotifiedPipeline } from '../notification.ts';

export type Lifecycle = NonNullable<Notification['lifecycle']>;

/** The rule name of the CDEvents stream's messages (Notification.rule). */
export const CDEVENTS_EXPORT_RULE = 'export:cdevents';

const QUEUED: ReadonlySet<CiStatus> = new Set(['PENDING', 'QUEUED', 'WAITING']);

/** The lifecycle group of a status; CANCELING and UNKNOWN belong to none (nothing is sent on entering them). */
function phase(status: CiStatus | null): Lifecycle | null {
  if (status === null) return null;
  if (QUEUED.has(status)) return 'queued';
  if (status === 'RUNNING') return 'started';
  return isTerminal(status) ? 'finished' : null;
}

/**
 * What lifecycle a change enters, if any: a status in another group than the one before.
 * QUEUED -> WAITING stays queued, RUNNING -> CANCELING -> CANCELED finishes once; a re-run
 * (finished -> queued) enters queued again, under its new attempt. A first sighting of a
 * finished run counts only from a webhook (src/events/seen-finishing.ts's rule): a poll or
 * backfill that finds old finished runs at start is not a run finishing now.
 */
export function enteredLifecycle(status: CiStatus, previousStatus: CiStatus | null, source: ChangeEvent['source']): Lifecycle | null {
  const now = phase(status);
  if (now === null || now === phase(previousStatus)) return null;
  if (now === 'finished' && previousStatus === null && source !== 'WEBHOOK') return null;
  return now;
}

/** Who should hear about a status: ERROR is the infrastructure's; FAILURE, UNSTABLE and TIMED_OUT the code's (the export cannot tell a lost runner's timeout). */
export function statusCategory(status: CiStatus): FailureCategory {
  if (status === 'ERROR') return 'infrastructure';
  return status === 'FAILURE' || status === 'UNSTABLE' || status === 'TIMED_OUT' ? 'code' : 'none';
}

const FAILING: ReadonlySet<CiStatus> = new Set(['FAILURE', 'UNSTABLE', 'TIMED_OUT', 'ERROR']);

/** What the export can look up beyond the event (the live state): project names, a job's pipeline, a pipeline's jobs. */
export interface TransitionLookup {
  project(backend: string, nativeId: string): ProjectModel | undefined;
  pipeline(backend: string, nativeId: string): PipelineModel | undefined;
  pipelineJobs(backend: string, pipelineNativeId: string): readonly JobModel[];
}

function notifiedJob(j: JobModel): NotifiedJob {
  return {
    id: toGlobalId('Job', j.backend, j.nativeId),
    nativeId: j.nativeId,
    pipelineId: toGlobalId('Pipeline', j.backend, j.pipelineNativeId),
    name: j.name,
    status: j.status,
    native: j.native,
    url: j.url,
    category: statusCategory(j.status),
    reason: j.native.failureReason,
    runnerName: j.runnerName,
    labels: j.labels,
    startedAt: j.startedAt,
    finishedAt: j.finishedAt,
    queuedAt: j.queuedAt,
    flaky: false, // the export sends every transition; flake data is for rules
  };
}

function durationMs(p: PipelineModel): number | null {
  const end = p.finishedAt ? Date.parse(p.finishedAt) : NaN;
  const start = Date.parse(p.startedAt ?? p.createdAt);
  return Number.isFinite(end) && Number.isFinite(start) && end >= start ? end - start : null;
}

function notifiedPipeline(p: PipelineModel, jobs: readonly JobModel[]): NotifiedPipeline {
  return {
    id: toGlobalId('Pipeline', p.backend, p.nativeId),
    nativeId: p.nativeId,
    name: p.name,
    title: p.title ?? null,
    number: p.number,
    attempt: p.attempt,
    status: p.status,
    native: p.native,
    url: p.url,
    branch: p.branch,
    commitSha: p.commitSha,
    actor: p.actor?.login ?? null,
    createdAt: p.createdAt,
    startedAt: p.startedAt,
    finishedAt: p.finishedAt,
    durationMs: durationMs(p),
    failingJobs: isTerminal(p.status) ? jobs.filter((j) => FAILING.has(j.status)).map(notifiedJob) : [],
  };
}

/** When the transition happened, by the backend's clock where it says. */
function occurredAt(lifecycle: Lifecycle, entity: { readonly queuedAt: string | null; readonly createdAt: string | null; readonly startedAt: string | null; readonly finishedAt: string | null }, receivedAt: string): string {
  const at = lifecycle === 'queued' ? (entity.queuedAt ?? entity.createdAt) : lifecycle === 'started' ? entity.startedAt : entity.finishedAt;
  return at && Number.isFinite(Date.parse(at)) ? new Date(at).toISOString() : receivedAt;
}

/** One message per (pipeline or job, attempt, lifecycle): a webhook and a poll of the same change make the same key. */
export function exportDedupeKey(kind: 'pipeline' | 'job', backend: string, nativeId: string, attempt: number, lifecycle: Lifecycle): string {
  return `${CDEVENTS_EXPORT_RULE}|${kind}|${backend}|${nativeId}#${attempt}|${lifecycle}`;
}

function base(dedupeKey: string, lifecycle: Lifecycle, status: CiStatus, occurred: string, detectedAt: string, backend: string, provider: string): Omit<Notification, 'project' | 'pipeline' | 'job' | 'summary'> {
  return {
    id: notificationId(dedupeKey),
    dedupeKey,
    trigger: 'transition',
    rule: CDEVENTS_EXPORT_RULE,
    category: lifecycle === 'finished' ? statusCategory(status) : 'none',
    occurredAt: occurred,
    detectedAt,
    backend,
    provider,
    previous: null,
    red: null,
    pool: null,
    backendHealth: null,
    lifecycle,
  };
}

function project(backend: string, nativeId: string, lookup: TransitionLookup | undefined): Notification['project'] {
  const found = lookup?.project(backend, nativeId);
  return { id: toGlobalId('Project', backend, nativeId), nativeId, fullName: found?.fullName ?? null, url: found?.url ?? null };
}

function pipelineNotification(event: PipelineEvent, lifecycle: Lifecycle, lookup: TransitionLookup | undefined): Notification {
  const p = event.pipeline;
  const key = exportDedupeKey('pipeline', p.backend, p.nativeId, p.attempt, lifecycle);
  const proj = project(p.backend, p.projectNativeId, lookup);
  const jobs = lifecycle === 'finished' ? (lookup?.pipelineJobs(p.backend, p.nativeId) ?? []) : [];
  const label = `${proj?.fullName ?? p.projectNativeId} ${p.name ?? p.title ?? 'pipeline'}${p.number !== null ? ` #${p.number}` : ''}`;
  return {
    ...base(key, lifecycle, p.status, occurredAt(lifecycle, p, event.receivedAt), event.receivedAt, p.backend, p.native.provider),
    project: proj,
    pipeline: notifiedPipeline(p, jobs),
    job: null,
    summary: `${label}: ${lifecycle === 'finished' ? p.status : lifecycle}`,
  };
}

function jobNotification(event: JobEvent, lifecycle: Lifecycle, lookup: TransitionLookup | undefined): Notification {
  const j = event.job;
  const key = exportDedupeKey('job', j.backend, j.nativeId, j.attempt, lifecycle);
  const proj = project(j.backend, j.projectNativeId, lookup);
  const pipeline = lookup?.pipeline(j.backend, j.pipelineNativeId);
  return {
    ...base(key, lifecycle, j.status, occurredAt(lifecycle, j, event.receivedAt), event.receivedAt, j.backend, j.native.provider),
    project: proj,
    pipeline: pipeline ? notifiedPipeline(pipeline, []) : null,
    job: notifiedJob(j),
    summary: `${proj?.fullName ?? j.projectNativeId} job ${j.name}: ${lifecycle === 'finished' ? j.status : lifecycle}`,
  };
}

/**
 * The CDEvents stream's messages for one change (notifications.exports.cdevents): a pipeline
 * entering queued, started or finished; with `jobs`, a job entering started or finished (v0.5.1
 * has no taskrun.queued). Stand-ins that became another pipeline (Jenkins queue items) and
 * runner changes send nothing. Pure: the same change gives the same messages, so duplicates are
 * the outbox's to drop by dedupeKey.
 */
export function transitionNotifications(event: ChangeEvent, options: { readonly jobs: boolean; readonly lookup?: TransitionLookup }): Notification[] {
  if (event.type === 'Pipeline') {
    if (event.pipeline.aliasOf) return [];
    const lifecycle = enteredLifecycle(event.pipeline.status, event.previousStatus, event.source);
    return lifecycle ? [pipelineNotification(event, lifecycle, options.lookup)] : [];
  }
  if (event.type === 'Job' && options.jobs) {
    const lifecycle = enteredLifecycle(event.job.status, event.previousStatus, event.source);
    return lifecycle && lifecycle !== 'queued' ? [jobNotification(event, lifecycle, options.lookup)] : [];
  }
  return [];
}
