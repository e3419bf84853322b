import type { Logger } from 'pino';
import type { ChangeEvent } from '../../events/event-types.ts';
import type { LiveState } from '../../state/live-state.ts';
import type { NotificationsConfig } from '../notify-config.ts';
import type { NotificationEnqueuer } from '../outbox-port.ts';
import { transitionNotifications, type TransitionLookup } from './transition-notifications.ts';

export type CdeventsExportConfig = NonNullable<NotificationsConfig['exports']['cdevents']>;

/**
 * `notifications.exports.cdevents`: every pipeline (and, with `jobs`, job) lifecycle change to
 * one CDEvents sink, without rules. It only builds messages and hands them to the outbox, which
 * drops the second of a webhook-plus-poll pair (and of two instances) by dedupeKey.
 */
export class CdeventsExport {
  constructor(
    private readonly config: CdeventsExportConfig,
    private readonly deps: { readonly enqueuer: NotificationEnqueuer; readonly log: Pick<Logger, 'warn'>; readonly lookup?: TransitionLookup },
  ) {}

  /** Resolves with the outbox rows inserted; never rejects (an unavailable history is logged, and the change is not retried from memory). */
  async observe(event: ChangeEvent): Promise<number> {
    const notifications = transitionNotifications(event, { jobs: this.config.jobs, lookup: this.deps.lookup });
    let inserted = 0;
    for (const notification of notifications) {
      try {
        inserted += await this.deps.enqueuer.enqueue(notification, [this.config.sink]);
      } catch (error) {
        this.deps.log.warn({ err: error instanceof Error ? error.message : String(error), sink: this.config.sink, dedupeKey: notification.dedupeKey }, 'CDEvents export: message not queued');
      }
    }
    return inserted;
  }
}

/** The export's lookups, from the gateway's live state. */
export function liveStateLookup(state: Pick<LiveState, 'get' | 'knownPipelineJobs'>): TransitionLookup {
  return {
    project: (backend, nativeId) => state.get('Project', backend, nativeId),
    pipeline: (backend, nativeId) => state.get('Pipeline', backend, nativeId),
    pipelineJobs: (backend, pipelineNativeId) => state.knownPipelineJobs(backend, pipelineNativeId),
  };
}
