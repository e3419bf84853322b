import type { ServerResponse } from 'node:http';
import { print, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { isRevokedOrExpired } from '../auth/scope.ts';
import type { GatewayContext } from '../context.ts';
import { ErrorCode, gatewayError } from '../errors.ts';
import type { GatewayYoga } from './gateway-yoga.ts';
import { prepareMultiplexed, type MultiplexedRoot } from './multiplexed-subscribe.ts';
import type { SharedSources } from './shared-sources.ts';
import { SseFrameSocket } from './sse-frame-socket.ts';
import { sseEventIdsOf, usableId } from './sse-event-ids.ts';
import type { FrameWriter, SubscriptionMultiplexer } from './subscription-multiplexer.ts';

export interface SseMultiplexingOptions {
  /** Shared with graphql-ws: identical subscriptions on either transport form one group. */
  readonly multiplexer: SubscriptionMultiplexer;
  /** Shared with graphql-ws too: groups that differ only in their selection listen to one source (shared-sources.ts). */
  readonly sources: SharedSources;
  /** Per-field event filters (src/resolvers/subscription-resolvers.ts), for members differing only in `filter`. */
  readonly eventFilters: Readonly<Record<string, (filter: unknown) => (event: unknown) => boolean>>;
  /** False: every SSE subscription runs on its own, as before multiplexing (A/B benches, diagnosis). */
  readonly enabled: () => boolean;
  /** Told when an SSE member is ended for falling behind (/metrics). */
  readonly onOverflow?: () => void;
}

/** The SSE `next` event yoga would write for this result, with the event's cursor as its `id:` (sse-event-ids.ts). */
function sseNextFrame(ids: boolean): FrameWriter {
  if (!ids) return (payload) => `event: next\ndata: ${payload}\n\n`;
  return (payload, event) => {
    const id = (event as { cursor?: unknown } | undefined)?.cursor;
    return usableId(id) ? `event: next\ndata: ${payload}\nid: ${id}\n\n` : `event: next\ndata: ${payload}\n\n`;
  };
}

/**
 * SSE subscriptions join the subscription multiplexer, as graphql-ws ones do:
 * identical operations (same text, variables or member-filter rule, and scope:
 * multiplex-key.ts) share one execution and one serialization, and each
 * member's frames are written straight to its response (sse-frame-socket.ts).
 *
 * Where: a yoga plugin at `onSubscribe`, so each SSE request still passes
 * everything it passed before, in yoga and in front of it: authentication,
 * slots and load shedding (graphql-http.ts), CSRF prevention (onRequest),
 * persisted operations and the audit's params (onParams), the operation
 * limits (parse, validate), context building, and the onSubscribe hooks of the
 * plugins before this one; tracing and sse-event-ids come after and wrap the
 * subscribe function set here. Only the per-subscriber execution is replaced:
 * resolvers (and field rate limits on them) run in the group's execution, as
 * for graphql-ws members. yoga still sends the response: its SSE head, the
 * first comment and keep-alive comments, and the end: a member ended with an
 * error (overflow, credentials) yields it as a last `next` event with errors,
 * then `complete`, which is what a subscription of its own sends. The stream
 * tracking for shutdown (sse-streams.ts) sees the response as before.
 *
 * Not shared: resumes (`after`, or `Last-Event-ID` on a field that takes
 * `after`) and fields that run alone (multiplex-key.ts); those run as before.
 */
export function useSseMultiplexing(options: SseMultiplexingOptions): Plugin {
  let yoga: GatewayYoga | null = null;
  const filterableFields = new Set(Object.keys(options.eventFilters));
  return {
    onYogaInit({ yoga: instance }) {
      yoga = instance as unknown as GatewayYoga;
    },
    onSubscribe({ args, setSubscribeFn }) {
      const context = args.contextValue as unknown as GatewayContext & { request?: Request; res?: ServerResponse; params?: { query?: unknown } };
      const res = context.res;
      if (context.transport !== 'sse' || !res || !yoga || !options.enabled()) return;
      const lastEventId = context.request?.headers.get('last-event-id') ?? null;
      const ids = sseEventIdsOf(args.schema, args.document, args.operationName, lastEventId);
      if (ids.resumes) return;
      const identity = context.identity;
      // The text as received is the group key's source, as on graphql-ws (printed only if a plugin supplied the document).
      const source = typeof context.params?.query === 'string' ? context.params.query : print(args.document);
      const variables = (args.variableValues ?? null) as Record<string, unknown> | null;
      const prepared = prepareMultiplexed({
        yoga, schema: args.schema, document: args.document, source, payload: { operationName: args.operationName ?? null, variables }, identity,
        // The operation id and socket are graphql-ws's; an SSE member has neither (only key, start and filter are read below).
        id: '', socket: undefined as never, eventFilters: options.eventFilters, filterableFields, sources: options.sources,
      });
      if (!prepared) return;
      if (!('schema' in prepared)) {
        // This member's own filter is invalid: its errors are the result, as a subscription of its own would answer.
        setSubscribeFn(() => ({ errors: prepared }) as ExecutionResult);
        return;
      }
      const { key, start, accepts } = (prepared.rootValue as MultiplexedRoot).multiplexed;
      setSubscribeFn(async () => {
        const joined = await options.multiplexer.join(key, start, {
          frame: sseNextFrame(ids.ids),
          socket: new SseFrameSocket(res),
          stillValid: (at) => !isRevokedOrExpired(identity, new Date(at)),
          accepts,
          ...(options.onOverflow ? { onOverflow: options.onOverflow } : {}),
        });
        if (!(Symbol.asyncIterator in joined)) return joined;
        // Expiry and revocation end the stream by push too, as the subscription's own guard did (subscription-resolvers.ts).
        const stopWatching = context.credentials.watch(identity, (why) => joined.end(gatewayError(ErrorCode.Unauthenticated, `Credentials ${why}`)));
        res.once('close', () => {
          stopWatching();
          void joined.return?.();
        });
        return joined;
      });
    },
  };
}
