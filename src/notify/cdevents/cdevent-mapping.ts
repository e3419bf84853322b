import type { CiStatus } from '../../model.ts';
import type { NotifiedJob, NotifiedPipeline, Notification } from '../notification.ts';
import type { SinkDelivery } from '../sink.ts';
import { CDEVENT_TYPES, CDEVENTS_SPEC_VERSION, type CdEvent, type CdeventOutcome, type CdeventType, type PipelineRunContent, type TaskRunContent } from './cdevent-types.ts';

/**
 * A finished run's CDEvents `outcome` (NOTIFICATIONS.md has the table). CDEvents knows four
 * outcomes; UNSTABLE and TIMED_OUT are failures whose kind goes in `errors`. SKIPPED has no
 * CDEvents equivalent: it maps to `cancel` (the run ended without doing its work, and is nobody's
 * failure) so a receiver that saw it queued still sees it end. Null for a status that is not finished.
 */
export function cdeventOutcome(status: CiStatus): CdeventOutcome | null {
  switch (status) {
    case 'SUCCESS':
      return 'success';
    case 'FAILURE':
    case 'UNSTABLE':
    case 'TIMED_OUT':
      return 'failure';
    case 'ERROR':
      return 'error';
    case 'CANCELED':
    case 'SKIPPED':
      return 'cancel';
    case 'PENDING':
    case 'QUEUED':
    case 'WAITING':
    case 'RUNNING':
    case 'CANCELING':
    case 'UNKNOWN':
      return null;
  }
}

/** Which event a notification is, or why it is none (a pool or backend message, a job entering the queue). */
export function cdeventType(notification: Notification): CdeventType | { readonly unsupported: string } {
  const { lifecycle, job, pipeline } = notification;
  if (lifecycle === null) return { unsupported: `trigger "${notification.trigger}" is not a pipeline or job lifecycle change` };
  if (job) {
    if (lifecycle === 'queued') return { unsupported: 'CDEvents v0.5.1 has no taskrun.queued event' };
    return lifecycle === 'started' ? CDEVENT_TYPES.taskRunStarted : CDEVENT_TYPES.taskRunFinished;
  }
  if (!pipeline) return { unsupported: `a ${lifecycle} notification without a pipeline or job` };
  return lifecycle === 'queued' ? CDEVENT_TYPES.pipelineRunQueued : lifecycle === 'started' ? CDEVENT_TYPES.pipelineRunStarted : CDEVENT_TYPES.pipelineRunFinished;
}

/**
 * `uri`: the run's page. The schemas want an absolute URI, and pipelinerun.started requires one:
 * a run without an http(s) URL that parses gets a URN naming it (`urn:switchyard:pipeline:<global id>`),
 * never a broken value.
 */
function runUri(url: string | null, kind: 'pipeline' | 'job', id: string): string {
  if (url) {
    try {
      // A page is http(s); anything else WHATWG parses (`a:`) is no URI the schemas' format accepts.
      const parsed = new URL(url);
      if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return parsed.href;
    } catch {
      // fall through to the URN
    }
  }
  return `urn:switchyard:${kind}:${encodeURIComponent(id)}`;
}

const nativeText = (n: { readonly status: string | null; readonly conclusion: string | null }) => [n.status, n.conclusion].filter((v) => v !== null).join('/');

/** `errors`: what went wrong, in words, for every outcome but success (the spec's examples: "Timeout during execution"). */
function pipelineErrors(p: NotifiedPipeline): string | undefined {
  if (p.status === 'SUCCESS') return undefined;
  const lines = [`pipelineRun ${p.status.toLowerCase().replace('_', ' ')} (${p.native.provider}: ${nativeText(p.native) || 'no native status'})`];
  if (p.native.failureReason) lines.push(`reason: ${p.native.failureReason}`);
  for (const j of p.failingJobs) lines.push(`job ${j.name}: ${j.status}${j.reason ? ` (${j.reason})` : ''}`);
  return lines.join('\n');
}

function jobErrors(j: NotifiedJob): string | undefined {
  if (j.status === 'SUCCESS') return undefined;
  const lines = [`taskRun ${j.status.toLowerCase().replace('_', ' ')} (${j.native.provider}: ${nativeText(j.native) || 'no native status'})`];
  if (j.reason) lines.push(`reason: ${j.reason}`);
  return lines.join('\n');
}

function finished(status: CiStatus, errors: string | undefined): Pick<PipelineRunContent, 'outcome' | 'errors'> {
  const outcome = cdeventOutcome(status);
  if (!outcome) return {};
  return { outcome, ...(errors ? { errors } : {}) };
}

/** Switchyard's fields that CDEvents has no place for; null values are left out. */
function customData(n: Notification): Record<string, unknown> {
  const subject = n.job ?? n.pipeline;
  const data: Record<string, unknown> = {
    notificationId: n.id,
    trigger: n.trigger,
    rule: n.rule,
    category: n.category,
    backend: n.backend,
    provider: n.provider,
    status: subject?.status,
    native: subject?.native,
    project: n.project?.fullName ?? n.project?.nativeId,
    projectId: n.project?.id,
    pipelineNativeId: n.pipeline?.nativeId,
    pipelineNumber: n.pipeline?.number,
    attempt: n.pipeline?.attempt,
    branch: n.pipeline?.branch,
    commitSha: n.pipeline?.commitSha,
    actor: n.pipeline?.actor,
    durationMs: n.lifecycle === 'finished' && !n.job ? n.pipeline?.durationMs : undefined,
    jobNativeId: n.job?.nativeId,
    runnerName: n.job?.runnerName,
    labels: n.job && n.job.labels.length > 0 ? n.job.labels : undefined,
    flaky: n.job?.flaky || undefined,
    summary: n.summary,
  };
  for (const key of Object.keys(data)) if (data[key] === null || data[key] === undefined) delete data[key];
  return data;
}

/**
 * A notification as the CDEvent a CDEvents sink sends: the pipeline's (or, when `job` is set, the
 * job's) lifecycle change. `context.id` is the outbox row's delivery id and `timestamp` the
 * transition's time, both stable across retries as the spec asks. Subject ids are the gateway's
 * global ids (the same for every event of a pipeline or job, attempts included: the attempt is in
 * customData). Returns the reason when the notification is not a CDEvents event.
 */
export function toCdevent(delivery: SinkDelivery, source: string): CdEvent | { readonly unsupported: string } {
  const n = delivery.notification;
  const type = cdeventType(n);
  if (typeof type !== 'string') return type;
  const context = { specversion: CDEVENTS_SPEC_VERSION, id: delivery.deliveryId, source, type, timestamp: n.occurredAt };
  const isFinished = n.lifecycle === 'finished';
  let subject: CdEvent['subject'];
  if (n.job) {
    const j = n.job;
    const pipelineId = j.pipelineId ?? n.pipeline?.id;
    const content: TaskRunContent = {
      taskName: j.name,
      uri: runUri(j.url, 'job', j.id),
      ...(pipelineId ? { pipelineRun: { id: pipelineId, source } } : {}),
      ...(isFinished ? finished(j.status, jobErrors(j)) : {}),
    };
    subject = { id: j.id, source, content };
  } else {
    const p = n.pipeline!;
    // pipelinerun.started requires a name: the run's, its title, else its project's, else its native id.
    const content: PipelineRunContent = {
      pipelineName: p.name ?? p.title ?? n.project?.fullName ?? n.project?.nativeId ?? p.nativeId,
      uri: runUri(p.url, 'pipeline', p.id),
      ...(isFinished ? finished(p.status, pipelineErrors(p)) : {}),
    };
    subject = { id: p.id, source, content };
  }
  return { context, subject, customData: customData(n), customDataContentType: 'application/json' };
}
