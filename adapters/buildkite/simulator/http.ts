/**
 * The REST v2 surface: Bearer auth with token scopes, the rate limits
 * (rate-limit.ts: RateLimit-* headers on every authenticated answer, 429 past them), Link-header
 * pagination without totals, build list filters, and fault injection,
 * answering the way api.buildkite.com does. Routes live in http-routes.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  faultHeaders, injectFault, type FaultScope, type SimFault as Fault, type SimRequestRecord as RequestRecord,
} from '../../../sim-kit/sim-faults.ts';
import type { JobLogs } from './job-logs.ts';
import type { UrlBase } from './payloads.ts';
import { routeRequest, type Reply } from './http-routes.ts';
import { RateLimits, type RateLimitSpec } from './rate-limit.ts';
import type { WorldEvent } from './world-entities.ts';
import { SimRefusal, type World } from './world.ts';

export type { Fault, RequestRecord };

export type Scope = 'read_builds' | 'read_build_logs' | 'read_agents' | 'write_builds' | 'read_pipelines' | 'write_agents';
export const ALL_SCOPES: readonly Scope[] = ['read_builds', 'read_build_logs', 'read_agents', 'write_builds', 'read_pipelines', 'write_agents'];

export interface SimToken {
  readonly token: string;
  readonly scopes: readonly string[];
}

export interface HttpContext extends FaultScope {
  readonly world: World;
  readonly base: () => UrlBase;
  readonly tokens: readonly SimToken[];
  readonly rateLimit: RateLimitSpec;
  /** Per token (Buildkite's per-user limit); none: no RateLimit-User-* headers. */
  readonly userRateLimit?: RateLimitSpec | undefined;
  readonly now: () => Date;
  readonly logs: JobLogs;
  /** Sends the webhooks an action causes. */
  readonly emit: (events: readonly WorldEvent[]) => void;
  /** Which token (index in `tokens`, or null) each request carried. */
  readonly noteToken: (r: { method: string; path: string; token: string | null }) => void;
}

const AUTH_REQUIRED = 'Authentication required. Please supply a valid API Access Token: https://buildkite.com/docs/apis/rest-api#authentication';

export function createHttpHandler(ctx: HttpContext): (req: IncomingMessage, res: ServerResponse) => void {
  const limits = new RateLimits(ctx.rateLimit, ctx.userRateLimit);

  return (req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (reply: Reply, extra: Record<string, string> = {}): void => {
        ctx.record({ method, path, status: reply.status });
        const isText = typeof reply.body === 'string' || Buffer.isBuffer(reply.body);
        const payload = reply.body === undefined ? Buffer.alloc(0)
          : Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(isText ? String(reply.body) : JSON.stringify(reply.body));
        res.writeHead(reply.status, {
          'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
          'x-request-id': ctx.world.random.uuid(),
          ...extra,
          ...(reply.headers ?? {}),
          'content-length': String(payload.length),
        });
        res.end(method === 'HEAD' ? undefined : payload);
      };

      const fault = injectFault(ctx, method, path, res);
      if (fault === 'held') return;
      if (fault) {
        send({ status: fault.status, body: fault.body ?? { message: fault.status === 429 ? 'You have exceeded your rate limit' : 'Internal Server Error' } },
          faultHeaders(fault));
        return;
      }

      const url = new URL(path, 'http://sim');
      // The unauthenticated root answers anyone (a health probe).
      if (url.pathname === '/' || url.pathname === '/v2' || url.pathname === '/v2/') {
        send({ status: 200, body: { message: '🛠', timestamp: Math.floor(ctx.now().getTime() / 1000) } });
        return;
      }
      const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim() ?? null;
      const token = bearer === null ? undefined : ctx.tokens.find((t) => t.token === bearer);
      ctx.noteToken({ method, path, token: token ? token.token : null });
      if (!token) {
        send({ status: 401, body: { message: AUTH_REQUIRED } });
        return;
      }
      const rate = limits.take(token.token, Math.floor(ctx.now().getTime() / 1000));
      if (rate.refusal) {
        send({ status: 429, body: rate.refusal }, rate.headers);
        return;
      }
      let body: unknown = null;
      const raw = Buffer.concat(chunks).toString('utf8');
      if (raw.trim() !== '') {
        try {
          body = JSON.parse(raw);
        } catch {
          send({ status: 400, body: { message: 'Problems parsing JSON' } }, rate.headers);
          return;
        }
      }
      try {
        const reply = routeRequest({
          ctx, method, url, body, headers: req.headers,
          allow: (scope) => {
            if (token.scopes.includes(scope)) return;
            throw new SimRefusal(403, `Your access token doesn't have the ${scope} scope`);
          },
        });
        send(reply, rate.headers);
      } catch (err) {
        if (err instanceof SimRefusal) {
          send({ status: err.status, body: { message: err.message, ...(err.errors ? { errors: err.errors } : {}) } }, rate.headers);
          return;
        }
        // Thrown after the request's 'end', outside LoopbackServer's guard: answer the 500 here.
        send({ status: 500, body: { message: `Simulator error: ${String(err)}` } });
      }
    });
  };
}
