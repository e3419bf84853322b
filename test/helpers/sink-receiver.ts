import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback receiver for sink tests: records each request, then answers as told. */

export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** What the receiver does with the next request: answer, never answer, or drop the connection. */
export type Behaviour =
  | { readonly kind: 'answer'; readonly status: number; readonly headers?: Record<string, string>; readonly body?: string }
  | { readonly kind: 'hang' }
  /** Answers `status`, then a body that never ends (until the client goes away). */
  | { readonly kind: 'endless'; readonly status: number }
  | { readonly kind: 'reset' };

export interface SinkReceiver {
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  readonly received: ReceivedRequest[];
  behaviour: Behaviour;
  /** Resolves with the next request recorded (a barrier: no sleeps). */
  nextRequest(): Promise<ReceivedRequest>;
  close(): Promise<void>;
}

export async function startSinkReceiver(): Promise<SinkReceiver> {
  const received: ReceivedRequest[] = [];
  const waiting: ((r: ReceivedRequest) => void)[] = [];
  const hung = new Set<http.ServerResponse>();
  const state: { behaviour: Behaviour } = { behaviour: { kind: 'answer', status: 200, body: 'ok' } };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(request);
      waiting.splice(0).forEach((resolve) => resolve(request));
      const b = state.behaviour;
      if (b.kind === 'hang') hung.add(res);
      else if (b.kind === 'reset') req.socket.resetAndDestroy();
      else if (b.kind === 'endless') {
        hung.add(res);
        res.writeHead(b.status, { 'content-type': 'text/plain' });
        const chunk = 'x'.repeat(16_384);
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
      }
      else res.writeHead(b.status, b.headers).end(b.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    get behaviour() {
      return state.behaviour;
    },
    set behaviour(b: Behaviour) {
      state.behaviour = b;
    },
    nextRequest: () => new Promise((resolve) => waiting.push(resolve)),
    async close() {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
