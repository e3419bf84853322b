import { toGlobalId } from '../../ids.ts';
import type { JobModel, PipelineModel } from '../../model.ts';
import { notificationId, type Notification, type NotifiedJob, type NotifiedPipeline } from '../notification.ts';
import { RED_STATUSES } from './branch-transition.ts';
import { failureCategory } from './failure-category.ts';

/** A project as messages name it. */
export interface ProjectInfo {
  readonly nativeId: string;
  readonly fullName: string | null;
  readonly url: string | null;
  readonly defaultBranch: string | null;
}

export function notifiedJob(job: JobModel, flaky: boolean): NotifiedJob {
  return {
    id: toGlobalId('Job', job.backend, job.nativeId), nativeId: job.nativeId, name: job.name, status: job.status, native: job.native,
    url: job.url, category: failureCategory(job.status, job.native), reason: job.native.failureReason, runnerName: job.runnerName,
    labels: job.labels, startedAt: job.startedAt, finishedAt: job.finishedAt, queuedAt: job.queuedAt, flaky,
  };
}

/** The pipeline's jobs that did not succeed: the newest attempt of each name (a retried job that then passed is not failing). */
export function failingJobs(jobs: readonly JobModel[]): JobModel[] {
  const latest = new Map<string, JobModel>();
  for (const job of jobs) {
    const known = latest.get(job.name);
    if (!known || job.attempt > known.attempt || (job.attempt === known.attempt && (job.createdAt ?? '') > (known.createdAt ?? ''))) latest.set(job.name, job);
  }
  return [...latest.values()].filter((j) => RED_STATUSES.has(j.status)).sort((a, b) => a.name.localeCompare(b.name));
}

export function durationMs(p: Pick<PipelineModel, 'startedAt' | 'createdAt' | 'finishedAt'>): number | null {
  const start = Date.parse(p.startedAt ?? p.createdAt);
  const end = p.finishedAt ? Date.parse(p.finishedAt) : NaN;
  return Number.isFinite(start) && Number.isFinite(end) && end >= start ? end - start : null;
}

export function notifiedPipeline(p: PipelineModel, failing: readonly NotifiedJob[]): NotifiedPipeline {
  return {
    id: toGlobalId('Pipeline', p.backend, p.nativeId), nativeId: p.nativeId, name: p.name, title: p.title ?? null, number: p.number,
    attempt: p.attempt, status: p.status, native: p.native, url: p.url, branch: p.branch, commitSha: p.commitSha,
    actor: p.actor?.login ?? null, createdAt: p.createdAt, startedAt: p.startedAt, finishedAt: p.finishedAt,
    durationMs: durationMs(p), failingJobs: failing,
  };
}

export function notifiedProject(backend: string, project: ProjectInfo | null): Notification['project'] {
  return project ? { id: toGlobalId('Project', backend, project.nativeId), nativeId: project.nativeId, fullName: project.fullName, url: project.url } : null;
}

/** The fields every message has; the rest default to null. `id` comes from the key. */
export type NotificationParts = Pick<Notification, 'dedupeKey' | 'trigger' | 'rule' | 'category' | 'occurredAt' | 'detectedAt' | 'backend' | 'provider' | 'summary'>;

export function buildNotification(parts: NotificationParts, rest: Partial<Omit<Notification, keyof NotificationParts | 'id'>>): Notification {
  return {
    id: notificationId(parts.dedupeKey), ...parts,
    project: null, pipeline: null, job: null, previous: null, red: null, pool: null, backendHealth: null, lifecycle: null,
    ...rest,
  };
}
