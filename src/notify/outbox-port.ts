import type { Notification } from './notification.ts';

/**
 * How rules, watches and exports hand a message to the outbox (src/notify/delivery): one row per
 * sink, in the history database, so a restart or a sink outage loses nothing. A row whose
 * (notification.dedupeKey, sink) already exists is skipped: that is the deduplication across a
 * webhook plus a poll, redeliveries and instances. Resolves with the rows actually inserted.
 * Rejects (a typed error naming the database) when the history is unavailable: callers log and
 * count it; the transition is not retried from memory.
 */
export interface NotificationEnqueuer {
  enqueue(notification: Notification, sinks: readonly string[]): Promise<number>;
}
