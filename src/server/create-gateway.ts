import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { NotFoundCache } from '../loaders/not-found-cache.ts';
import { UpstreamBudget } from '../loaders/upstream-budget.ts';
import type { AddressInfo } from 'node:net';
import type { GraphQLError } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import { describeAuthPosture } from '../auth/auth-config.ts';
import { createAuthenticator, type Authenticator } from '../auth/authenticate.ts';
import { AuthFailureLimiter } from '../auth/failure-limiter.ts';
import { isAuthError } from '../auth/types.ts';
import { createBackendRegistry, type BackendRegistry } from '../backend-registry.ts';
import { createSecretResolver } from '../config/secret.ts';
import type { AdapterFactories, GatewayConfig } from '../config/load-config.ts';
import { ANONYMOUS, createRequestContext, type GatewayContext, type GatewayServices, type RequestIdentity } from '../context.ts';
import { EventBus } from '../events/event-bus.ts';
import { eventStoreFactory } from '../events/create-event-store.ts';
import type { ChangeEvent } from '../events/event-types.ts';
import { Ingestor } from '../ingest/ingestor.ts';
import { PollScheduler } from '../ingest/poll-scheduler.ts';
import { PublishConfirmations } from '../ingest/publish-confirmations.ts';
import { BodyTooLargeError, readBody } from '../ingest/read-body.ts';
import { RedisDeliveryDedupe } from '../ingest/delivery-dedupe.ts';
import { createWebhookRoute, WEBHOOK_PATH_PREFIX } from '../ingest/webhook-route.ts';
import { ListCache } from '../loaders/list-cache.ts';
import { createLogger } from '../logger.ts';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { Redis } from 'ioredis';
import { auditKeyOption, createFileAuditLog, createNullAuditLog, type AuditLog } from '../audit/audit-log.ts';
import { createOperationAuditor, useAudit } from '../plugins/use-audit.ts';
import { operationLimitPlugins } from '../plugins/use-operation-limits.ts';
import { loadPersistedOperations } from '../plugins/persisted-operations.ts';
import { usePartialResults } from '../plugins/use-partial-results.ts';
import { ReservingMemoryStore, ReservingRedisStore } from '../rate-limit/reserving-stores.ts';
import { applyRateLimitOverrides, longestWindowMs, perItemCostFields, useRateLimits } from '../rate-limit/use-rate-limits.ts';
import { applySharedEvent } from '../state/apply-shared-event.ts';
import { LiveState } from '../state/live-state.ts';
import { subscriptionEventFilters } from '../resolvers/subscription-resolvers.ts';
import { formattedWithoutSuggestion, useNoSuggestions } from '../plugins/use-no-suggestions.ts';
import { BodySlots, hasBody } from './body-slots.ts';
import { guardConnectionCapacity, type ConnectionCapacity } from './connection-capacity.ts';
import { createCorsPolicy } from './cors.ts';
import { createGraphiQLRenderer } from './graphiql.ts';
import { attachGraphQLWs } from './graphql-ws.ts';
import { IdentitySlots, slotKeyOf } from './identity-slots.ts';
import { createCallerIdentifier, sendAuthError, wsRefusalOf } from './identify-caller.ts';
import { answerClientError, guardRequestListener } from './listener-guards.ts';
import { createSchema } from './load-schema.ts';
import { parseRequestTarget } from './request-target.ts';
import { eventLoopLag, LoadShedder, type EventLoopLagSource } from './load-shedding.ts';
import { sendFetchResponse } from './send-fetch-response.ts';
import { ErrorCode, errorBody, WsCloseCode } from '../errors.ts';

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
}

export interface Gateway {
  readonly server: Server;
  readonly yoga: YogaServerInstance<Record<string, unknown>, GatewayContext>;
  readonly services: GatewayServices;
  readonly registry: BackendRegistry;
  readonly scheduler: PollScheduler;
  readonly log: Logger;
  readonly audit: AuditLog;
  /** Live subscriptions on every transport (a multiplexed group of identical ones counts each member). */
  readonly subscriptionCount: number;
  /** Per-identity connection slots held by WebSocket connections and SSE streams (0 when none is open). */
  readonly connectionSlots: number;
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  reloadApiKeys(apiKeys: GatewayConfig['auth']['apiKeys']): Promise<void>;
  close(graceMs?: number): Promise<void>;
}

const header = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Assembles the gateway: services, GraphQL over HTTP/SSE/WS, webhooks, health, polling. */
/** How long a "not found" answer stands for an id, and how many are remembered. */
const NOT_FOUND_TTL_MS = 60_000;
const NOT_FOUND_MAX_ENTRIES = 50_000;

export function createGateway(options: GatewayOptions): Gateway {
  const { config } = options;
  const now = options.now ?? (() => new Date());
  const log = options.log ?? createLogger(config.logLevel);
  const registry = createBackendRegistry(config, options.factories, { log, env: options.env ?? process.env, now });
  const state = new LiveState();
  // With a shared (Redis) store, events published by other instances update this instance's state too.
  // The store's append reports let the webhook route acknowledge only what was stored.
  const confirmations = new PublishConfirmations();
  const storeHooks = { shared: (event: ChangeEvent) => applySharedEvent(state, event, now().getTime()), appended: confirmations.settle };
  const bus = new EventBus(config.subscriptionQueueLimit, eventStoreFactory(config.events, log, storeHooks));
  const ingestor = new Ingestor(state, bus, registry, log, now, confirmations);
  const freshnessMs = config.freshnessSeconds * 1000;
  const shedder = new LoadShedder(config.server.shedding, options.lagSource ?? eventLoopLag(), log);
  const services: GatewayServices = {
    registry, state, bus, ingestor, now, load: () => shedder.current,
    listCache: new ListCache(freshnessMs, () => now().getTime()),
    loaderSettings: {
      state, ingestor, freshnessMs, timeoutMs: config.backendTimeoutMs, now,
      notFound: new NotFoundCache(NOT_FOUND_TTL_MS, NOT_FOUND_MAX_ENTRIES, () => now().getTime()),
      budget: new UpstreamBudget(config.limits.upstreamCallsPerIdentityPerMinute, () => now().getTime()),
    },
  };
  const scheduler = new PollScheduler(registry.all(), ingestor, log, now);
  const auditIntegrity = { ok: true };
  const audit =
    options.audit ??
    (config.audit.file
      ? createFileAuditLog(config.audit.file, {
        now, fsync: config.audit.fsync, ...auditKeyOption(config.audit.hmacKey, createSecretResolver(options.env ?? process.env)),
        onError: (e) => log.error({ err: e.message }, 'audit log write failed'),
        // Alarm, not refuse: the API keeps serving; /readyz reports it and the log records it.
        onIntegrityProblem: (problem) => {
          auditIntegrity.ok = false;
          log.error({ problem, file: config.audit.file }, 'audit log integrity alarm');
        },
      })
      : createNullAuditLog());

  const schema = applyRateLimitOverrides(createSchema(), config.rateLimit.fields);
  const windowMs = longestWindowMs(schema, config.rateLimit.fields);
  const redis = config.rateLimit.store === 'redis' ? new Redis(config.rateLimit.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 }) : null;
  redis?.on('error', (error: Error) => log.warn({ err: error.message }, 'rate-limit Redis error'));
  const perItem = perItemCostFields(schema);
  const rateLimitStore = redis ? new ReservingRedisStore(redis, windowMs, config.rateLimit.redisKeyPrefix, perItem) : new ReservingMemoryStore(windowMs, perItem);

  const persisted = config.limits.persistedOperationsFile ? loadPersistedOperations(config.limits.persistedOperationsFile) : null;

  const yoga = createYoga<Record<string, unknown>, GatewayContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    context: (initial) => createRequestContext(services, (initial as { identity?: RequestIdentity }).identity ?? ANONYMOUS),
    graphiql: config.server.graphiql,
    renderGraphiQL: createGraphiQLRenderer(),
    landingPage: false,
    // yoga's CORS reflects any origin with credentials; ours (server.cors) is an allow-list.
    cors: false,
    plugins: [
      useAudit(audit),
      ...(persisted ? [persisted.plugin] : []),
      ...operationLimitPlugins(config.limits),
      ...(config.limits.csrfPrevention ? [useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'x-switchyard-client'] })] : []),
      useRateLimits({ store: rateLimitStore, identify: (ctx) => (ctx as GatewayContext).identity.id }),
      usePartialResults(),
      ...(config.limits.introspection ? [] : [useNoSuggestions()]),
    ],
    logging: {
      debug: (...a: unknown[]) => log.debug(a.map(String).join(' ')),
      info: (...a: unknown[]) => log.info(a.map(String).join(' ')),
      warn: (...a: unknown[]) => log.warn(a.map(String).join(' ')),
      error: (...a: unknown[]) => log.error(a.map((x) => (x instanceof Error ? x.message : String(x))).join(' ')),
    },
  });

  // Built asynchronously (a static JWT key is imported once); listen() waits for it, so a bad key fails start-up.
  const authenticator: Promise<Authenticator> = createAuthenticator(config.auth, { secret: createSecretResolver(options.env ?? process.env), now });
  authenticator.catch(() => undefined);

  const limiter = new AuthFailureLimiter(config.auth.failureLimit, () => now().getTime());
  const identify = createCallerIdentifier({ authenticator, limiter, audit, log });

  // With the Redis event bus, delivery ids are shared too: a retry to another instance stays a duplicate.
  const dedupeRedis = config.events.store === 'redis' ? new Redis(config.events.redisUrl, { maxRetriesPerRequest: 2 }) : null;
  dedupeRedis?.on('error', (error: Error) => log.warn({ err: error.message }, 'webhook dedupe Redis error'));
  const handleWebhook = createWebhookRoute({
    registry, ingestor, log, audit, bodyLimitBytes: config.server.bodyLimitBytes, now,
    rejectionSummaryMs: config.audit.rejectionSummarySeconds * 1000,
    ...(dedupeRedis ? { dedupe: new RedisDeliveryDedupe(dedupeRedis, { doneTtlMs: 72 * 3600_000 }, `${config.events.streamPrefix}deliveries:`) } : {}),
  });
  let ready = false;
  /** Open SSE streams, ended on shutdown so their clients reconnect elsewhere. */
  const streams = new Set<ServerResponse>();
  /** One pool for WebSockets and SSE streams: the per-identity connection limit holds on every transport. */
  const identitySlots = new IdentitySlots(config.limits.maxConnectionsPerIdentity);

  const cors = createCorsPolicy(config.server.cors);
  const bodySlots = new BodySlots(config.server.maxConcurrentBodies);

  async function handleGraphQL(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    // Preflights come without credentials: answered before authentication.
    if (cors.answerPreflight(req, res)) return;
    cors.decorate(req, res);
    if (shedder.refuseStream(req, res)) return;
    // GraphiQL's page is static and holds no data; everything it queries is authenticated.
    const wantsGraphiQL = req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
    let identity: RequestIdentity = ANONYMOUS;
    // Credentials travel in headers: checked before the body is read, so a client without them holds no memory.
    if (!wantsGraphiQL) {
      const transport = (req.headers.accept ?? '').includes('text/event-stream') ? 'sse' : 'http';
      const result = await identify({ authorization: req.headers.authorization, apiKeyHeader: header(req.headers['x-api-key']) }, { transport, remoteAddress: req.socket.remoteAddress ?? null });
      if (isAuthError(result)) {
        // The body is left unread: close rather than drain it.
        if (hasBody(req)) res.setHeader('connection', 'close');
        return sendAuthError(res, result);
      }
      identity = result;
      const open = () => !req.socket.destroyed && !res.writableEnded;
      if (transport === 'sse' && !identitySlots.acquire(slotKeyOf(identity, req.socket.remoteAddress), res, open)) {
        return json(res, 429, errorBody(ErrorCode.ConnectionLimit, `Too many connections for this identity (limit ${identitySlots.max})`));
      }
    }
    let body: Buffer | undefined;
    if (req.method === 'POST') {
      if (!bodySlots.tryTake(req, res)) return bodySlots.refuse(res);
      try {
        body = await readBody(req, config.server.bodyLimitBytes);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          res.setHeader('connection', 'close');
          return json(res, 413, errorBody(ErrorCode.PayloadTooLarge, `Request body larger than ${error.limit} bytes`));
        }
        return json(res, 400, errorBody(ErrorCode.BadRequest, 'Could not read the request body'));
      }
    }
    const controller = new AbortController();
    res.on('close', () => controller.abort());
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    const response = await yoga.fetch(url.toString(), {
      method: req.method ?? 'GET',
      headers,
      ...(body ? { body } : {}),
      signal: controller.signal,
    }, { identity });
    const streaming = (response.headers.get('content-type') ?? '').includes('text/event-stream');
    if (streaming) {
      streams.add(res);
      res.once('close', () => streams.delete(res));
    }
    await sendFetchResponse(response, res);
  }

  /** Set by listen(): the connection cap and the file-descriptor watch. */
  let capacity: ConnectionCapacity | null = null;

  // Never a URL from the Host header; failures are answered, never thrown out of the listener.
  const server = createServer(guardRequestListener(log, async (req, res) => {
    const url = parseRequestTarget(req.url);
    if (!url) return json(res, 400, { error: 'bad request target' });
    if (url.pathname === '/healthz') return json(res, 200, { status: 'ok' });
    if (url.pathname === '/readyz') {
      const backends = Object.fromEntries(registry.all().map((b) => [b.name, b.health.current.state]));
      const load = shedder.current;
      const connections = capacity ? { connections: await capacity.health() } : {};
      return json(res, ready && !load.overloaded ? 200 : 503, {
        status: !ready ? 'not ready' : load.overloaded ? 'overloaded' : 'ready', backends, load, ...connections,
        requestBodies: { reading: bodySlots.size, limit: bodySlots.limit }, audit: auditIntegrity.ok ? 'ok' : 'integrity-alarm',
      });
    }
    if (url.pathname.startsWith(WEBHOOK_PATH_PREFIX)) {
      if (!bodySlots.tryTake(req, res)) return bodySlots.refuse(res);
      return handleWebhook(req, res, url);
    }
    if (url.pathname === GRAPHQL_PATH) return handleGraphQL(req, res, url);
    if (url.pathname === '/') {
      res.writeHead(302, { location: GRAPHQL_PATH });
      return void res.end();
    }
    json(res, 404, { error: 'not found' });
  }));
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    capacity?.noteError(error);
    answerClientError(error, socket);
  });
  // Slowloris protection; SSE and WebSocket streams are not affected once headers are in.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  const graphqlWs = attachGraphQLWs(server, yoga, {
    path: GRAPHQL_PATH,
    maxPayloadBytes: 64 * 1024,
    maxSubscriptionsPerConnection: config.limits.maxSubscriptionsPerConnection,
    maxConnectionsPerIdentity: config.limits.maxConnectionsPerIdentity,
    identitySlots,
    onInternalError: (error) => log.error({ err: error }, 'WebSocket handler failed'),
    subscriptionEventFilters,
    queueLimit: config.subscriptionQueueLimit,
    queueBytes: config.subscriptionQueueBytes,
    keepAliveMs: config.server.keepAliveSeconds * 1000,
    allowUpgrade: cors.allowsUpgrade,
    log,
    ...(config.limits.introspection ? {} : { formatErrors: (errors: readonly GraphQLError[]) => errors.map(formattedWithoutSuggestion) }),
    now: () => now().getTime(),
    ...(persisted ? { resolveDocument: persisted.resolve } : {}),
    auditOperation: createOperationAuditor(audit),
    refuseSubscription: () => shedder.refuseSubscription(),
    identify: async ({ connectionParams, headers, remoteAddress }) => {
      const param = (k: string) => (typeof connectionParams?.[k] === 'string' ? (connectionParams[k] as string) : undefined);
      const result = await identify({
        authorization: param('authorization') ?? param('Authorization') ?? header(headers.authorization),
        apiKeyHeader: param('apiKey') ?? param('x-api-key') ?? header(headers['x-api-key']),
      }, { transport: 'ws', remoteAddress });
      return isAuthError(result) ? wsRefusalOf(result) : result;
    },
    // Credentials that expire or are revoked end the connection within a second (4403).
    onConnected: (identity, close) => {
      const check = () => {
        if (identity.expiresAt && now() >= identity.expiresAt) close(WsCloseCode.Forbidden, 'Credentials expired');
        else if (identity.isRevoked?.()) close(WsCloseCode.Forbidden, 'Credentials revoked');
      };
      const expiry = identity.expiresAt ? setTimeout(check, Math.max(0, identity.expiresAt.getTime() - now().getTime())) : undefined;
      const revocation = identity.kind === 'api-key' ? setInterval(check, 500) : undefined;
      expiry?.unref();
      revocation?.unref();
      return () => {
        clearTimeout(expiry);
        clearInterval(revocation);
      };
    },
  });

  return {
    server, yoga, services, registry, scheduler, log, audit,
    /** Live subscriptions on every transport: each multiplexed group holds one bus listener for all its members. */
    get subscriptionCount(): number {
      const { groups, members } = graphqlWs.multiplexed;
      return bus.subscriberCount - groups + members;
    },
    get connectionSlots(): number {
      return identitySlots.total;
    },
    /** Applies a reloaded `auth.apiKeys`: revoked or removed keys are refused; live streams of a key whose grant changed end. */
    async reloadApiKeys(apiKeys: GatewayConfig['auth']['apiKeys']) {
      (await authenticator).updateApiKeys(apiKeys);
    },
    async listen(port = config.server.port, host = config.server.host) {
      await authenticator;
      // The audit log's integrity check at open: its alarm is raised before the first request.
      await (audit as { ready?: Promise<void> }).ready;
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
      capacity = guardConnectionCapacity(server, { maxConnections: config.server.maxConnections, log });
      // After listening: accept-side errors (EMFILE) are logged and served through, never thrown.
      server.on('error', (error) => {
        if (!capacity?.noteError(error)) log.error({ err: error.message }, 'server error');
      });
      if (options.polling !== false) scheduler.start();
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
      capacity?.stop();
      shedder.stop();
      await scheduler.stop();
      await graphqlWs.dispose();
      for (const res of streams) res.end();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), graceMs).unref();
      });
      await registry.dispose();
      redis?.disconnect();
      dedupeRedis?.disconnect();
      await bus.close();
      handleWebhook.close();
      await audit.close();
    },
  };
}
