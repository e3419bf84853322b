import type { Server } from 'node:http';
import type { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.ts';
import type { CredentialWatcher } from '../auth/credential-watcher.ts';
import { WsCloseCode } from '../errors.ts';
import type { GatewayConfig } from '../config/load-config.ts';
import { createOperationAuditor } from '../plugins/use-audit.ts';
import { formattedWithoutSuggestion } from '../plugins/use-no-suggestions.ts';
import { subscriptionEventFilters } from '../resolvers/subscription-resolvers.ts';
import type { GatewayAuthentication } from './authentication.ts';
import type { CorsPolicy } from './cors.ts';
import type { GatewayYoga } from './gateway-yoga.ts';
import { attachGraphQLWs } from './graphql-ws.ts';
import type { IdentitySlots } from './identity-slots.ts';
import type { LoadShedder } from './load-shedding.ts';
import type { BusObserver } from '../metrics/gateway-metrics.ts';
import type { SharedSources } from './shared-sources.ts';
import type { SubscriptionMultiplexer } from './subscription-multiplexer.ts';

/** graphql-ws on the GraphQL path, with the same authentication, slots, shedding and credential watch as HTTP/SSE. */
export function attachWebSockets(server: Server, deps: {
  readonly path: string;
  readonly config: GatewayConfig;
  readonly yoga: GatewayYoga;
  readonly resolveDocument: Parameters<typeof attachGraphQLWs>[2]['resolveDocument'];
  readonly authentication: GatewayAuthentication;
  readonly credentials: CredentialWatcher;
  readonly identitySlots: IdentitySlots;
  /** Read per subscribe: a reload's `limits.maxSubscriptionsPerConnection` applies to open connections' next operation. */
  readonly maxSubscriptionsPerConnection: () => number;
  readonly cors: CorsPolicy;
  readonly shedder: LoadShedder;
  readonly audit: AuditLog;
  readonly log: Logger;
  readonly now: () => Date;
  readonly metrics?: BusObserver | null;
  /** Shared with SSE (sse-multiplex.ts). */
  readonly multiplexer?: SubscriptionMultiplexer;
  readonly sources?: SharedSources;
}) {
  const { config, log } = deps;
  return attachGraphQLWs(server, deps.yoga, {
    path: deps.path,
    maxPayloadBytes: 64 * 1024,
    get maxSubscriptionsPerConnection() {
      return deps.maxSubscriptionsPerConnection();
    },
    maxConnectionsPerIdentity: config.limits.maxConnectionsPerIdentity,
    identitySlots: deps.identitySlots,
    onInternalError: (error) => log.error({ err: error }, 'WebSocket handler failed'),
    subscriptionEventFilters,
    queueLimit: config.subscriptionQueueLimit,
    queueBytes: config.subscriptionQueueBytes,
    ...(deps.multiplexer ? { multiplexer: deps.multiplexer } : {}),
    ...(deps.sources ? { sources: deps.sources } : {}),
    ...(deps.metrics ? { onSubscriberOverflow: () => deps.metrics?.overflow('websocket') } : {}),
    keepAliveMs: config.server.keepAliveSeconds * 1000,
    allowUpgrade: deps.cors.allowsUpgrade,
    log,
    ...(config.limits.introspection ? {} : { formatErrors: (errors: readonly GraphQLError[]) => errors.map(formattedWithoutSuggestion) }),
    now: () => deps.now().getTime(),
    ...(deps.resolveDocument ? { resolveDocument: deps.resolveDocument } : {}),
    auditOperation: createOperationAuditor(deps.audit),
    refuseSubscription: () => deps.shedder.refuseSubscription(),
    identify: deps.authentication.ws,
    // Credentials that expire or are revoked end the connection (4403), pushed by the one watcher.
    onConnected: (identity, close) => deps.credentials.watch(identity, (why) => close(WsCloseCode.Forbidden, `Credentials ${why}`)),
  });
}
