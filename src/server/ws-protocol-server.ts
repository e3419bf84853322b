import { CloseCode, handleProtocols, makeServer, MessageType, parseMessage, type ServerOptions } from 'graphql-ws';
import type { IncomingMessage } from 'node:http';
import type { WebSocket, WebSocketServer } from 'ws';

/** What graphql-ws hands our hooks as `ctx.extra`. */
export interface WsExtra {
  socket: WebSocket;
  request: IncomingMessage;
}

/** The message types a client may send under graphql-transport-ws; anything else is a protocol error (4400). */
const CLIENT_MESSAGE_TYPES: ReadonlySet<string> = new Set([MessageType.ConnectionInit, MessageType.Ping, MessageType.Pong, MessageType.Subscribe, MessageType.Complete]);

function isClientMessage(data: string): boolean {
  try {
    return CLIENT_MESSAGE_TYPES.has(parseMessage(data).type);
  } catch {
    return false;
  }
}

/** graphql-ws's default: a connection that sends no connection_init within 3 s is closed with 4408. */
const CONNECTION_INIT_WAIT_MS = 3000;

/** Receiver errors (bad framing, oversize payload): ws already closes with the matching 1002/1007/1009. */
function ignoreError(): void {}

/**
 * graphql-ws's view of one `ws` socket. A class, so 10,000 idle connections
 * share its methods instead of holding closures each.
 */
class ProtocolSocket {
  constructor(
    private readonly ws: WebSocket,
    private readonly onSent: ((socket: WebSocket, bytes: number) => void) | undefined,
    private readonly onInternalError: (error: unknown) => void,
  ) {}

  get protocol(): string {
    return this.ws.protocol;
  }

  send(data: string): Promise<void> {
    const ws = this.ws;
    if (ws.readyState !== ws.OPEN) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      ws.send(data, (err) => (err ? reject(err) : resolve()));
      this.onSent?.(ws, data.length);
    });
  }

  close(code?: number, reason?: string): void {
    this.ws.close(code, reason);
  }

  onMessage(cb: (data: string) => Promise<void>): void {
    this.ws.on('message', async (event) => {
      const data = String(event);
      try {
        await cb(data);
      } catch (error) {
        if (!isClientMessage(data)) return this.ws.close(CloseCode.BadRequest, 'Invalid message received');
        this.onInternalError(error);
        this.ws.close(CloseCode.InternalServerError, 'Internal server error');
      }
    });
  }
}

/**
 * graphql-ws's server on `ws` sockets: what `graphql-ws/use/ws` does, minus
 * its keep-alive (heartbeat.ts does that with one timer) and with protocol
 * close codes for client mistakes. graphql-ws throws on a well-formed message
 * a client may not send (`connection_ack`, `next`, `error`), and its ws glue
 * turns every throw into 4500; here those close with 4400 Bad Request, and
 * only a genuine server fault is 4500.
 *
 * The connection_init wait (4408) is kept here rather than by graphql-ws,
 * whose timer and its closure stay referenced for the connection's whole life
 * (about 200 bytes per idle subscriber); ours is released once it has run.
 * `onSent` hears of every frame graphql-ws writes (socket-flow.ts counts them).
 */
export function serveGraphQLWs(
  options: ServerOptions<Record<string, unknown> | undefined, WsExtra>,
  wss: WebSocketServer,
  onInternalError: (error: unknown) => void,
  onSent?: (socket: WebSocket, bytes: number) => void,
) {
  const initWaitMs = options.connectionInitWaitTimeout ?? CONNECTION_INIT_WAIT_MS;
  /** Sockets that have not sent connection_init yet. */
  const awaitingInit = new Set<WebSocket>();
  const closeIfNotInitialised = (socket: WebSocket) => {
    if (awaitingInit.delete(socket)) socket.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
  };
  const { onConnect } = options;
  const server = makeServer({
    ...options,
    connectionInitWaitTimeout: Infinity,
    onConnect: (ctx) => {
      // graphql-ws calls this as soon as connection_init arrives, before authentication settles.
      awaitingInit.delete(ctx.extra.socket);
      return onConnect?.(ctx);
    },
  });
  wss.options.handleProtocols = handleProtocols;
  wss.on('error', onInternalError);
  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    socket.on('error', ignoreError);
    if (initWaitMs > 0 && Number.isFinite(initWaitMs)) {
      awaitingInit.add(socket);
      setTimeout(closeIfNotInitialised, initWaitMs, socket);
    }
    const closed = server.opened(new ProtocolSocket(socket, onSent, onInternalError), { socket, request });
    // 'close' is emitted once: `on` spares the per-socket wrapper `once` allocates.
    socket.on('close', (code, reason) => {
      awaitingInit.delete(socket);
      void closed(code, String(reason)).catch(onInternalError);
    });
  });
  return {
    /** Closes every socket with 1001 (going away). */
    async dispose(): Promise<void> {
      for (const client of wss.clients) client.close(1001, 'Going away');
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
