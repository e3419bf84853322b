import type { Logger } from 'pino';
import type { Notification } from '../notification.ts';
import type { NotificationSink, SendOutcome, SinkDelivery } from '../sink.ts';

/** One message the log sink received, as the demo page shows it. */
export interface LoggedNotification {
  readonly sink: string;
  readonly deliveryId: string;
  readonly attempt: number;
  /** When this sink received it, ISO-8601. */
  readonly receivedAt: string;
  readonly notification: Notification;
}

export interface LogSink extends NotificationSink {
  readonly type: 'log';
  /** The last `keep` messages, oldest first. */
  recent(): readonly LoggedNotification[];
  /** Called for each message as it arrives; returns the unsubscribe. */
  onMessage(listener: (message: LoggedNotification) => void): () => void;
}

/**
 * Keeps the last `keep` messages in memory and logs each at info: demo mode's receiver (the page at
 * /demo/notifications) and a way to see what rules send without a Slack workspace. It has no
 * secret, and logs the message's identity and summary, not its whole body.
 */
export function createLogSink(options: { readonly name: string; readonly keep: number; readonly log: Logger }): LogSink {
  const ring: LoggedNotification[] = [];
  const listeners = new Set<(message: LoggedNotification) => void>();
  const log = options.log.child({ sink: options.name });
  return {
    name: options.name,
    type: 'log',
    describe: () => `log (last ${options.keep} kept in memory)`,
    recent: () => [...ring],
    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async send(delivery: SinkDelivery, _signal: AbortSignal): Promise<SendOutcome> {
      const n = delivery.notification;
      const message: LoggedNotification = { sink: options.name, deliveryId: delivery.deliveryId, attempt: delivery.attempt, receivedAt: new Date().toISOString(), notification: n };
      ring.push(message);
      if (ring.length > options.keep) ring.splice(0, ring.length - options.keep);
      log.info({ notificationId: n.id, deliveryId: delivery.deliveryId, trigger: n.trigger, rule: n.rule, category: n.category, summary: n.summary }, 'notification');
      for (const listener of listeners) {
        try {
          listener(message);
        } catch (error) {
          // A listener's bug must not turn a delivered message into a retry.
          log.warn({ err: error }, 'a log sink listener threw');
        }
      }
      return { ok: true, status: null };
    },
  };
}

export function isLogSink(sink: NotificationSink): sink is LogSink {
  return sink.type === 'log' && typeof (sink as Partial<LogSink>).recent === 'function';
}
