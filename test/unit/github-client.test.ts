import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeEach, describe, expect, it } from 'vitest';
import { GithubClient } from '../../adapters/github/client.ts';
import { isNotFound } from '../../adapters/github/errors.ts';
import { UpstreamError } from '../../src/errors.ts';
import { useFakeUpstream, type UpstreamHandler } from '../helpers/fake-upstream.ts';

/** A tiny HTTP server standing in for api.github.com; routes are swapped per test. */
type Handler = UpstreamHandler;
let handler: Handler = (_req, res) => res.end();
const seen: IncomingMessage[] = [];

const upstream = useFakeUpstream((req, res) => {
  seen.push(req);
  handler(req, res);
});
beforeEach(() => {
  seen.length = 0;
});

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

/** Serves `body` with an ETag and answers If-None-Match with 304. */
function etagged(body: unknown, extra: Record<string, string> = {}): Handler {
  return (req, res) => {
    const etag = `W/"${createHash('sha1').update(JSON.stringify(body)).digest('hex')}"`;
    const rl = { 'x-ratelimit-remaining': '4999', 'x-ratelimit-reset': '1900000000', ...extra };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag, ...rl });
      res.end();
      return;
    }
    json(res, 200, body, { etag, ...rl });
  };
}

function makeHealth() {
  // A client reports the rate-limit window only; success and failure are the core policy's to count.
  const calls = { rateLimit: [] as Array<[number | null, Date | null]> };
  return {
    calls,
    reporter: {
      rateLimit: (r: number | null, t: Date | null) => void calls.rateLimit.push([r, t]),
    },
  };
}

const NOW = new Date('2030-01-01T00:00:00Z');
function makeClient(extra: { timeoutMs?: number; baseUrl?: string } = {}) {
  const health = makeHealth();
  const client = new GithubClient({
    backend: 'gh',
    baseUrl: extra.baseUrl ?? upstream.url,
    token: 'ghp_supersecret',
    timeoutMs: extra.timeoutMs ?? 2000,
    health: health.reporter,
    now: () => NOW,
  });
  return { client, health };
}

async function failure(p: Promise<unknown>): Promise<UpstreamError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(UpstreamError);
  const u = e as UpstreamError;
  expect(u.message).not.toContain('ghp_supersecret');
  expect(JSON.stringify(u.details)).not.toContain('ghp_supersecret');
  return u;
}

describe('GithubClient', () => {
  it('sends version, user agent and token; reports rate limit', async () => {
    handler = etagged({ full_name: 'o/r' });
    const { client, health } = makeClient();
    const res = await client.get<{ full_name: string }>('GET /repos/{owner}/{repo}', { owner: 'o', repo: 'r' });
    expect(res).toEqual({ data: { full_name: 'o/r' }, notModified: false, hasNextPage: false });
    const req = seen[0]!;
    expect(req.url).toBe('/repos/o/r');
    expect(req.headers['x-github-api-version']).toBe('2022-11-28');
    expect(req.headers['user-agent']).toMatch(/^switchyard /);
    expect(req.headers.authorization).toMatch(/ghp_supersecret$/);
    expect(health.calls.rateLimit).toEqual([[4999, new Date(1_900_000_000_000)]]);
  });

  it('makes repeated GETs conditional and serves 304s from the cache', async () => {
    handler = etagged({ workflow_runs: [{ id: 1 }] });
    const { client } = makeClient();
    const params = { owner: 'o', repo: 'r', per_page: 20 };
    const first = await client.get('GET /repos/{owner}/{repo}/actions/runs', params);
    const second = await client.get('GET /repos/{owner}/{repo}/actions/runs', { per_page: 20, repo: 'r', owner: 'o' });
    expect(seen[0]!.headers['if-none-match']).toBeUndefined();
    expect(seen[1]!.headers['if-none-match']).toMatch(/^W\/"/);
    expect(second).toEqual({ data: first.data, notModified: true, hasNextPage: false });
    expect(client.stats).toEqual({ requests: 2, notModified: 1, errors: 0 });
    // Different params are a different cache entry.
    await client.get('GET /repos/{owner}/{repo}/actions/runs', { ...params, branch: 'main' });
    expect(seen[2]!.headers['if-none-match']).toBeUndefined();
    expect(seen[2]!.url).toBe('/repos/o/r/actions/runs?per_page=20&branch=main');
  });

  it('shares one request between identical concurrent GETs', async () => {
    handler = (req, res) => setTimeout(() => json(res, 200, { ok: true }), 50);
    const { client } = makeClient();
    const [a, b] = await Promise.all([client.get('GET /repos/{owner}/{repo}', { owner: 'o', repo: 'r' }), client.get('GET /repos/{owner}/{repo}', { owner: 'o', repo: 'r' })]);
    expect(a).toEqual(b);
    expect(seen).toHaveLength(1);
  });

  it('follows Link rel="next" page by page', async () => {
    handler = (req, res) => {
      const page = Number(new URL(req.url!, 'http://x').searchParams.get('page'));
      const link: Record<string, string> = page < 3 ? { link: `<${upstream.url}/orgs/o/actions/runners?page=${page + 1}>; rel="next"` } : {};
      json(res, 200, { runners: [{ id: page }] }, link);
    };
    const { client } = makeClient();
    const { items } = await client.getAllPages('GET /orgs/{org}/actions/runners', { org: 'o' }, (p) => (p as { runners: unknown[] }).runners);
    expect(items).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    expect(seen.map((r) => r.url)).toEqual([1, 2, 3].map((p) => `/orgs/o/actions/runners?per_page=100&page=${p}`));
  });

  it('maps 401 to UPSTREAM_UNAUTHORIZED', async () => {
    handler = (_req, res) => json(res, 401, { message: 'Bad credentials' });
    const { client } = makeClient();
    const e = await failure(client.get('GET /repos/{owner}/{repo}', { owner: 'o', repo: 'r' }));
    expect(e.code).toBe('UPSTREAM_UNAUTHORIZED');
    expect(e.backend).toBe('gh');
    expect(e.details).toMatchObject({ status: 401, method: 'GET', path: '/repos/o/r' });
  });

  it('maps a primary rate limit (403, remaining 0) with retryAfterMs until reset', async () => {
    const reset = NOW.getTime() / 1000 + 120;
    handler = (_req, res) => json(res, 403, { message: 'API rate limit exceeded' }, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) });
    const { client, health } = makeClient();
    const e = await failure(client.get('GET /repos/{owner}/{repo}', { owner: 'o', repo: 'r' }));
    expect(e.code).toBe('UPSTREAM_RATE_LIMITED');
    expect(e.details.retryAfterMs).toBe(120_000);
    expect(client.rateLimit).toEqual({ remaining: 0, resetAt: new Date(reset * 1000) });
    expect(health.calls.rateLimit.at(-1)).toEqual([0, new Date(reset * 1000)]);
  });

  it('maps 429 with retry-after, and a secondary limit without headers', async () => {
    handler = (_req, res) => json(res, 429, { message: 'slow down' }, { 'retry-after': '30' });
    const { client } = makeClient();
    const e = await failure(client.get('GET /repos/{owner}/{repo}', { owner: 'o', repo: 'r' }));
    expect(e.code).toBe('UPSTREAM_RATE_LIMITED');
    expect(e.details.retryAfterMs).toBe(30_000);
    // During the wait the same client sends nothing at all.
    const sent = seen.length;
    expect((await failure(client.get('GET /repos/{owner}/{repo}', { owner: 'o', repo: 'y' }))).code).toBe('UPSTREAM_RATE_LIMITED');
    expect(seen.length).toBe(sent);

    handler = (_req, res) => json(res, 403, { message: 'You have exceeded a secondary rate limit' });
    const e2 = await failure(makeClient().client.get('GET /repos/{owner}/{repo}', { owner: 'o', repo: 'x' }));
    expect(e2.code).toBe('UPSTREAM_RATE_LIMITED');
    expect(e2.details.retryAfterMs).toBe(60_000);
  });

  it('maps a plain 403 to UNAUTHORIZED, 5xx to UNAVAILABLE, 422 to BAD_RESPONSE, 404 to a not-found answer', async () => {
    const { client } = makeClient();
    handler = (_req, res) => json(res, 403, { message: 'Resource not accessible by personal access token' });
    expect((await failure(client.get('GET /orgs/{org}/actions/runners', { org: 'o' }))).code).toBe('UPSTREAM_UNAUTHORIZED');
    handler = (_req, res) => json(res, 502, { message: 'Server Error' });
    expect((await failure(client.get('GET /orgs/{org}/actions/runners', { org: 'o' }))).code).toBe('UPSTREAM_UNAVAILABLE');
    handler = (_req, res) => json(res, 422, { message: 'Validation Failed' });
    expect((await failure(client.get('GET /orgs/{org}/actions/runners', { org: 'o' }))).code).toBe('UPSTREAM_BAD_RESPONSE');
    handler = (_req, res) => json(res, 404, { message: 'Not Found' });
    const nf = await failure(client.get('GET /repos/{owner}/{repo}/actions/runs/{run_id}', { owner: 'o', repo: 'r', run_id: 1 }));
    expect(isNotFound(nf)).toBe(true);
  });

  it('maps a slow answer to UPSTREAM_TIMEOUT', async () => {
    handler = (_req, res) => setTimeout(() => json(res, 200, {}), 1000);
    const { client } = makeClient({ timeoutMs: 100 });
    const e = await failure(client.get('GET /repos/{owner}/{repo}', { owner: 'o', repo: 'r' }));
    expect(e.code).toBe('UPSTREAM_TIMEOUT');
  });

  it('maps a refused connection to UPSTREAM_UNAVAILABLE without leaking the token', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { client } = makeClient({ baseUrl: `http://127.0.0.1:${port}` });
    const e = await failure(client.get('GET /repos/{owner}/{repo}', { owner: 'o', repo: 'r' }));
    expect(e.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(e.details.status).toBeUndefined();
  });

  it('keeps query strings out of error paths', async () => {
    handler = (_req, res) => json(res, 500, {});
    const { client } = makeClient();
    const e = await failure(client.get('GET /repos/{owner}/{repo}/actions/runs', { owner: 'o', repo: 'r', branch: 'secret-branch' }));
    expect(e.details.path).toBe('/repos/o/r/actions/runs');
    expect(e.message).not.toContain('secret-branch');
  });
});
