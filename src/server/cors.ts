import type { IncomingMessage, ServerResponse } from 'node:http';

export interface CorsConfig {
  /** Allowed origins, exact (`https://ci.example.com`); none by default. */
  readonly origins: readonly string[];
  readonly maxAgeSeconds: number;
}

/** What a browser may send cross-origin: the gateway's credentials, content and CSRF headers. */
const ALLOWED_HEADERS = 'authorization, content-type, accept, x-api-key, x-switchyard-client, x-graphql-yoga-csrf';
const EXPOSED_HEADERS = 'retry-after, www-authenticate';

const header = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/**
 * The CORS allow-list (config `server.cors`). Deny by default: an origin not in
 * the list gets no CORS header at all (never reflected), preflights are
 * answered before authentication (a browser sends them without credentials),
 * and credentialed (cookie) mode is never allowed: the gateway authenticates
 * with headers, which need no cookies.
 */
export function createCorsPolicy(config: CorsConfig) {
  const allowed = new Set(config.origins);
  const allows = (origin: string | undefined): origin is string => origin !== undefined && allowed.has(origin);

  return {
    allows,

    /**
     * Answers an OPTIONS request (a preflight when it carries Origin and
     * Access-Control-Request-Method): 204 with the policy for an allowed
     * origin, 403 for any other. Returns false for other methods.
     */
    answerPreflight(req: IncomingMessage, res: ServerResponse): boolean {
      if (req.method !== 'OPTIONS') return false;
      const origin = header(req.headers.origin);
      res.setHeader('vary', 'Origin');
      if (origin === undefined || req.headers['access-control-request-method'] === undefined) {
        res.writeHead(204, { allow: 'GET, POST, OPTIONS', 'content-length': 0 });
      } else if (allows(origin)) {
        res.writeHead(204, {
          'access-control-allow-origin': origin,
          'access-control-allow-methods': 'GET, POST',
          'access-control-allow-headers': ALLOWED_HEADERS,
          'access-control-max-age': String(config.maxAgeSeconds),
          'content-length': 0,
        });
      } else {
        const body = JSON.stringify({ error: 'origin not allowed (server.cors.origins)' });
        res.writeHead(403, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return true;
      }
      res.end();
      return true;
    },

    /** Sets the CORS headers of an actual request's response: only for an allowed origin. */
    decorate(req: IncomingMessage, res: ServerResponse): void {
      res.setHeader('vary', 'Origin');
      const origin = header(req.headers.origin);
      if (!allows(origin)) return;
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
    },

    /**
     * WebSocket upgrades are not covered by CORS, so the Origin is checked here:
     * a browser always sends it, and it must be listed or be the gateway's own
     * (GraphiQL, served from /graphql). No Origin: not a browser, allowed (the
     * connection still has to authenticate).
     */
    allowsUpgrade(req: IncomingMessage): boolean {
      const origin = header(req.headers.origin);
      if (origin === undefined || allows(origin)) return true;
      try {
        return new URL(origin).host === header(req.headers.host);
      } catch {
        return false;
      }
    },
  };
}

export type CorsPolicy = ReturnType<typeof createCorsPolicy>;
