import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface FakeUpstream {
  /** http://127.0.0.1:PORT (no trailing slash); set once the server listens. */
  readonly url: string;
}

/**
 * A node:http server on 127.0.0.1:0 standing in for an upstream API, started in
 * beforeAll and closed (connections included) in afterAll. Call at module or
 * describe level; `onRequest` usually records the request and delegates to a
 * per-test handler.
 */
export function useFakeUpstream(onRequest: UpstreamHandler): FakeUpstream {
  let server: Server | undefined;
  let url = '';
  beforeAll(async () => {
    const s = createServer(onRequest);
    server = s;
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    const s = server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  });
  return {
    get url() {
      return url;
    },
  };
}

/** The error-status → UpstreamError code mapping every client shares (for `it.each`). */
export const HTTP_ERROR_CODES: [status: number, code: string][] = [
  [401, 'UPSTREAM_UNAUTHORIZED'],
  [403, 'UPSTREAM_UNAUTHORIZED'],
  [404, 'UPSTREAM_BAD_RESPONSE'],
  [500, 'UPSTREAM_UNAVAILABLE'],
  [503, 'UPSTREAM_UNAVAILABLE'],
];
