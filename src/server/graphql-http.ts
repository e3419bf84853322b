import type { IncomingMessage, ServerResponse } from 'node:http';
import type { YogaServerInstance } from 'graphql-yoga';
import { isAuthError, type Identity } from '../auth/types.ts';
import { ANONYMOUS, type GatewayContext } from '../context.ts';
import { ErrorCode, errorBody } from '../errors.ts';
import { BodyTooLargeError, readBody } from '../ingest/read-body.ts';
import type { GatewayAuthentication } from './authentication.ts';
import { hasBody, type BodySlots } from './body-slots.ts';
import type { CorsPolicy } from './cors.ts';
import type { GatewayRoute } from './gateway-plugin.ts';
import { sendJson } from './http-json.ts';
import { sendAuthError } from './identify-caller.ts';
import { slotKeyOf, type IdentitySlots } from './identity-slots.ts';
import type { LoadShedder } from './load-shedding.ts';

export interface GraphQLHttpDeps {
  readonly path: string;
  readonly yoga: YogaServerInstance<Record<string, unknown>, GatewayContext>;
  readonly authentication: GatewayAuthentication;
  readonly cors: CorsPolicy;
  readonly shedder: LoadShedder;
  readonly bodySlots: BodySlots;
  readonly bodyLimitBytes: number;
  /** Shared with WebSockets: the per-identity connection limit holds on every transport. */
  readonly identitySlots: IdentitySlots;
}

/**
 * What yoga's node adapter reads of a request: the URL comes from the parsed
 * target on a fixed host (never the client's Host header, see request-target.ts)
 * and the body is the one already read under the body limit.
 */
function yogaRequestOf(req: IncomingMessage, url: URL, body: Buffer | undefined) {
  return {
    method: req.method,
    headers: req.headers,
    socket: req.socket,
    raw: {
      url: url.pathname + url.search,
      headers: { host: url.host },
      socket: req.socket,
      async *[Symbol.asyncIterator]() {
        if (body && body.length > 0) yield body;
      },
    },
  };
}

/**
 * GraphQL over HTTP and SSE. The front-door checks run in the order that
 * keeps a refused client cheap: CORS preflight, load shedding, credentials
 * (from headers, before any body is read), the identity's stream slot, then
 * the body under its limit; yoga's own node handler does the rest.
 */
export function createGraphQLHttpRoute(deps: GraphQLHttpDeps): GatewayRoute {
  const { cors, shedder, bodySlots, identitySlots } = deps;
  // yoga's node adapter takes server context after (req, res), as its typed `handle(req, res, ...ctx)` does.
  const serveWithYoga = deps.yoga.requestListener as unknown as (req: unknown, res: ServerResponse, context: { identity: Identity }) => Promise<void>;

  async function authenticate(req: IncomingMessage, res: ServerResponse): Promise<Identity | null> {
    // GraphiQL's page is static and holds no data; everything it queries is authenticated.
    if (req.method === 'GET' && (req.headers.accept ?? '').includes('text/html')) return ANONYMOUS;
    const transport = (req.headers.accept ?? '').includes('text/event-stream') ? 'sse' : 'http';
    const result = await deps.authentication.http(req, transport);
    if (isAuthError(result)) {
      // The body is left unread: close rather than drain it.
      if (hasBody(req)) res.setHeader('connection', 'close');
      sendAuthError(res, result);
      return null;
    }
    const open = () => !req.socket.destroyed && !res.writableEnded;
    if (transport === 'sse' && !identitySlots.acquire(slotKeyOf(result, req.socket.remoteAddress), res, open)) {
      sendJson(res, 429, errorBody(ErrorCode.ConnectionLimit, `Too many connections for this identity (limit ${identitySlots.max})`));
      return null;
    }
    return result;
  }

  /** The body under the limit; undefined when none is sent; null when the request was answered. */
  async function readLimitedBody(req: IncomingMessage, res: ServerResponse): Promise<Buffer | undefined | null> {
    if (req.method !== 'POST') return undefined;
    if (!bodySlots.tryTake(req, res)) {
      bodySlots.refuse(res);
      return null;
    }
    try {
      return await readBody(req, deps.bodyLimitBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        res.setHeader('connection', 'close');
        sendJson(res, 413, errorBody(ErrorCode.PayloadTooLarge, `Request body larger than ${error.limit} bytes`));
      } else {
        sendJson(res, 400, errorBody(ErrorCode.BadRequest, 'Could not read the request body'));
      }
      return null;
    }
  }

  return {
    handles: (pathname) => pathname === deps.path,
    async handle(req, res, url) {
      // Preflights come without credentials: answered before authentication.
      if (cors.answerPreflight(req, res)) return;
      cors.decorate(req, res);
      if (shedder.refuseStream(req, res)) return;
      const identity = await authenticate(req, res);
      if (!identity) return;
      const body = await readLimitedBody(req, res);
      if (body === null) return;
      // yoga's node adapter: headers as Node parsed them, abort on close, streaming with backpressure.
      await serveWithYoga(yogaRequestOf(req, url, body), res, { identity });
    },
  };
}
