import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';

/**
 * Rule: no exception in a request, upgrade or socket handler may end the
 * process. An event listener that throws (or a promise it returns that
 * rejects) would otherwise become an uncaught exception and drop every client.
 */

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Writes a bodiless HTTP/1.1 answer straight to a socket (no response object exists) and closes it. */
export function endSocketWithStatus(socket: Duplex, status: number): void {
  if (socket.writable) socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  else socket.destroy();
}

/** A request listener whose failures are logged and answered 500 (or end the connection once headers are out). */
export function guardRequestListener(log: Logger, handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const fail = (error: unknown) => {
      log.error({ err: message(error), method: req.method }, 'request failed');
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      const body = JSON.stringify({ error: 'internal error' });
      res.writeHead(500, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
      res.end(body);
    };
    try {
      const pending = handler(req, res);
      if (pending) pending.catch((error: unknown) => guarded(fail, error));
    } catch (error) {
      guarded(fail, error);
    }
  };
}

/** An upgrade listener with an 'error' handler on its raw socket (Node removes its own on upgrade) and a 500 on failure. */
export function guardUpgradeListener(log: Logger, handler: (req: IncomingMessage, socket: Duplex, head: Buffer) => void) {
  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', (error) => log.debug({ err: message(error) }, 'upgrade socket error'));
    try {
      handler(req, socket, head);
    } catch (error) {
      log.error({ err: message(error) }, 'upgrade failed');
      guarded(() => endSocketWithStatus(socket, 500), undefined);
    }
  };
}

/**
 * Answers what Node's HTTP parser refuses (malformed request line or headers,
 * oversized headers, timeouts) the way Node would, and never throws. Called
 * for the server's 'clientError'.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  // A response already in progress on this connection cannot be followed by another status line.
  const inResponse = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (error.code === 'ECONNRESET' || !socket.writable || inResponse) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  endSocketWithStatus(socket, status);
}

/** Last line of defence inside a failure path: a second failure only destroys what it can. */
function guarded<T>(fn: (arg: T) => void, arg: T): void {
  try {
    fn(arg);
  } catch {
    // Nothing sensible is left to do for this one client; the process keeps serving the others.
  }
}
