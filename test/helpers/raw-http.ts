/**
 * Raw TCP clients for what fetch and ws will not send: malformed request
 * lines and headers, half-sent bodies, idle connections.
 */
import net from 'node:net';

export interface RawExchange {
  /** Everything the server wrote, as latin1 text. */
  readonly response: string;
  /** Whether the server closed (or reset) the connection within the time allowed. */
  readonly closed: boolean;
}

/** Connects, writes `payload` (and half-closes when `end`), and collects the answer until the server closes or `timeoutMs` passes. */
export function rawExchange(port: number, payload: string | Buffer, options: { end?: boolean; timeoutMs?: number } = {}): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ response: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const timer = setTimeout(() => finish(false), options.timeoutMs ?? 3000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => finish(true));
    socket.on('connect', () => {
      if (options.end ?? true) socket.end(payload);
      else socket.write(payload);
    });
  });
}

/** An open raw connection that collects what the server writes. */
export interface RawConnection {
  readonly socket: net.Socket;
  /** Everything received so far (latin1). */
  received(): string;
  /** Resolves with what was received once it matches `pattern`; rejects on close or timeout first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the server has closed the connection (true), or false after `timeoutMs`. */
  closed(timeoutMs?: number): Promise<boolean>;
  close(): void;
}

export function openRaw(port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let isClosed = false;
    const waiters = new Set<() => void>();
    const notify = () => {
      for (const w of [...waiters]) w();
    };
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      notify();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      isClosed = true;
      notify();
    });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve({
        socket,
        received: () => text,
        waitFor: (pattern, timeoutMs = 5000) =>
          new Promise((ok, fail) => {
            const check = () => {
              if (pattern.test(text)) done(() => ok(text));
              else if (isClosed) done(() => fail(new Error(`closed before ${pattern}; received ${JSON.stringify(text.slice(0, 300))}`)));
            };
            const done = (settle: () => void) => {
              clearTimeout(timer);
              waiters.delete(check);
              settle();
            };
            const timer = setTimeout(() => done(() => fail(new Error(`timed out waiting for ${pattern}; received ${JSON.stringify(text.slice(0, 300))}`))), timeoutMs);
            waiters.add(check);
            check();
          }),
        closed: (timeoutMs = 5000) =>
          new Promise((ok) => {
            const check = () => {
              if (!isClosed) return;
              clearTimeout(timer);
              waiters.delete(check);
              ok(true);
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              ok(false);
            }, timeoutMs);
            waiters.add(check);
            check();
          }),
        close: () => socket.destroy(),
      });
    });
  });
}

/** An HTTP/1.1 request as text. */
export function httpRequest(method: string, target: string, headers: Record<string, string | number>, body = ''): string {
  const lines = [`${method} ${target} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}
