import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.ts';
import { describeAuthPosture } from '../auth/auth-config.ts';
import type { BackendRegistry } from '../backend-registry.ts';
import type { AdapterFactories, GatewayConfig } from '../config/load-config.ts';
import type { GatewayServices } from '../context.ts';
import type { PollScheduler } from '../ingest/poll-scheduler.ts';
import { createLogger } from '../logger.ts';
import { startPeriodicSummary } from './periodic-summary.ts';
import { GraphiQLAssets } from './graphiql-assets.ts';
import { createGatewayAuthentication } from './authentication.ts';
import { BodySlots } from './body-slots.ts';
import { guardConnectionCapacity, type ConnectionCapacity } from './connection-capacity.ts';
import { createCorsPolicy } from './cors.ts';
import type { GatewayRoute } from './gateway-plugin.ts';
import { assembleServices } from './gateway-services.ts';
import type { HistoryService } from '../history/history-service.ts';
import { createGatewayYoga, type GatewayYoga } from './gateway-yoga.ts';
import { createGraphQLHttpRoute } from './graphql-http.ts';
import { createHealthRoutes } from './health-routes.ts';
import { sendJson } from './http-json.ts';
import { IdentitySlots } from './identity-slots.ts';
import { answerClientError, guardRequestListener } from './listener-guards.ts';
import type { EventLoopLagSource } from './load-shedding.ts';
import { parseRequestTarget } from './request-target.ts';
import { createSseStreams } from './sse-streams.ts';
import { SharedSources } from './shared-sources.ts';
import { useSseMultiplexing } from './sse-multiplex.ts';
import { SubscriptionMultiplexer } from './subscription-multiplexer.ts';
import { subscriptionEventFilters } from '../resolvers/subscription-resolvers.ts';
import { prepareReload, type PreparedReload } from './gateway-reload.ts';
import { createWebhookIngress } from './webhook-ingress.ts';
import { createCctrayRoute } from '../notify/cctray/cctray-route.ts';
import { createDemoNotificationsRoute } from '../notify/sinks/index.ts';
import { createBoardRoute } from '../board/board-route.ts';
import { attachWebSockets } from './websocket-transport.ts';
import { createSecretResolver } from '../config/secret.ts';
import { registerGatewayGauges } from '../metrics/gateway-gauges.ts';
import { GatewayMetrics } from '../metrics/gateway-metrics.ts';
import { metricsAccess } from '../metrics/metrics-access.ts';
import { createMetricsListener, createMetricsRoute } from '../metrics/metrics-route.ts';
import { operationMetricsPlugin } from '../metrics/operation-metrics.ts';
import { startTracing } from '../tracing/gateway-tracing.ts';
import { operationTracingPlugin } from '../tracing/operation-tracing.ts';

export const GRAPHQL_PATH = '/graphql';

export interface GatewayOptions {
  readonly config: GatewayConfig;
  readonly factories: AdapterFactories;
  readonly env?: NodeJS.ProcessEnv;
  readonly log?: Logger;
  readonly now?: () => Date;
  /** Start the poll scheduler on listen (default true). */
  readonly polling?: boolean;
  /** Audit trail; default: the file in `config.audit.file` (none when null). */
  readonly audit?: AuditLog;
  /** Where load shedding reads the event-loop lag; default: this process's (perf_hooks). */
  readonly lagSource?: EventLoopLagSource;
  /** Demo mode: serves the notification receiver page (/demo/notifications), which shows every message to anyone. */
  readonly demo?: boolean;
}

export interface Gateway {
  readonly server: Server;
  readonly yoga: GatewayYoga;
  readonly services: GatewayServices;
  readonly registry: BackendRegistry;
  readonly scheduler: PollScheduler;
  readonly log: Logger;
  readonly audit: AuditLog;
  /** The durable history: its store is open once listen() has resolved (when history.enabled). */
  readonly history: HistoryService;
  /** Live subscriptions on every transport (a multiplexed group of identical ones counts each member). */
  readonly subscriptionCount: number;
  /** Multiplexed subscriptions (graphql-ws and SSE): groups (one per distinct operation), members, and the event sources (one bus listener each) they share. */
  readonly multiplexed: { readonly groups: number; readonly members: number; readonly sources: number };
  /** Per-identity connection slots held by WebSocket connections and SSE streams (0 when none is open). */
  readonly connectionSlots: number;
  /** The Prometheus registry behind /metrics (null when `metrics.enabled` is false). */
  readonly metrics: GatewayMetrics | null;
  /** The port of `metrics.listen` once listening (null without one). */
  readonly metricsPort: number | null;
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  reloadApiKeys(apiKeys: GatewayConfig['auth']['apiKeys']): Promise<void>;
  /**
   * SIGHUP: diffs `next` against the config running now and prepares what applies live;
   * throws (nothing changed) when a part cannot be applied. See config/config-reload.ts.
   */
  prepareReload(current: GatewayConfig, next: GatewayConfig): PreparedReload;
  close(graceMs?: number): Promise<void>;
}

/** The root sends browsers to the GraphQL endpoint (GraphiQL when enabled). */
const rootRedirect: GatewayRoute = {
  handles: (pathname) => pathname === '/',
  handle: (_req, res) => void res.writeHead(302, { location: GRAPHQL_PATH }).end(),
};

/**
 * Composes the gateway from its parts: services, authentication (one for
 * HTTP, SSE and WebSocket), the credential watcher, GraphQL over HTTP/SSE and
 * WebSocket, webhook ingress, health; then listen and graceful close.
 */
export function createGateway(options: GatewayOptions): Gateway {
  const { config } = options;
  const now = options.now ?? (() => new Date());
  const log = options.log ?? createLogger(config.logLevel, config.logFormat);
  const env = options.env ?? process.env;
  const metrics = config.metrics.enabled ? new GatewayMetrics() : null;
  // Before anything starts: a token that cannot be resolved is a config error (exit 2).
  const access = metrics
    ? metricsAccess({ bearerToken: config.metrics.bearerToken, ownListener: !!config.metrics.listen, authMode: config.auth.mode, resolveSecret: createSecretResolver(env), source: 'config' })
    : null;
  // Off unless configured: then no exporter exists and nothing is sent.
  const tracing = startTracing(config.tracing, createSecretResolver(env));
  const { services, registry, bus, scheduler, shedder, credentials, audit, history, backfill, auditIntact, logSinks } = assembleServices({
    config, factories: options.factories, env, log, now, ...(options.audit ? { audit: options.audit } : {}), ...(options.lagSource ? { lagSource: options.lagSource } : {}), metrics, tracing,
  });
  const authentication = createGatewayAuthentication({ config: config.auth, env, now, audit, log, credentials });
  const sseStreams = createSseStreams();
  const graphiqlAssets = new GraphiQLAssets();
  // One multiplexer for graphql-ws and SSE: identical subscriptions on both transports share a group.
  const multiplexer = new SubscriptionMultiplexer({ queueLimit: config.subscriptionQueueLimit, queueBytes: config.subscriptionQueueBytes, now: () => now().getTime() });
  // And one set of shared sources: groups on either transport that differ only in their selection listen once.
  const sources = new SharedSources();
  const sseMultiplexing = useSseMultiplexing({
    multiplexer, sources, eventFilters: subscriptionEventFilters, enabled: () => config.server.sseMultiplexing,
    ...(metrics ? { onOverflow: () => metrics.overflow('sse') } : {}),
  });
  const engine = createGatewayYoga({
    config, services, audit, log, path: GRAPHQL_PATH, graphiqlAssets,
    // First: the later plugins' subscribe wrappers (tracing, SSE event ids) wrap the multiplexed join.
    plugins: [sseMultiplexing, sseStreams.plugin, ...(metrics ? [operationMetricsPlugin(metrics.registry)] : []), ...(tracing ? [operationTracingPlugin(tracing)] : [])],
  });
  const { yoga } = engine;
  const cors = createCorsPolicy(config.server.cors);
  const bodySlots = new BodySlots(config.server.maxConcurrentBodies);
  /** One pool for WebSockets and SSE streams: the per-identity connection limit holds on every transport. */
  const identitySlots = new IdentitySlots(config.limits.maxConnectionsPerIdentity);
  const subscriptionLimit = { value: config.limits.maxSubscriptionsPerConnection };
  let ready = false;
  /** Set by listen(): the connection cap and the file-descriptor watch. */
  let capacity: ConnectionCapacity | null = null;
  let summary: { stop(): void } | null = null;

  const webhooks = createWebhookIngress({ config, registry, ingestor: services.ingestor, log, audit, now, bodySlots, metrics, tracing });
  const metricsRoute = metrics && access ? createMetricsRoute(metrics.registry, config.metrics.path, access) : null;
  const metricsListener = metricsRoute && config.metrics.listen ? createMetricsListener(metricsRoute) : null;
  let metricsPort: number | null = null;
  const routes: readonly GatewayRoute[] = [
    // First: a scrape never reaches GraphQL (no rate limit, no operation audit). With `metrics.listen` it is served there only.
    ...(metricsRoute && !metricsListener ? [metricsRoute] : []),
    createHealthRoutes({ registry, shedder, bodySlots, ready: () => ready, capacity: () => capacity, auditIntact, history: () => history.status(),
      requirements: { backend: config.server.readiness.requireBackend, history: config.server.readiness.requireHistory } }),
    webhooks,
    createCctrayRoute({ state: services.state, registry, history, authentication, audit, log, now }),
    createGraphQLHttpRoute({ path: GRAPHQL_PATH, yoga, authentication, cors, shedder, bodySlots, bodyLimitBytes: config.server.bodyLimitBytes, identitySlots }),
    ...(config.server.graphiql ? [graphiqlAssets.route()] : []),
    ...(options.demo && logSinks.length > 0 ? [createDemoNotificationsRoute(logSinks)] : []),
    createBoardRoute(log),
    rootRedirect,
  ];

  // Never a URL from the Host header; failures are answered, never thrown out of the listener.
  const server = createServer(guardRequestListener(log, async (req, res) => {
    const url = parseRequestTarget(req.url);
    if (!url) return sendJson(res, 400, { error: 'bad request target' });
    const route = routes.find((r) => r.handles(url.pathname));
    if (!route) return sendJson(res, 404, { error: 'not found' });
    return route.handle(req, res, url);
  }));
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    capacity?.noteError(error);
    answerClientError(error, socket);
  });
  // Slowloris protection; SSE and WebSocket streams are not affected once headers are in.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  // Idle keep-alive connections outlive the peer's own idle timeout, so a reused connection is never reset under it.
  server.keepAliveTimeout = config.server.idleTimeoutSeconds * 1000;

  const graphqlWs = attachWebSockets(server, {
    path: GRAPHQL_PATH, config, yoga, resolveDocument: engine.resolveDocument, authentication, credentials, identitySlots, cors, shedder, audit, log, now, metrics,
    maxSubscriptionsPerConnection: () => subscriptionLimit.value, multiplexer, sources,
  });
  const subscriptionCount = (): number => {
    // Multiplexed members share their sources' bus listeners.
    const { sources, members } = graphqlWs.multiplexed;
    return bus.subscriberCount - sources + members;
  };
  if (metrics) {
    registerGatewayGauges(metrics.registry, {
      backends: registry,
      transports: () => ({ webSocketConnections: graphqlWs.wss.clients.size, sseStreams: sseStreams.size, subscriptions: subscriptionCount(), multiplexed: graphqlWs.multiplexed }),
      history: () => history.status(),
      now: () => now().getTime(),
    });
  }

  return {
    server, yoga, services, registry, scheduler, log, audit, history,
    /** Live subscriptions on every transport: multiplexed members share their sources' bus listeners. */
    get subscriptionCount(): number {
      return subscriptionCount();
    },
    metrics,
    get metricsPort(): number | null {
      return metricsPort;
    },
    /** Multiplexed subscriptions (graphql-ws and SSE): groups, members, and the event sources they share. */
    get multiplexed(): { groups: number; members: number; sources: number } {
      return graphqlWs.multiplexed;
    },
    get connectionSlots(): number {
      return identitySlots.total;
    },
    /** Applies a reloaded `auth.apiKeys`: revoked or removed keys are refused; live streams of a key whose grant changed end. */
    reloadApiKeys: authentication.reloadApiKeys,
    prepareReload: (current, next) => prepareReload({
      log, engine, budget: services.loaderSettings.budget, identitySlots, subscriptionLimit, reloadApiKeys: authentication.reloadApiKeys,
      backends: {
        registry, scheduler, backfill, state: services.state, listCache: services.listCache, notFound: services.loaderSettings.notFound,
        factories: options.factories, deps: { log, env, now, metrics, tracer: tracing?.tracer ?? null }, log,
      },
    }, current, next),
    async listen(port = config.server.port, host = config.server.host) {
      await authentication.ready;
      // The audit log's integrity check at open: its alarm is raised before the first request.
      await (audit as { ready?: Promise<void> }).ready;
      // Before listening: a database that cannot be used stops the start (StartupError, exit 2).
      await history.start();
      const posture = describeAuthPosture(config.auth);
      for (const line of posture.lines) log[posture.level](line);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const address = server.address() as AddressInfo;
      if (metricsListener && config.metrics.listen) {
        metricsPort = await metricsListener.listen(config.metrics.listen.port, config.metrics.listen.host);
        log.info({ port: metricsPort, host: config.metrics.listen.host, path: config.metrics.path }, 'metrics listening');
      }
      capacity = guardConnectionCapacity(server, { maxConnections: config.server.maxConnections, log });
      // After listening: accept-side errors (EMFILE) are logged and served through, never thrown.
      server.on('error', (error) => {
        if (!capacity?.noteError(error)) log.error({ err: error.message }, 'server error');
      });
      if (options.polling !== false) scheduler.start();
      summary = startPeriodicSummary(log, config.logSummaryMinutes, {
        registry, subscriptions: subscriptionCount, connections: () => identitySlots.total, history: () => history.status(),
      });
      ready = true;
      const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
      return { port: address.port, url: `http://${shownHost}:${address.port}${GRAPHQL_PATH}` };
    },
    /**
     * Graceful shutdown: readiness goes false, no new connections, WebSockets
     * close with 1001 and SSE streams end (clients reconnect elsewhere and
     * resume), in-flight requests get `graceMs` to finish.
     */
    async close(graceMs = 5000) {
      ready = false;
      summary?.stop();
      capacity?.stop();
      shedder.stop();
      credentials.stop();
      await scheduler.stop();
      await graphqlWs.dispose();
      await metricsListener?.close();
      sseStreams.endAll();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), graceMs).unref();
      });
      // The backfill reads through the adapters: it stops (its progress saved) before they go.
      await history.stopTasks();
      // Webhook confirmations and action follow-ups still reading upstream stop before the adapters they read through.
      webhooks.close();
      await services.actions?.close();
      await services.logs?.tails.close();
      await registry.dispose();
      engine.close();
      await bus.close();
      // After the last ingest: what is buffered is written before the store closes.
      await history.close();
      await audit.close();
      // Last: the spans of everything above are exported (bounded: a collector that is down does not hold the stop).
      await tracing?.shutdown();
    },
  };
}
