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

/**
 * graphql-ws's server on `ws` sockets: what `graphql-ws/use/ws` does, minus
 * its keep-alive (heartbeat.ts does that with one timer) and with protocol
 * close codes for client mistakes. graphql-ws throws on a well-formed message
 * a client may not send (`connection_ack`, `next`, `error`), and its ws glue
 * turns every throw into 4500; here those close with 4400 Bad Request, and
 * only a genuine server fault is 4500.
 */
export function serveGraphQLWs(options: ServerOptions<Record<string, unknown> | undefined, WsExtra>, wss: WebSocketServer, onInternalError: (error: unknown) => void) {
  const server = makeServer(options);
  wss.options.handleProtocols = handleProtocols;
  wss.on('error', onInternalError);
  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    // Receiver errors (bad framing, oversize payload): ws already closes with the matching 1002/1007/1009.
    socket.on('error', () => undefined);
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) => new Promise<void>((resolve, reject) => {
          if (socket.readyState !== socket.OPEN) return resolve();
          socket.send(data, (err) => (err ? reject(err) : resolve()));
        }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (cb) => socket.on('message', async (event) => {
          const data = String(event);
          try {
            await cb(data);
          } catch (error) {
            if (!isClientMessage(data)) return socket.close(CloseCode.BadRequest, 'Invalid message received');
            onInternalError(error);
            socket.close(CloseCode.InternalServerError, 'Internal server error');
          }
        }),
      },
      { socket, request },
    );
    socket.once('close', (code, reason) => void closed(code, String(reason)).catch(onInternalError));
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
