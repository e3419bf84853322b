import { describe, expect, it } from 'vitest';
import { GitlabClient } from '../../adapters/gitlab/client.ts';
import { UpstreamError } from '../../src/errors.ts';
import { HTTP_ERROR_CODES, useFakeUpstream, type UpstreamHandler } from '../helpers/fake-upstream.ts';

type Handler = UpstreamHandler;
const TOKEN = 'glpat-secret-value';

describe('GitLab client', () => {
  let handler: Handler = (_q, res) => res.end('[]');
  const seen: { url: string; token: string | undefined }[] = [];
  const health = { rate: [] as [number | null, Date | null][] };
  let now = new Date('2025-01-01T00:00:00Z');

  const upstream = useFakeUpstream((req, res) => {
    seen.push({ url: req.url ?? '', token: req.headers['private-token'] as string | undefined });
    handler(req, res);
  });
  const api = () => `${upstream.url}/api/v4`;

  const client = (timeoutMs = 2000) =>
    new GitlabClient({
      backend: 'gl', baseUrl: api(), token: TOKEN, timeoutMs, now: () => now,
      health: { rateLimit: (r, t) => health.rate.push([r, t]) },
    });
  const failure = async (p: Promise<unknown>): Promise<UpstreamError> => {
    try {
      await p;
    } catch (e) {
      expect(e).toBeInstanceOf(UpstreamError);
      expect((e as Error).message).not.toContain(TOKEN);
      return e as UpstreamError;
    }
    throw new Error('expected a failure');
  };

  it('should send PRIVATE-TOKEN, encode array params and report RateLimit headers', async () => {
    handler = (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'ratelimit-remaining': '1999', 'ratelimit-reset': '1735689660' });
      res.end('[{"id":1}]');
    };
    const res = await client().get('/projects/a%2Fb/jobs', { 'scope[]': ['running', 'pending'], per_page: 100 });
    expect(res.data).toEqual([{ id: 1 }]);
    expect(seen.at(-1)).toEqual({ url: '/api/v4/projects/a%2Fb/jobs?scope%5B%5D=running&scope%5B%5D=pending&per_page=100', token: TOKEN });
    expect(health.rate.at(-1)).toEqual([1999, new Date(1735689660 * 1000)]);
  });

  it('should follow X-Next-Page for offset pagination and Link rel=next for keyset', async () => {
    handler = (req, res) => {
      const u = new URL(req.url!, 'http://x');
      const page = Number(u.searchParams.get('page') ?? 1);
      const cursor = u.searchParams.get('cursor');
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-next-page': page < 3 && !u.searchParams.has('pagination') ? String(page + 1) : '',
        ...(u.searchParams.has('pagination') && !cursor ? { link: `<${api()}/projects/1/jobs?pagination=keyset&cursor=abc>; rel="next"` } : {}),
      });
      res.end(JSON.stringify([{ page, cursor }]));
    };
    const c = client();
    expect(await c.getAllPages('/projects/1/pipelines')).toEqual([{ page: 1, cursor: null }, { page: 2, cursor: null }, { page: 3, cursor: null }]);
    const first = await c.get('/projects/1/jobs', { pagination: 'keyset' });
    expect(first.nextLink).toBe('/projects/1/jobs?pagination=keyset&cursor=abc');
    const second = await c.getLink(first.nextLink!, '/projects/1/jobs');
    expect(second.data).toEqual([{ page: 1, cursor: 'abc' }]);
    expect(second.nextLink).toBeNull();
  });

  it('should never follow a Link to another origin', async () => {
    handler = (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json', link: '<http://evil.example/api/v4/x?cursor=1>; rel="next"' });
      res.end('[]');
    };
    expect((await client().get('/projects/1/jobs')).nextLink).toBeNull();
  });

  it.each(HTTP_ERROR_CODES)('should map HTTP %i to %s without leaking the token', async (status, code) => {
    handler = (_q, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `${status} token ${TOKEN} refused` }));
    };
    const e = await failure(client().get('/projects/1'));
    expect(e.code).toBe(code);
    expect(e.details.status).toBe(status);
  });

  it('should map 429 with Retry-After, then send nothing until the wait is over', async () => {
    handler = (_q, res) => {
      res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': '30', 'ratelimit-remaining': '0', 'ratelimit-reset': String(Math.floor(now.getTime() / 1000) + 30) });
      res.end('Retry later');
    };
    const c = client();
    const e = await failure(c.get('/projects/1'));
    expect(e).toMatchObject({ code: 'UPSTREAM_RATE_LIMITED', details: { retryAfterMs: 30_000 } });
    const before = seen.length;
    const blocked = await failure(c.get('/projects/2'));
    expect(blocked.code).toBe('UPSTREAM_RATE_LIMITED');
    expect(seen.length).toBe(before);
    expect(c.waitMs()).toBe(30_000);
    now = new Date(now.getTime() + 31_000);
    handler = (_q, res) => res.end('{}');
    await c.get('/projects/3');
    expect(seen.length).toBe(before + 1);
  });

  it('should use RateLimit-Reset when a 429 has no Retry-After', async () => {
    handler = (_q, res) => {
      res.writeHead(429, { 'ratelimit-reset': String(Math.floor(now.getTime() / 1000) + 12) });
      res.end('Retry later');
    };
    expect((await failure(client().get('/projects/1'))).details.retryAfterMs).toBe(12_000);
  });

  it('should map timeouts, connection failures and non-JSON bodies', async () => {
    handler = () => undefined; // never answers
    expect((await failure(client(150).get('/slow'))).code).toBe('UPSTREAM_TIMEOUT');
    const dead = new GitlabClient({ backend: 'gl', baseUrl: 'http://127.0.0.1:1/api/v4', token: TOKEN, timeoutMs: 1000, now: () => now, health: { rateLimit() {} } });
    expect((await failure(dead.get('/projects/1'))).code).toBe('UPSTREAM_UNAVAILABLE');
    handler = (_q, res) => res.end('<html>');
    expect((await failure(client().get('/projects/1'))).code).toBe('UPSTREAM_BAD_RESPONSE');
  });
});
