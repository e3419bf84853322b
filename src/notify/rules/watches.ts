import { randomUUID } from 'node:crypto';
import { historyPipelinesByIds } from '../../history/history-lists.ts';
import { fromGlobalId } from '../../ids.ts';
import { isTerminal, type PipelineModel } from '../../model.ts';
import type { Notification, NotifiedJob } from '../notification.ts';
import type { WatchApi, WatchResult } from '../notify-context.ts';
import type { ProjectInfo } from './build-notification.ts';
import { buildNotification, failingJobs, notifiedJob, notifiedPipeline, notifiedProject } from './build-notification.ts';
import { pipelineKey } from './dedupe-key.ts';
import { failureCategory, pipelineCategory } from './failure-category.ts';
import { pipelineSummary } from './summary.ts';
import type { EngineDeps } from './engine-deps.ts';
import { NotifyCode, type NotificationErrorCode } from '../notification-error-code.ts';


/** A refusal `watchPipeline` reports in its payload's `errors`. */
export class NotificationError extends Error {
  constructor(readonly code: NotificationErrorCode, message: string) {
    super(message);
    this.name = 'NotificationError';
  }
}

const INSERT_WATCH = `INSERT INTO notify_watches (id, backend, pipeline_native_id, sink, watcher, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $7::timestamptz)
ON CONFLICT ON CONSTRAINT notify_watches_once DO UPDATE SET expires_at = EXCLUDED.expires_at
RETURNING id`;
const WATCHES_OF = `SELECT id, sink FROM notify_watches WHERE backend = $1 AND pipeline_native_id = $2 AND expires_at > $3::timestamptz`;
const DELETE_WATCHES = `DELETE FROM notify_watches WHERE id = ANY($1::text[])`;
const DELETE_EXPIRED = `DELETE FROM notify_watches WHERE expires_at <= $1::timestamptz`;

export type WatchDeps = EngineDeps;

/** The one `finished` message of a watch (rule `watch:<id>`): its key names the watch, so one per watch whoever sends it. */
export function watchNotification(watchId: string, pipeline: PipelineModel, project: ProjectInfo | null, failing: readonly NotifiedJob[], detectedAt: string): Notification {
  const own = failureCategory(pipeline.status, pipeline.native);
  const category = pipelineCategory(own, failing.map((j) => j.category));
  const notified = notifiedPipeline(pipeline, failing);
  const rule = `watch:${watchId}`;
  return buildNotification(
    {
      dedupeKey: pipelineKey(rule, 'finished', pipeline.backend, pipeline.nativeId, pipeline.attempt), trigger: 'finished', rule, category,
      occurredAt: pipeline.finishedAt ?? detectedAt, detectedAt, backend: pipeline.backend, provider: pipeline.native.provider,
      summary: pipelineSummary({
        trigger: 'finished', project: project?.fullName ?? pipeline.projectNativeId, branch: pipeline.branch,
        pipelineName: pipeline.name ?? pipeline.title ?? `#${pipeline.number ?? pipeline.nativeId}`, status: pipeline.status,
        durationMs: notified.durationMs, failingJobs: failing, red: null,
      }),
    },
    { project: notifiedProject(pipeline.backend, project), pipeline: notified, lifecycle: 'finished' },
  );
}

/**
 * Personal watches (`watchPipeline`), kept in the history database so any instance that sees
 * the pipeline finish sends the message: enqueued first, then the watch deleted (a crash in
 * between sends again, and the outbox keeps one).
 */
export class PipelineWatches implements WatchApi {
  constructor(private readonly deps: WatchDeps) {}

  async watch(pipelineId: string, sink: string, watcher: string): Promise<WatchResult> {
    const { config, history, state, now } = this.deps;
    const parts = fromGlobalId(pipelineId);
    if (!parts || parts.type !== 'Pipeline') throw new NotificationError(NotifyCode.NotFound, `no pipeline with id "${pipelineId}"`);
    const sinkConfig = config.sinks.find((s) => s.name === sink);
    if (!sinkConfig) throw new NotificationError(NotifyCode.InvalidSink, `no sink named "${sink}"`);
    if (!sinkConfig.watchable) throw new NotificationError(NotifyCode.InvalidSink, `the sink "${sink}" is not watchable`);
    if (!history.enabled) throw new NotificationError(NotifyCode.NotConfigured, 'watches live in the history database, which is off');
    const created = now();
    const expiresAt = new Date(created.getTime() + config.watchTtlHours * 3_600_000).toISOString();
    const id = `wch_${randomUUID()}`;
    await history.read((store) => store.query(INSERT_WATCH, [id, parts.backend, parts.nativeId, sink, watcher, created.toISOString(), expiresAt]));
    // Registered first, then looked at: a finish between the two is sent by whoever sees it, once.
    const pipeline = state.get('Pipeline', parts.backend, parts.nativeId) ?? (await this.recorded(parts.backend, parts.nativeId));
    if (pipeline && isTerminal(pipeline.status)) {
      await this.finished(pipeline, created.toISOString());
      return { expiresAt: null, alreadyFinished: true };
    }
    return { expiresAt, alreadyFinished: false };
  }

  /** Finished before the live window: as the history recorded it (null when not recorded). */
  private async recorded(backend: string, nativeId: string): Promise<PipelineModel | null> {
    const providerOf = (name: string) => this.deps.registry.get(name)?.adapter.provider ?? 'unknown';
    const [found] = await this.deps.history.read((store) => historyPipelinesByIds(store, [{ backend, nativeId }], providerOf));
    return found?.entity ?? null;
  }

  /** A pipeline finished: one message per live watch of it, then the watches go. */
  async finished(pipeline: PipelineModel, detectedAt: string): Promise<number> {
    const { history, enqueuer, state, project } = this.deps;
    const watches = await history.read((store) => store.query<{ id: string; sink: string }>(WATCHES_OF, [pipeline.backend, pipeline.nativeId, this.deps.now().toISOString()]));
    if (watches.length === 0) return 0;
    const info = await project(pipeline.backend, pipeline.projectNativeId);
    const failing = failingJobs(state.knownPipelineJobs(pipeline.backend, pipeline.nativeId)).map((j) => notifiedJob(j, false));
    let sent = 0;
    for (const w of watches) {
      sent += await enqueuer.enqueue(watchNotification(w.id, pipeline, info, failing, detectedAt), [w.sink]);
    }
    await history.read((store) => store.query(DELETE_WATCHES, [watches.map((w) => w.id)]));
    return sent;
  }

  async expire(): Promise<number> {
    const rows = await this.deps.history.read((store) => store.transaction(async (tx) => (await tx.query(DELETE_EXPIRED, [this.deps.now().toISOString()])).affected));
    return rows;
  }
}
