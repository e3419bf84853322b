import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { BackendRegistry } from '../backend-registry.ts';
import type { ChangeEvent } from '../events/event-types.ts';
import type { HistoryService, HistoryTask } from '../history/history-service.ts';
import type { LiveState } from '../state/live-state.ts';
import { CdeventsExport, liveStateLookup } from './cdevents/cdevents-export.ts';
import { createNotificationDelivery } from './delivery/create-delivery.ts';
import type { NotificationContext } from './notify-context.ts';
import type { NotificationsConfig } from './notify-config.ts';
import type { NotificationEnqueuer } from './outbox-port.ts';
import { createNotificationRules } from './rules/create-notification-rules.ts';
import { createSinks, isLogSink, type LogSink } from './sinks/index.ts';

export interface NotificationsAssembly {
  /** For resolvers: always present, so `notificationRules` answers `[]` when none are configured. */
  readonly context: NotificationContext;
  /** Follow the ingestor's accepted changes (rules, the CDEvents export). */
  readonly observers: readonly { observe(event: ChangeEvent): unknown }[];
  /** Run while the history is open (the delivery worker, the rule timers). */
  readonly tasks: readonly HistoryTask[];
  /** The `log` sinks, for demo mode's receiver page. */
  readonly logSinks: readonly LogSink[];
}

export interface NotificationsOptions {
  readonly config: NotificationsConfig;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  readonly now: () => Date;
  readonly state: LiveState;
  readonly registry: BackendRegistry;
  readonly history: HistoryService;
  readonly metrics?: Registry;
}

/**
 * Notifications (issue 16) from their config: the sinks (secrets resolved and URLs checked now, so
 * a bad one stops the start), the outbox and its worker in the history database, the rule engine
 * and the CDEvents export. Nothing is built without a sink.
 */
export function assembleNotifications(options: NotificationsOptions): NotificationsAssembly {
  const { config, log, now } = options;
  if (config.sinks.length === 0) return { context: { config, outbox: null, watches: null }, observers: [], tasks: [], logSinks: [] };
  const sinks = createSinks(config.sinks, { env: options.env, log });
  const delivery = createNotificationDelivery({ history: options.history, sinks, config, log, now, ...(options.metrics ? { metrics: options.metrics } : {}) });
  const rules = createNotificationRules({
    config, enqueuer: delivery.outbox, state: options.state, registry: options.registry, history: options.history, historyReady: () => options.history.ready, log, now,
  });
  // Changes seen while an embedded PGlite still opens wait for it, rather than failing to queue.
  const whenOpen: NotificationEnqueuer = {
    async enqueue(notification, sinks) {
      await options.history.ready.catch(() => undefined);
      return delivery.outbox.enqueue(notification, sinks);
    },
  };
  const exportConfig = config.exports.cdevents;
  const cdevents = exportConfig ? new CdeventsExport(exportConfig, { enqueuer: whenOpen, log, lookup: liveStateLookup(options.state) }) : null;
  return {
    context: { config, outbox: delivery.outbox, watches: rules.watches },
    observers: [rules.observer, ...(cdevents ? [cdevents] : [])],
    tasks: [delivery.task, rules.task],
    logSinks: [...sinks.values()].filter(isLogSink),
  };
}
