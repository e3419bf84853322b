import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { NotFoundCache } from '../loaders/not-found-cache.ts';
import { UpstreamBudget } from '../loaders/upstream-budget.ts';
import type { AddressInfo } from 'node:net';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import { describeAuthPosture } from '../auth/auth-config.ts';
import { createAuthenticator, type Authenticator } from '../auth/authenticate.ts';
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
import { createFileAuditLog, createNullAuditLog, type AuditLog } from '../audit/audit-log.ts';
import { createOperationAuditor, useAudit } from '../plugins/use-audit.ts';
import { operationLimitPlugins } from '../plugins/use-operation-limits.ts';
import { loadPersistedOperations } from '../plugins/persisted-operations.ts';
import { usePartialResults } from '../plugins/use-partial-results.ts';
import { ReservingMemoryStore, ReservingRedisStore } from '../rate-limit/reserving-stores.ts';
import { applyRateLimitOverrides, longestWindowMs, useRateLimits } from '../rate-limit/use-rate-limits.ts';
import { applySharedEvent } from '../state/apply-shared-event.ts';
import { LiveState } from '../state/live-state.ts';
import { subscriptionEventFilters } from '../resolvers/subscription-resolvers.ts';
import { createGraphiQLRenderer } from './graphiql.ts';
import { attachGraphQLWs } from './graphql-ws.ts';
import { createSchema } from './load-schema.ts';
import { sendFetchResponse } from './send-fetch-response.ts';

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
  const services: GatewayServices = {
    registry, state, bus, ingestor, now,
    listCache: new ListCache(freshnessMs, () => now().getTime()),
    loaderSettings: {
      state, ingestor, freshnessMs, timeoutMs: config.backendTimeoutMs, now,
      notFound: new NotFoundCache(NOT_FOUND_TTL_MS, NOT_FOUND_MAX_ENTRIES, () => now().getTime()),
      budget: new UpstreamBudget(config.limits.upstreamCallsPerIdentityPerMinute, () => now().getTime()),
    },
  };
  const scheduler = new PollScheduler(registry.all(), ingestor, log);
  const audit =
    options.audit ??
    (config.audit.file
      ? createFileAuditLog(config.audit.file, { now, fsync: config.audit.fsync, onError: (e) => log.error({ err: e.message }, 'audit log write failed') })
      : createNullAuditLog());

  const schema = applyRateLimitOverrides(createSchema(), config.rateLimit.fields);
  const windowMs = longestWindowMs(schema, config.rateLimit.fields);
  const redis = config.rateLimit.store === 'redis' ? new Redis(config.rateLimit.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 }) : null;
  redis?.on('error', (error: Error) => log.warn({ err: error.message }, 'rate-limit Redis error'));
  const rateLimitStore = redis ? new ReservingRedisStore(redis, windowMs, config.rateLimit.redisKeyPrefix) : new ReservingMemoryStore(windowMs);

  const persisted = config.limits.persistedOperationsFile ? loadPersistedOperations(config.limits.persistedOperationsFile) : null;

  const yoga = createYoga<Record<string, unknown>, GatewayContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    context: (initial) => createRequestContext(services, (initial as { identity?: RequestIdentity }).identity ?? ANONYMOUS),
    graphiql: config.server.graphiql,
    renderGraphiQL: createGraphiQLRenderer(),
    landingPage: false,
    plugins: [
      useAudit(audit),
      ...(persisted ? [persisted.plugin] : []),
      ...operationLimitPlugins(config.limits),
      ...(config.limits.csrfPrevention ? [useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'x-switchyard-client'] })] : []),
      useRateLimits({ store: rateLimitStore, identify: (ctx) => (ctx as GatewayContext).identity.id }),
      usePartialResults(),
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

  /** Authenticates one request or connection; never throws, never logs the credential. */
  async function identify(
    credential: { authorization?: string | undefined; apiKeyHeader?: string | undefined },
    where: { transport: 'http' | 'sse' | 'ws'; remoteAddress: string | null },
  ) {
    const result = await (await authenticator).authenticate(credential);
    if (isAuthError(result)) {
      log.info({ code: result.code, transport: where.transport }, 'authentication failed');
      const presented = credential.apiKeyHeader ?? credential.authorization ?? '';
      const credentialKind = presented === '' ? 'none' : /sy_/.test(presented) ? 'api-key' : /^Bearer\s+ey/i.test(presented) ? 'jwt' : 'unknown';
      audit.append({ kind: 'auth-failure', transport: where.transport, reason: result.code, remoteAddress: where.remoteAddress, credentialKind });
    }
    return result;
  }

  // With the Redis event bus, delivery ids are shared too: a retry to another instance stays a duplicate.
  const dedupeRedis = config.events.store === 'redis' ? new Redis(config.events.redisUrl, { maxRetriesPerRequest: 2 }) : null;
  dedupeRedis?.on('error', (error: Error) => log.warn({ err: error.message }, 'webhook dedupe Redis error'));
  const handleWebhook = createWebhookRoute({
    registry, ingestor, log, audit, bodyLimitBytes: config.server.bodyLimitBytes, now,
    ...(dedupeRedis ? { dedupe: new RedisDeliveryDedupe(dedupeRedis, 72 * 3600_000, `${config.events.streamPrefix}deliveries:`) } : {}),
  });
  let ready = false;
  /** Open SSE streams, ended on shutdown so their clients reconnect elsewhere. */
  const streams = new Set<ServerResponse>();

  async function handleGraphQL(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    let body: Buffer | undefined;
    if (req.method === 'POST') {
      try {
        body = await readBody(req, config.server.bodyLimitBytes);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          res.setHeader('connection', 'close');
          return json(res, 413, { errors: [{ message: `Request body larger than ${error.limit} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
        }
        return json(res, 400, { errors: [{ message: 'Could not read the request body' }] });
      }
    }
    // GraphiQL's page is static and holds no data; everything it queries is authenticated.
    const wantsGraphiQL = req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
    let identity: RequestIdentity = ANONYMOUS;
    if (!wantsGraphiQL) {
      const transport = (req.headers.accept ?? '').includes('text/event-stream') ? 'sse' : 'http';
      const result = await identify({ authorization: req.headers.authorization, apiKeyHeader: header(req.headers['x-api-key']) }, { transport, remoteAddress: req.socket.remoteAddress ?? null });
      if (isAuthError(result)) {
        res.setHeader('www-authenticate', 'Bearer realm="switchyard"');
        return json(res, result.status, { errors: [{ message: result.message, extensions: { code: result.status === 503 ? 'AUTH_UNAVAILABLE' : 'UNAUTHENTICATED' } }] });
      }
      identity = result;
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

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    const done = (p: Promise<void>) =>
      p.catch((error: unknown) => {
        log.error({ err: error, path: url.pathname }, 'request failed');
        if (!res.headersSent) json(res, 500, { error: 'internal error' });
        else res.destroy();
      });
    if (url.pathname === '/healthz') return json(res, 200, { status: 'ok' });
    if (url.pathname === '/readyz') {
      const backends = Object.fromEntries(registry.all().map((b) => [b.name, b.health.current.state]));
      return json(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', backends });
    }
    if (url.pathname.startsWith(WEBHOOK_PATH_PREFIX)) return void done(handleWebhook(req, res, url));
    if (url.pathname === GRAPHQL_PATH) return void done(handleGraphQL(req, res, url));
    if (url.pathname === '/') {
      res.writeHead(302, { location: GRAPHQL_PATH });
      return void res.end();
    }
    json(res, 404, { error: 'not found' });
  });
  // Slowloris protection; SSE and WebSocket streams are not affected once headers are in.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  const graphqlWs = attachGraphQLWs(server, yoga, {
    path: GRAPHQL_PATH,
    maxPayloadBytes: 64 * 1024,
    maxSubscriptionsPerConnection: config.limits.maxSubscriptionsPerConnection,
    maxConnectionsPerIdentity: config.limits.maxConnectionsPerIdentity,
    subscriptionEventFilters,
    queueLimit: config.subscriptionQueueLimit,
    queueBytes: config.subscriptionQueueBytes,
    keepAliveMs: config.server.keepAliveSeconds * 1000,
    now: () => now().getTime(),
    ...(persisted ? { resolveDocument: persisted.resolve } : {}),
    auditOperation: createOperationAuditor(audit),
    identify: async ({ connectionParams, headers }) => {
      const param = (k: string) => (typeof connectionParams?.[k] === 'string' ? (connectionParams[k] as string) : undefined);
      const result = await identify({
        authorization: param('authorization') ?? param('Authorization') ?? header(headers.authorization),
        apiKeyHeader: param('apiKey') ?? param('x-api-key') ?? header(headers['x-api-key']),
      }, { transport: 'ws', remoteAddress: null });
      return isAuthError(result) ? null : result;
    },
    // Credentials that expire or are revoked end the connection within a second (4403).
    onConnected: (identity, close) => {
      const check = () => {
        if (identity.expiresAt && now() >= identity.expiresAt) close(4403, 'Credentials expired');
        else if (identity.isRevoked?.()) close(4403, 'Credentials revoked');
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
    /** Applies a reloaded `auth.apiKeys`: revoked or removed keys are refused, their live streams end. */
    async reloadApiKeys(apiKeys: GatewayConfig['auth']['apiKeys']) {
      (await authenticator).updateApiKeys(apiKeys);
    },
    async listen(port = config.server.port, host = config.server.host) {
      await authenticator;
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
      await audit.close();
    },
  };
}
