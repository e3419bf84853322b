import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, errorBody } from '../errors.ts';

/** Whether a request carries a body to read (a declared length above 0, or chunked). */
export function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = Number(req.headers['content-length'] ?? 0);
  return !Number.isFinite(length) || length > 0;
}

/**
 * A cap on request bodies being read at once (GraphQL POSTs and webhooks), so
 * slow or half-sent bodies cannot hold memory without bound: bodies × the
 * body limit at most. A slot is held until the body has been read or the
 * request is gone.
 */
export class BodySlots {
  private reading = 0;

  constructor(readonly limit: number) {}

  /** Bodies being read now. */
  get size(): number {
    return this.reading;
  }

  /**
   * Takes a slot for `req`'s body; false when all are taken (answer 503).
   * Requests without a body need none. Released when the body has been read,
   * or when the response is done or the connection gone (an unread body is
   * then discarded by Node, not held, and `req` may never emit again).
   */
  tryTake(req: IncomingMessage, res: ServerResponse): boolean {
    if (!hasBody(req)) return true;
    if (this.reading >= this.limit) return false;
    this.reading++;
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      this.reading--;
    };
    req.once('end', release);
    req.once('error', release);
    res.once('close', release);
    return true;
  }

  /** The answer when no slot is free: 503 with Retry-After; the body is left unread, so the connection closes rather than drain it. */
  refuse(res: ServerResponse): void {
    const body = JSON.stringify(errorBody(ErrorCode.ServerBusy, `Server busy: ${this.limit} request bodies are being read (server.maxConcurrentBodies); retry`));
    res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'retry-after': '1', connection: 'close' });
    res.end(body);
  }
}
