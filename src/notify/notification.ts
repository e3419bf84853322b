import { createHash } from 'node:crypto';
import type { CiStatus, NativeStatus } from '../model.ts';

/**
 * What a rule fires on: transitions, never states (issue 16). The order is the order of the docs
 * (NOTIFICATIONS.md) and of `NotificationTrigger` in schema/notifications.graphql.
 */
export const TRIGGER_KINDS = [
  'failed', // the branch went green (or unknown) -> red
  'fixed', // red -> green
  'still-failing', // red -> red, rate limited per branch
  'finished', // a watched pipeline finished (watchPipeline), or every finish when a rule asks
  'canceled',
  'queued-longer-than', // a job (or pipeline) waited longer than a duration
  'running-longer-than', // longer than a duration or the historical p95
  'runner-pool-starved', // queue above N or oldest wait above T
  'runner-pool-empty', // every runner of a pool offline while jobs wait for it
  'backend-down',
  'webhooks-silent', // no webhook from a backend for longer than a duration while it is polled
  'transition', // exports only (notifications.exports.cdevents): every pipeline and job lifecycle change
] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

/**
 * Who should hear about a failure. `infrastructure`: ERROR, and TIMED_OUT when the runner failed or
 * was lost (not the code's fault); `code`: FAILURE, UNSTABLE, a TIMED_OUT the job itself ran into.
 * `none` for triggers that are not failures (fixed, finished green, a pool, a backend).
 */
export type FailureCategory = 'code' | 'infrastructure' | 'none';

export interface NotifiedJob {
  readonly id: string; // global GraphQL id
  readonly nativeId: string;
  /** Global id of the job's pipeline (a CDEvents taskrun names its pipelinerun); absent when the builder did not set it. */
  readonly pipelineId?: string;
  readonly name: string;
  readonly status: CiStatus;
  readonly native: NativeStatus;
  readonly url: string | null;
  readonly category: FailureCategory;
  /** The native failure reason, when the backend gives one. */
  readonly reason: string | null;
  readonly runnerName: string | null;
  readonly labels: readonly string[];
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly queuedAt: string | null;
  /** Failed and passed on the same commit before (history's flake data); `flaky` rules may suppress it. */
  readonly flaky: boolean;
}

export interface NotifiedPipeline {
  readonly id: string;
  readonly nativeId: string;
  readonly name: string | null;
  readonly title: string | null;
  readonly number: number | null;
  readonly attempt: number;
  readonly status: CiStatus;
  readonly native: NativeStatus;
  readonly url: string | null;
  readonly branch: string | null;
  readonly commitSha: string | null;
  readonly actor: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  /** Jobs that did not succeed (FAILURE, UNSTABLE, TIMED_OUT, ERROR), with their reasons. */
  readonly failingJobs: readonly NotifiedJob[];
}

export interface NotifiedPool {
  /** The label set jobs ask for (sorted). */
  readonly labels: readonly string[];
  readonly online: number;
  readonly busy: number;
  readonly idle: number;
  readonly offline: number;
  readonly queued: number;
  readonly oldestWaitSeconds: number | null;
}

/**
 * One message, whatever the sink: the Standard Webhooks payload is this object (its JSON Schema is
 * docs/notification-webhook.schema.json, the envelope `{type, timestamp, data}`); Slack, Teams and CDEvents format it. Pure data, JSON-serializable:
 * it is stored in the outbox as it is and re-sent unchanged on every retry.
 */
export interface Notification {
  /** Stable across retries and instances: derived from `dedupeKey` (the `webhook-id` of signed webhooks). */
  readonly id: string;
  /**
   * One message per (rule, sink, subject, attempt, trigger): the outbox refuses a second row with the
   * same key, so a webhook plus a poll, or two instances, send once. Built by `dedupeKey()` in rules.
   */
  readonly dedupeKey: string;
  readonly trigger: TriggerKind;
  /** The rule that fired (`watch:<id>` for a personal watch; `export:cdevents` for the CDEvents stream). */
  readonly rule: string;
  readonly category: FailureCategory;
  /** When the transition happened (the pipeline's finish, the wait crossing its bound...), ISO-8601. */
  readonly occurredAt: string;
  /** When the gateway noticed it, ISO-8601: delivery latency is measured from here. */
  readonly detectedAt: string;
  readonly backend: string;
  readonly provider: string;
  readonly project: { readonly id: string; readonly nativeId: string; readonly fullName: string | null; readonly url: string | null } | null;
  readonly pipeline: NotifiedPipeline | null;
  /** The job a job-level trigger is about (queued/running longer than, a CDEvents taskrun). */
  readonly job: NotifiedJob | null;
  /** For failed/fixed/still-failing: the last finished pipeline before this one on the branch. */
  readonly previous: { readonly pipelineId: string; readonly status: CiStatus; readonly finishedAt: string | null } | null;
  /** For fixed and still-failing: when the branch turned red, and how many red pipelines since. */
  readonly red: { readonly since: string; readonly pipelines: number } | null;
  readonly pool: NotifiedPool | null;
  /** For backend-down and webhooks-silent. */
  readonly backendHealth: { readonly state: string; readonly cause: string | null; readonly since: string | null } | null;
  /**
   * What happened to the subject (the pipeline, or `job` when set): CDEvents' pipelinerun/taskrun
   * queued, started or finished. Rules about a finished pipeline say `finished`; pool and backend
   * triggers say null.
   */
  readonly lifecycle: 'queued' | 'started' | 'finished' | null;
  /** One line for people: "acme/api main: CI failed (2 jobs) after 4m 12s". */
  readonly summary: string;
}

/** `Notification.id`: the same key gives the same id on every instance. */
export function notificationId(dedupeKey: string): string {
  return `ntf_${createHash('sha256').update(dedupeKey).digest('base64url').slice(0, 22)}`;
}

/**
 * An outbox row's id, one per (message, sink): the `webhook-id` of Standard Webhooks (whose
 * examples use `msg_` ids) and the CloudEvents `id`, stable across retries and instances.
 */
export function deliveryId(dedupeKey: string, sink: string): string {
  return `msg_${createHash('sha256').update(`${dedupeKey}\n${sink}`).digest('base64url').slice(0, 22)}`;
}
