import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { GatewayRoute } from '../server/gateway-plugin.ts';
import { sendJson } from '../server/http-json.ts';
import { refuseScrape, type MetricsAccess } from './metrics-access.ts';

/**
 * Serves the exposition: GET/HEAD on `path`, after the access check. It runs
 * outside yoga, so GraphQL rate limits and the operation audit never see it.
 */
export function createMetricsRoute(registry: Registry, path: string, access: MetricsAccess): GatewayRoute {
  return {
    handles: (pathname) => pathname === path,
    async handle(req: IncomingMessage, res: ServerResponse) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        return sendJson(res, 405, { error: 'method not allowed' });
      }
      const refused = refuseScrape(req, access);
      if (refused) {
        if (refused.status === 401) res.setHeader('www-authenticate', 'Bearer realm="metrics"');
        return sendJson(res, refused.status, { error: refused.error });
      }
      const text = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
      res.end(req.method === 'HEAD' ? undefined : text);
    },
  };
}

/** `metrics.listen`: the route on a listener of its own; anything else there is 404. */
export function createMetricsListener(route: GatewayRoute) {
  const server: Server = createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://metrics.invalid').pathname;
    if (!route.handles(pathname)) return sendJson(res, 404, { error: 'not found' });
    Promise.resolve(route.handle(req, res, new URL(pathname, 'http://metrics.invalid'))).catch(() => {
      if (!res.headersSent) sendJson(res, 500, { error: 'metrics failed' });
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return {
    server,
    listen: (port: number, host: string) =>
      new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
