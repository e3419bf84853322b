import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { HistoryStore } from '../../history/history-store.ts';
import type { HistoryTask } from '../../history/history-service.ts';
import type { OutboxApi } from '../notify-context.ts';
import type { NotificationsConfig } from '../notify-config.ts';
import type { NotificationSink } from '../sink.ts';
import { deliveryMetrics } from './delivery-metrics.ts';
import { DeliveryWorker } from './delivery-worker.ts';
import { OutboxStore } from './outbox-store.ts';

export interface NotificationDeliveryOptions {
  /** The history (HistoryService): `store()` gives the open store or throws naming why there is none. */
  readonly history: { store(): HistoryStore };
  readonly sinks: ReadonlyMap<string, NotificationSink>;
  readonly config: NotificationsConfig;
  readonly log: Logger;
  readonly now: () => Date;
  /** The gateway's Prometheus registry: the outbox's families are registered on it. */
  readonly metrics?: Registry;
  /** Tests shorten or lengthen the poll. */
  readonly pollMs?: number;
}

export interface NotificationDelivery {
  /** For rules, watches and exports (enqueue) and for resolvers (list, redrive, counts). */
  readonly outbox: OutboxApi;
  /** Add with `history.addTask(task)`: it sends while the history is open. */
  readonly task: HistoryTask & { readonly sender: string };
}

/**
 * The outbox and its worker, wired: an enqueue or a redrive on this instance wakes the worker at
 * once, so a message leaves within milliseconds rather than at the next poll.
 */
export function createNotificationDelivery(options: NotificationDeliveryOptions): NotificationDelivery {
  const store = new OutboxStore(() => options.history.store(), options.now);
  const observer = options.metrics ? deliveryMetrics(options.metrics, () => store.counts()) : undefined;
  const worker = new DeliveryWorker({
    sinks: options.sinks, config: options.config, log: options.log, now: options.now,
    ...(observer ? { observer } : {}), ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
  });
  const outbox: OutboxApi = {
    async enqueue(notification, sinks) {
      const inserted = await store.enqueue(notification, sinks);
      if (inserted > 0) worker.wake();
      return inserted;
    },
    list: (filter, scope) => store.list(filter, scope),
    async redrive(target, allowed) {
      const redriven = await store.redrive(target, allowed);
      if (redriven > 0) worker.wake();
      return redriven;
    },
    counts: () => store.counts(),
  };
  return { outbox, task: worker };
}
