import type { IncomingMessage, Server } from 'node:http';
import { getOperationAST, GraphQLError, type ExecutionArgs, type GraphQLFormattedError } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { EMPTY_SCOPE, isRevokedOrExpired } from '../auth/scope.ts';
import type { GatewayContext, Identity } from '../context.ts';
import type { OperationRecord } from '../plugins/use-audit.ts';
import { startHeartbeat } from './heartbeat.ts';
import { IdentitySlots, slotKeyOf } from './identity-slots.ts';
import { prepareMultiplexed, type MultiplexedRoot } from './multiplexed-subscribe.ts';
import { pacedByPeer, SocketFlow } from './socket-flow.ts';
import { SharedSources } from './shared-sources.ts';
import { graphqlWsNextFrame, SubscriptionMultiplexer, type FrameSocket } from './subscription-multiplexer.ts';
import { upgradeGate } from './upgrade-gate.ts';
import { serveGraphQLWs } from './ws-protocol-server.ts';
import { ErrorCode, gatewayError, WsCloseCode } from '../errors.ts';

export interface GraphQLWsOptions {
  readonly path: string;
  readonly maxPayloadBytes: number;
  readonly maxSubscriptionsPerConnection: number;
  readonly maxConnectionsPerIdentity: number;
  /**
   * Authenticates `connection_init` (its payload and the upgrade request);
   * null refuses the connection (closed with 4403 Forbidden), a refusal closes with its code.
   */
  readonly identify: (input: {
    connectionParams: Readonly<Record<string, unknown>> | undefined;
    headers: Readonly<Record<string, string | string[] | undefined>>;
    remoteAddress: string | null;
  }) => Promise<Identity | WsRefusal | null>;
  /** Per-identity slots shared with other transports (SSE); default: WebSocket-only slots of `maxConnectionsPerIdentity`. */
  readonly identitySlots?: IdentitySlots;
  /** A fault in our own hooks (logged; the socket closes with 4500). */
  readonly onInternalError?: (error: unknown) => void;
  /** Records one audit entry per operation. */
  readonly auditOperation?: (record: OperationRecord) => void;
  /** Trusted-documents mode: maps a subscribe payload to the document it may run, or an error. */
  readonly resolveDocument?: (payload: { query?: string | null; extensions?: Record<string, unknown> | null }) => string | GraphQLError;
  /** Watches a connected identity's credentials: `close` ends the socket when they lapse; returns the stop function. */
  readonly onConnected?: (identity: Identity, close: (code: number, reason: string) => void) => () => void;
  /** Per-field event filters, so subscribers differing only in `filter` share one execution. */
  readonly subscriptionEventFilters?: Readonly<Record<string, (filter: unknown) => (event: unknown) => boolean>>;
  /** Per-subscriber bounds on what its client has not read yet: frames and bytes. */
  readonly queueLimit: number;
  readonly queueBytes: number;
  /** Told when a multiplexed subscriber is ended for falling behind (/metrics). */
  readonly onSubscriberOverflow?: () => void;
  /** The multiplexer shared with SSE (sse-multiplex.ts), so identical subscriptions on both transports share a group; default: one of its own. */
  readonly multiplexer?: SubscriptionMultiplexer;
  /** The event sources shared with SSE groups (shared-sources.ts); default: its own. */
  readonly sources?: SharedSources;
  /** The gateway's clock, epoch ms. */
  readonly now?: () => number;
  /** Load shedding: the error that refuses a new subscription now, or null. */
  readonly refuseSubscription?: () => GraphQLError | null;
  /** Ping interval; a socket that misses one ping is terminated at the next. */
  readonly keepAliveMs: number;
  /** Upgrade requests from a refused browser Origin get 403 (server.cors). */
  readonly allowUpgrade?: (req: IncomingMessage) => boolean;
  /** Failures of the upgrade listener (which never throws out). */
  readonly log: Logger;
  /** Rewrites the errors of every `error` message (suggestions stripped when introspection is off). */
  readonly formatErrors?: (errors: readonly GraphQLError[]) => readonly GraphQLFormattedError[];
}


/** Refuses a connection_init with a protocol close code (e.g. 4429 after too many failed logins). */
export interface WsRefusal {
  readonly closeCode: number;
  readonly reason: string;
}

interface ConnectionState {
  identity: Identity;
  active: Set<string>;
  release: () => void;
}

/**
 * A member's view of its WebSocket (a class, so 10,000 members share its
 * methods). cork/uncork reach the TCP socket under `ws` (its `_socket`,
 * stable since ws 1.x) so a batch of frames is one write.
 */
class WsFrameSocket implements FrameSocket {
  private readonly tcp: { cork(): void; uncork(): void } | undefined;
  constructor(
    private readonly ws: WebSocket,
    private readonly flow: SocketFlow,
  ) {
    this.tcp = (ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
  }
  get readyState(): number {
    return this.ws.readyState;
  }
  get unreadFrames(): number {
    return this.flow.unreadFrames;
  }
  get unreadBytes(): number {
    return this.flow.unreadBytes;
  }
  get awaitingPeer(): boolean {
    return this.flow.awaitingPeer;
  }
  send(data: string): void {
    this.flow.send(data);
  }
  cork(): void {
    this.tcp?.cork();
  }
  uncork(): void {
    this.tcp?.uncork();
  }
}

/**
 * graphql-ws keeps the upgrade request for the connection's life; once the
 * connection is authenticated nothing here needs it, so keep only the address
 * (an IncomingMessage with its headers is about 1 KB per idle subscriber).
 */
function releaseUpgradeRequest(extra: { request: IncomingMessage }): void {
  const remoteAddress = extra.request.socket.remoteAddress;
  extra.request = { headers: {}, socket: { remoteAddress } } as unknown as IncomingMessage;
}

/**
 * A GraphQLError thrown while executing (a plugin refusing the operation, e.g.
 * the rate limiter) becomes this operation's `error` result: graphql-ws would
 * close the whole socket with 4500 on a throw.
 */
async function asResult(run: () => unknown): Promise<unknown> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof GraphQLError) return { errors: [error] };
    throw error;
  }
}

/** Who an operation refused before authentication is audited as. */
const UNAUTHENTICATED: Identity = { id: 'unauthenticated', kind: 'anonymous', expiresAt: null, scope: EMPTY_SCOPE };

const limitError = (message: string, code: ErrorCode) => [gatewayError(code, message)];

/**
 * A member's credential check. Built out here so the closure holds only the
 * identity, not the `subscribe` hook's scope (its execution arguments) for
 * the subscription's life.
 */
const validWhile = (identity: Identity) => (at: number) => !isRevokedOrExpired(identity, new Date(at));

/**
 * graphql-ws (subprotocol graphql-transport-ws) on the same path as HTTP.
 * Operations run through yoga's envelop so plugins (limits, rate limits) apply
 * on both transports. A rejected operation (parse, validation, limits) gets an
 * `error` message for that operation only; the socket and the client's other
 * subscriptions stay open (never 4500).
 */
export function attachGraphQLWs(server: Server, yoga: YogaServerInstance<Record<string, unknown>, GatewayContext>, options: GraphQLWsOptions) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes });
  server.on('upgrade', upgradeGate({ path: options.path, allowUpgrade: options.allowUpgrade, log: options.log }, (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  }));

  const connections = new WeakMap<WebSocket, ConnectionState>();
  const slots = options.identitySlots ?? new IdentitySlots(options.maxConnectionsPerIdentity);
  const now = options.now ?? Date.now;
  const multiplexer = options.multiplexer ?? new SubscriptionMultiplexer({ queueLimit: options.queueLimit, queueBytes: options.queueBytes, now, ...(options.onSubscriberOverflow ? { onOverflow: options.onSubscriberOverflow } : {}) });
  const sources = options.sources ?? new SharedSources();
  const window = { frames: options.queueLimit, bytes: options.queueBytes };
  // From the first frame on, so everything the peer has unread is counted.
  wss.on('connection', (ws: WebSocket) => SocketFlow.of(ws, window));
  const eventFilters = options.subscriptionEventFilters ?? {};
  const filterableFields = new Set(Object.keys(eventFilters));

  const disposable = serveGraphQLWs(
    {
      execute: (args) => asResult(() => (args.rootValue as { execute: (a: ExecutionArgs) => unknown }).execute(args)) as never,
      subscribe: (args) => {
        const root = args.rootValue as Partial<MultiplexedRoot> & { subscribe?: (a: ExecutionArgs) => unknown; socket?: WebSocket };
        if (root.multiplexed) {
          const { key, start, id, socket, identity, accepts } = root.multiplexed;
          // graphql-ws keeps the execution arguments for the subscription's life: let go of what only joining needed.
          (root as { multiplexed?: unknown }).multiplexed = undefined;
          return multiplexer.join(key, start, {
            frame: graphqlWsNextFrame(id), socket: new WsFrameSocket(socket, SocketFlow.of(socket, window)), stillValid: validWhile(identity), accepts,
            ...(options.onSubscriberOverflow ? { onOverflow: options.onSubscriberOverflow } : {}),
          }) as never;
        }
        const flow = SocketFlow.of(root.socket!, window);
        return asResult(async () => {
          const result = await root.subscribe!(args);
          return result && typeof result === 'object' && Symbol.asyncIterator in result ? pacedByPeer(result as AsyncIterableIterator<unknown>, flow) : result;
        }) as never;
      },
      onConnect: async (ctx) => {
        const { socket, request } = ctx.extra;
        const remoteAddress = request.socket.remoteAddress ?? null;
        const identity = await options.identify({ connectionParams: ctx.connectionParams, headers: request.headers, remoteAddress });
        if (!identity) return false;
        if ('closeCode' in identity) {
          socket.close(identity.closeCode, identity.reason);
          return false;
        }
        // The socket may have closed while authentication was awaited: then it takes no slot at all.
        const isOpen = () => socket.readyState === socket.OPEN;
        if (!slots.acquire(slotKeyOf(identity, remoteAddress), socket, isOpen)) {
          if (isOpen()) socket.close(WsCloseCode.TooManyRequests, `Too many connections for this identity (limit ${slots.max})`);
          return false;
        }
        const stopWatching = options.onConnected?.(identity, (code, reason) => socket.close(code, reason)) ?? (() => undefined);
        connections.set(socket, { identity, active: new Set(), release: stopWatching });
        releaseUpgradeRequest(ctx.extra);
        return true;
      },
      onClose: (ctx) => {
        connections.get(ctx.extra.socket)?.release();
        connections.delete(ctx.extra.socket);
      },
      onSubscribe: async (ctx, id, payload) => {
        const startedAt = Date.now();
        const connection = connections.get(ctx.extra.socket);
        const denied = (errors: readonly GraphQLError[]) => {
          options.auditOperation?.({
            identity: connection?.identity ?? UNAUTHENTICATED,
            transport: 'ws', query: payload.query, operationName: payload.operationName, variables: payload.variables, errors, executed: false, startedAt,
          });
          return errors;
        };
        if (!connection) return denied(limitError('Not authenticated', ErrorCode.Unauthenticated));
        if (connection.active.size >= options.maxSubscriptionsPerConnection) {
          return denied(limitError(`Too many operations on this connection (limit ${options.maxSubscriptionsPerConnection})`, ErrorCode.SubscriptionLimit));
        }
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          identity: connection.identity,
        });
        const source = options.resolveDocument ? options.resolveDocument(payload) : payload.query;
        if (source instanceof GraphQLError) return denied([source]);
        try {
          const document = parse(source);
          const errors = validate(schema, document);
          if (errors.length > 0) return denied(errors);
          const refused = getOperationAST(document, payload.operationName)?.operation === 'subscription' ? options.refuseSubscription?.() : null;
          if (refused) return denied([refused]);
          connection.active.add(id);
          const multiplexed = prepareMultiplexed({ yoga, schema, document, source, payload, identity: connection.identity, id, socket: ctx.extra.socket, eventFilters, filterableFields, sources });
          if (multiplexed && !('schema' in multiplexed)) {
            connection.active.delete(id);
            return denied(multiplexed);
          }
          if (multiplexed) return multiplexed;
          return {
            schema,
            operationName: payload.operationName ?? null,
            document,
            variableValues: payload.variables ?? null,
            contextValue: await contextFactory(),
            rootValue: { execute, subscribe, socket: ctx.extra.socket },
          } satisfies ExecutionArgs;
        } catch (error) {
          return denied([error instanceof GraphQLError ? error : gatewayError(ErrorCode.BadRequest, 'Invalid operation')]);
        }
      },
      onOperation: (ctx, _id, payload, _args, result) => {
        const connection = connections.get(ctx.extra.socket);
        if (!connection || !options.auditOperation) return;
        const errors = Symbol.asyncIterator in result ? undefined : (result as { errors?: readonly GraphQLError[] }).errors;
        options.auditOperation({
          identity: connection.identity, transport: 'ws', query: payload.query, operationName: payload.operationName,
          variables: payload.variables, errors, executed: true, startedAt: Date.now(),
        });
      },
      onComplete: (ctx, id) => {
        connections.get(ctx.extra.socket)?.active.delete(id);
      },
      onError: (ctx, id, _payload, errors) => {
        connections.get(ctx.extra.socket)?.active.delete(id);
        return options.formatErrors?.(errors);
      },
    },
    wss,
    options.onInternalError ?? (() => undefined),
    // graphql-ws's own frames (acks, errors, solo subscriptions' results) count towards the peer's window.
    (socket, bytes) => SocketFlow.of(socket, window).sent(bytes),
  );
  const heartbeat = startHeartbeat(wss, options.keepAliveMs);

  return {
    wss,
    /** Per-identity slots held by WebSocket connections (and SSE streams, when shared). */
    slots,
    /** Multiplexed subscriptions: groups (one per distinct operation), their members (SSE members too when the multiplexer is shared), and the sources (one bus listener each) they share. */
    get multiplexed(): { groups: number; members: number; sources: number } {
      return { ...multiplexer.size, sources: sources.size };
    },
    /** Closes every socket with 1001 (going away) so clients reconnect elsewhere. */
    async dispose(): Promise<void> {
      heartbeat.stop();
      await disposable.dispose();
    },
  };
}
