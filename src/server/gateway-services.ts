import type { Logger } from 'pino';
import { auditKeyOption, createFileAuditLog, createNullAuditLog, type AuditLog } from '../audit/audit-log.ts';
import { createActionServices } from '../actions/action-services.ts';
import { CredentialWatcher } from '../auth/credential-watcher.ts';
import { createBackendRegistry, type BackendRegistry } from '../backend-registry.ts';
import type { AdapterFactories, GatewayConfig } from '../config/load-config.ts';
import { createSecretResolver } from '../config/secret.ts';
import type { GatewayServices } from '../context.ts';
import { eventStoreFactory } from '../events/create-event-store.ts';
import { EventBus } from '../events/event-bus.ts';
import { RollupRefresher } from '../history/rollups/rollup-refresher.ts';
import { BackfillService } from '../history/backfill/backfill-service.ts';
import { HistoryService } from '../history/history-service.ts';
import { liveProjectNames } from '../history/project-names.ts';
import type { ChangeEvent } from '../events/event-types.ts';
import { Ingestor } from '../ingest/ingestor.ts';
import { createLogServices } from '../logs/log-services.ts';
import { assembleNotifications } from '../notify/assemble-notifications.ts';
import type { LogSink } from '../notify/sinks/index.ts';
import { PollScheduler } from '../ingest/poll-scheduler.ts';
import { PublishConfirmations } from '../ingest/publish-confirmations.ts';
import { ListCache } from '../loaders/list-cache.ts';
import { NotFoundCache } from '../loaders/not-found-cache.ts';
import { UpstreamBudget } from '../loaders/upstream-budget.ts';
import { applySharedEvent } from '../state/apply-shared-event.ts';
import { LiveState } from '../state/live-state.ts';
import { eventLoopLag, LoadShedder, type EventLoopLagSource } from './load-shedding.ts';
import { CicdMetrics } from '../metrics/cicd-metrics.ts';
import type { GatewayMetrics } from '../metrics/gateway-metrics.ts';
import type { GatewayTracing } from '../tracing/gateway-tracing.ts';
import { PipelineTraces } from '../tracing/pipeline-traces.ts';

/** How long a "not found" answer stands for an id, and how many are remembered. */
const NOT_FOUND_TTL_MS = 60_000;
const NOT_FOUND_MAX_ENTRIES = 50_000;
/** The write-behind buffer's longest wait on embedded PGlite (PostgreSQL keeps the writer's 100 ms): bench/README.md section 9. */
const EMBEDDED_FLUSH_MS = 500;

export interface ServiceOptions {
  readonly config: GatewayConfig;
  readonly factories: AdapterFactories;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  readonly now: () => Date;
  readonly audit?: AuditLog;
  readonly lagSource?: EventLoopLagSource;
  /** /metrics (null when `metrics.enabled` is false): the core's parts report into it. */
  readonly metrics?: GatewayMetrics | null;
  /** OpenTelemetry traces (null unless `tracing.enabled`): upstream reads are traced at the policy. */
  readonly tracing?: GatewayTracing | null;
}

/** The gateway's long-lived services (Hive Gateway's injected services): built once, handed to every plugin that needs them. */
export interface AssembledServices {
  readonly services: GatewayServices;
  readonly registry: BackendRegistry;
  readonly bus: EventBus;
  readonly scheduler: PollScheduler;
  readonly shedder: LoadShedder;
  readonly credentials: CredentialWatcher;
  readonly audit: AuditLog;
  /** The durable history (opened by the gateway's listen, closed by its close). */
  readonly history: HistoryService;
  /** The history's backfill: a reload adds and removes backends in it. */
  readonly backfill: BackfillService;
  /** False once the audit log raised an integrity alarm (reported by /readyz). */
  readonly auditIntact: () => boolean;
  /** Notification `log` sinks (demo mode's receiver page lists their messages). */
  readonly logSinks: readonly LogSink[];
}

export function assembleServices(options: ServiceOptions): AssembledServices {
  const { config, log, now } = options;
  const metrics = options.metrics ?? null;
  const tracing = options.tracing ?? null;
  const registry = createBackendRegistry(config, options.factories, { log, env: options.env, now, metrics, tracer: tracing?.tracer ?? null });
  const state = new LiveState(config.liveStateMaxEntries);
  // With a shared (Redis) store, events published by other instances update this instance's state too.
  // The store's append reports let the webhook route acknowledge only what was stored.
  const confirmations = new PublishConfirmations();
  const storeHooks = { shared: (event: ChangeEvent) => applySharedEvent(state, event, now().getTime()), appended: confirmations.settle };
  const bus = new EventBus(config.subscriptionQueueLimit, eventStoreFactory(config.events, log, storeHooks), undefined, metrics ?? undefined);
  // The history names projects from the live state (a project it lacks is read once and kept there).
  const projectNames = liveProjectNames(state, registry, (project) => state.apply(project, now().getTime()), log, () => now().getTime());
  // With Redis events, the history consumes the event streams (a consumer group, ack after commit).
  const { events } = config;
  const streams = config.history.enabled && events.store === 'redis'
    ? { redisUrl: events.redisUrl, streamPrefix: events.streamPrefix, retained: { maxEvents: events.historyMaxEvents, maxAgeSeconds: events.historyMaxAgeSeconds } }
    : null;
  // Embedded PGlite: fewer, larger batches (a statement's fixed cost is most of a small batch's, on the gateway's CPU).
  const writer = config.history.url ? {} : { flushMs: EMBEDDED_FLUSH_MS };
  const history = new HistoryService(config.history, createSecretResolver(options.env), log, now, { streams, projectName: projectNames, writer, ...(metrics ? { onWritten: (lagMs: number) => metrics.written(lagMs) } : {}) });
  const backfill = new BackfillService(registry.all(), config.history.backfill, log, now);
  history.addTask(backfill);
  history.addTask(new RollupRefresher(log, config.history.rollupIntervalSeconds * 1000));
  // CI metrics follow the same published changes as the history (runs seen finishing).
  const cicd = metrics ? new CicdMetrics(metrics.registry, { state, backends: registry, projectLabels: config.metrics.projectLabels, now }) : null;
  const pipelineTraces = tracing && config.tracing.exportPipelines ? new PipelineTraces(tracing.tracer, state) : null;
  // Notifications (issue 16): sinks are built (and their secrets checked) now; the outbox and the rule timers run with the history.
  const notifications = assembleNotifications({
    config: config.notifications, env: options.env, log, now, state, registry, history, ...(metrics ? { metrics: metrics.registry } : {}),
  });
  for (const task of notifications.tasks) history.addTask(task);
  const observers = [history, ...(cicd ? [cicd] : []), ...(pipelineTraces ? [pipelineTraces] : []), ...notifications.observers];
  const ingestor = new Ingestor(state, bus, registry, log, now, confirmations, observers.length === 1 ? (event) => history.observe(event) : (event) => {
    for (const o of observers) o.observe(event);
  });
  const freshnessMs = config.freshnessSeconds * 1000;
  const shedder = new LoadShedder(config.server.shedding, options.lagSource ?? eventLoopLag(), log);
  const credentials = new CredentialWatcher(now);
  const services: GatewayServices = {
    registry, state, bus, ingestor, now, credentials, history, load: () => shedder.current,
    listCache: new ListCache(freshnessMs, () => now().getTime()),
    loaderSettings: {
      state, ingestor, freshnessMs, timeoutMs: config.backendTimeoutMs, now,
      notFound: new NotFoundCache(NOT_FOUND_TTL_MS, NOT_FOUND_MAX_ENTRIES, () => now().getTime()),
      budget: new UpstreamBudget(config.limits.upstreamCallsPerIdentityPerMinute, () => now().getTime()),
    },
  };
  const scheduler = new PollScheduler(registry.all(), ingestor, log, now, metrics ?? undefined);
  let auditIntact = true;
  const audit =
    options.audit ??
    (config.audit.file
      ? createFileAuditLog(config.audit.file, {
        now, fsync: config.audit.fsync, ...auditKeyOption(config.audit.hmacKey, createSecretResolver(options.env)),
        onError: (e) => log.error({ err: e.message }, 'audit log write failed'),
        // Alarm, not refuse: the API keeps serving; /readyz reports it and the log records it.
        onIntegrityProblem: (problem) => {
          auditIntact = false;
          log.error({ problem, file: config.audit.file }, 'audit log integrity alarm');
        },
      })
      : createNullAuditLog());
  // Actions write to the same audit log, and re-read through the same ingestor.
  const actions = createActionServices({ config, audit, state, ingestor, log, now });
  // Live logs (issue 17): tails shared through the chunk bus (Redis when events are), reads under each backend's policy and the callers' budgets.
  const logs = createLogServices({
    config: config.logs, events: config.events, registry, state, bus, ingestor, budget: services.loaderSettings.budget,
    timeoutMs: config.backendTimeoutMs, audit, metrics: metrics?.registry ?? null, log,
  });
  return {
    services: { ...services, actions, notifications: notifications.context, logs }, registry, bus, scheduler, shedder, credentials, audit, history, backfill,
    auditIntact: () => auditIntact, logSinks: notifications.logSinks,
  };
}
