import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { DocumentNode } from 'graphql';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.ts';
import type { AuditTransport } from '../audit/audit-record.ts';
import type { Identity } from '../auth/types.ts';
import type { GatewayConfig } from '../config/load-config.ts';
import { ANONYMOUS, createRequestContext, type GatewayContext, type GatewayServices } from '../context.ts';
import { loadPersistedOperations } from '../plugins/persisted-operations.ts';
import { useAudit } from '../plugins/use-audit.ts';
import { useNoSuggestions } from '../plugins/use-no-suggestions.ts';
import { liveOperationLimits } from '../plugins/use-operation-limits.ts';
import { usePartialResults } from '../plugins/use-partial-results.ts';
import { ReservingMemoryStore, ReservingRedisStore } from '../rate-limit/reserving-stores.ts';
import { liveRateLimitSchema } from '../rate-limit/live-rate-limits.ts';
import { applyRateLimitOverrides, longestWindowMs, perItemCostFields, useRateLimits } from '../rate-limit/use-rate-limits.ts';
import { Lru } from '../auth/lru.ts';
import { createGraphiQLRenderer } from './graphiql.ts';
import { useJsonCompression } from '../plugins/use-json-compression.ts';
import type { GraphiQLAssets } from './graphiql-assets.ts';
import { createSchema } from './load-schema.ts';
import { useSseEventIds } from './sse-event-ids.ts';
import { useSharedSources } from './multiplexed-subscribe.ts';

/** Which transport carries an operation: graphql-ws passes its socket; SSE asks for text/event-stream. */
function transportOf(initial: object): AuditTransport {
  if ('socket' in initial && (initial as { socket?: unknown }).socket) return 'ws';
  const request = (initial as { request?: Request }).request;
  return (request?.headers.get('accept') ?? '').includes('text/event-stream') ? 'sse' : 'http';
}

export type GatewayYoga = YogaServerInstance<Record<string, unknown>, GatewayContext>;
export type GatewayYogaEngine = ReturnType<typeof createGatewayYoga>;

/**
 * The GraphQL engine: schema and yoga's plugin stack (audit, trusted
 * documents, operation limits, CSRF, rate limits, partial results). The
 * identity comes in the server context from the transport that authenticated it.
 */
export function createGatewayYoga(deps: {
  readonly config: GatewayConfig;
  readonly services: GatewayServices;
  readonly audit: AuditLog;
  readonly log: Logger;
  readonly path: string;
  /** Front-door plugins that watch responses (SSE stream tracking). */
  readonly plugins?: readonly Plugin[];
  /** Where the GraphiQL page's assets go when it is rendered (served by their own route). */
  readonly graphiqlAssets: GraphiQLAssets;
}) {
  const { config, log } = deps;
  const baseSchema = createSchema();
  const schema = applyRateLimitOverrides(baseSchema, config.rateLimit.fields);
  const windowMs = longestWindowMs(schema, config.rateLimit.fields);
  const redis = config.rateLimit.store === 'redis' ? new Redis(config.rateLimit.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 }) : null;
  redis?.on('error', (error: Error) => log.warn({ err: error.message }, 'rate-limit Redis error'));
  const perItem = perItemCostFields(schema);
  const rateLimitStore = redis ? new ReservingRedisStore(redis, windowMs, config.rateLimit.redisKeyPrefix, perItem) : new ReservingMemoryStore(windowMs, perItem);
  const rateLimits = liveRateLimitSchema(baseSchema, rateLimitStore);
  // yoga's parse cache (text → AST or parse error, LRU like its own), made clearable: a reload of the
  // limits empties it, since the token limit runs in the parser and a cached document is never parsed
  // again. (The validation cache is keyed by the AST, so new ASTs are validated anew.)
  const documentCache = new Lru<DocumentNode>(1024);
  const errorCache = new Lru<unknown>(1024);
  const limits = liveOperationLimits(config.limits, () => {
    documentCache.clear();
    errorCache.clear();
  });
  const persisted = config.limits.persistedOperationsFile ? loadPersistedOperations(config.limits.persistedOperationsFile) : null;

  const yoga: GatewayYoga = createYoga<Record<string, unknown>, GatewayContext>({
    schema,
    graphqlEndpoint: deps.path,
    parserAndValidationCache: { documentCache, errorCache },
    context: (initial) => createRequestContext(deps.services, (initial as { identity?: Identity }).identity ?? ANONYMOUS, transportOf(initial)),
    graphiql: config.server.graphiql,
    renderGraphiQL: createGraphiQLRenderer(deps.graphiqlAssets),
    landingPage: false,
    // yoga's CORS reflects any origin with credentials; ours (server.cors) is an allow-list.
    cors: false,
    plugins: [
      // First: it replaces the engine's subscribe for multiplexed groups, which the plugins after it wrap.
      useSharedSources(),
      useJsonCompression(),
      useAudit(deps.audit),
      ...(persisted ? [persisted.plugin] : []),
      limits.plugin,
      ...(config.limits.csrfPrevention ? [useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'x-switchyard-client'] })] : []),
      rateLimits.plugin,
      useRateLimits({ store: rateLimitStore, identify: (ctx) => (ctx as GatewayContext).identity.id }),
      usePartialResults(),
      ...(config.limits.introspection ? [] : [useNoSuggestions()]),
      ...(deps.plugins ?? []),
      // Last: it sees each SSE event's final result to put its cursor on the `id:` line.
      useSseEventIds(),
    ],
    logging: {
      debug: (...a: unknown[]) => log.debug(a.map(String).join(' ')),
      info: (...a: unknown[]) => log.info(a.map(String).join(' ')),
      warn: (...a: unknown[]) => log.warn(a.map(String).join(' ')),
      error: (...a: unknown[]) => log.error(a.map((x) => (x instanceof Error ? x.message : String(x))).join(' ')),
    },
  });
  return {
    yoga,
    /** Trusted-documents mode: the WebSocket binding resolves documents the same way. */
    resolveDocument: persisted?.resolve,
    /** SIGHUP: the operation limits new requests meet (see LIVE_OPERATION_LIMITS). */
    limits,
    /** SIGHUP: `prepare(fields)` builds the new rate-limit schema (throws on an unknown field); its result applies it. */
    rateLimits: { prepare: rateLimits.prepare },
    close: () => redis?.disconnect(),
  };
}
