import type { IncomingMessage, ServerResponse } from 'node:http';
import { beforeEach, describe, expect, it } from 'vitest';
import { isNotFound, JenkinsClient } from '../../adapters/jenkins/client.ts';
import { RequestBudget } from '../../adapters/jenkins/budget.ts';
import { UpstreamError } from '../../src/errors.ts';
import { HTTP_ERROR_CODES, useFakeUpstream, type UpstreamHandler } from '../helpers/fake-upstream.ts';

let handler: UpstreamHandler = (_req, res) => res.end();
const seen: { method: string; url: string; headers: IncomingMessage['headers'] }[] = [];

const upstream = useFakeUpstream((req, res) => {
  seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
  handler(req, res);
});
beforeEach(() => {
  seen.length = 0;
});

const TOKEN = 'secret-api-token-123';

function client(overrides: Partial<ConstructorParameters<typeof JenkinsClient>[0]> = {}) {
  return new JenkinsClient({
    backend: 'jk', baseUrl: upstream.url, user: 'bot', apiToken: TOKEN, timeoutMs: 2000, requestsPerMinute: 60,
    now: () => new Date(),
    ...overrides,
  });
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

describe('jenkins client', () => {
  it('sends HTTP Basic auth and the tree= query, and no crumb unless asked', async () => {
    handler = (_req, res) => json(res, 200, { jobs: [] });
    const data = await client().getJson('/api/json', 'jobs[name]');
    expect(data).toEqual({ jobs: [] });
    expect(seen[0]!.url).toBe('/api/json?tree=jobs%5Bname%5D');
    expect(seen[0]!.headers.authorization).toBe(`Basic ${Buffer.from(`bot:${TOKEN}`).toString('base64')}`);
    expect(seen[0]!.headers['jenkins-crumb']).toBeUndefined();
  });

  it('fetches a crumb only when Jenkins demands one, keeps its session cookie, and caches it', async () => {
    handler = (req, res) => {
      if (req.url === '/crumbIssuer/api/json') return json(res, 200, { crumb: 'c-1', crumbRequestField: 'Jenkins-Crumb' }, { 'set-cookie': 'JSESSIONID.abc=s1; Path=/; HttpOnly' });
      if (req.headers['jenkins-crumb'] !== 'c-1') {
        res.writeHead(403, { 'content-type': 'text/html' });
        return res.end('<html><body>HTTP ERROR 403 No valid crumb was included in the request</body></html>');
      }
      return json(res, 200, { ok: true });
    };
    const c = client();
    await expect(c.post('/job/x/build')).resolves.toEqual({ ok: true });
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['POST /job/x/build', 'GET /crumbIssuer/api/json', 'POST /job/x/build']);
    expect(seen[2]!.headers.cookie).toBe('JSESSIONID.abc=s1');
    await c.post('/job/x/build');
    expect(c.stats.crumbFetches).toBe(1);
  });

  it.each(HTTP_ERROR_CODES)('maps HTTP %s to %s without credentials in the message', async (status, code) => {
    handler = (_req, res) => json(res, status, { message: 'nope' });
    const error = (await client().getJson('/job/a/api/json', 'name').catch((e: unknown) => e)) as UpstreamError;
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error.code).toBe(code);
    expect(error.message).toContain('GET /job/a/api/json');
    expect(error.message).not.toContain(TOKEN);
    expect(error.message).not.toContain('tree=');
    expect(isNotFound(error)).toBe(status === 404);
  });

  it('maps a timeout to UPSTREAM_TIMEOUT and a refused connection to UPSTREAM_UNAVAILABLE', async () => {
    handler = () => undefined; // never answers
    const slow = await client({ timeoutMs: 100 }).getJson('/api/json').catch((e: unknown) => e);
    expect((slow as UpstreamError).code).toBe('UPSTREAM_TIMEOUT');
    const refused = await client({ baseUrl: 'http://127.0.0.1:1' }).getJson('/api/json').catch((e: unknown) => e);
    expect((refused as UpstreamError).code).toBe('UPSTREAM_UNAVAILABLE');
    expect((refused as UpstreamError).message).not.toContain(TOKEN);
  });

  it('maps non-JSON to UPSTREAM_BAD_RESPONSE and shares identical GETs in flight', async () => {
    handler = (_req, res) => res.end('<html>login</html>');
    expect(((await client().getJson('/api/json').catch((e: unknown) => e)) as UpstreamError).code).toBe('UPSTREAM_BAD_RESPONSE');
    seen.length = 0;
    handler = (_req, res) => setTimeout(() => json(res, 200, { n: 1 }), 30);
    const c = client();
    await Promise.all([c.getJson('/api/json', 'a'), c.getJson('/api/json', 'a')]);
    expect(seen).toHaveLength(1);
  });
});

describe('jenkins request budget', () => {
  it('refills continuously and tells how long until tokens are back', () => {
    let t = 0;
    const b = new RequestBudget(60, () => new Date(t));
    expect(b.available()).toBe(60);
    for (let i = 0; i < 60; i++) b.take();
    expect(b.available()).toBe(0);
    expect(b.tryTake()).toBe(false);
    expect(b.msUntil(2)).toBe(2000);
    t += 1000;
    expect(b.tryTake()).toBe(true);
    b.take(200);
    expect(b.available()).toBe(-60);
  });

  describe('Retry-After (issue 10 item 7: Jenkins used a fixed 60 s)', () => {
    const start = Date.parse('2030-01-01T00:00:00Z');
    let nowMs = start;
    const clock = () => new Date(nowMs);

    it.each([
      ['delay-seconds', '7', 7_000],
      ['an HTTP date', new Date(start + 12_000).toUTCString(), 12_000],
    ])('should wait as long as a 429 asks with %s, sending nothing before', async (_form, header, waitMs) => {
      nowMs = start;
      handler = (_req, res) => json(res, 429, { message: 'slow down' }, { 'retry-after': header });
      const c = client({ now: clock });
      const first = await c.getJson('/api/json').catch((e: unknown) => e);
      expect(first).toBeInstanceOf(UpstreamError);
      expect(first).toMatchObject({ code: 'UPSTREAM_RATE_LIMITED', details: { retryAfterMs: waitMs } });
      handler = (_req, res) => json(res, 200, { jobs: [] });
      nowMs = start + waitMs - 1;
      await expect(c.getJson('/api/json')).rejects.toMatchObject({ code: 'UPSTREAM_RATE_LIMITED' });
      expect(seen).toHaveLength(1);
      nowMs = start + waitMs;
      await expect(c.getJson('/api/json')).resolves.toEqual({ jobs: [] });
      expect(seen).toHaveLength(2);
    });

    it('should honour Retry-After on a 503 and fall back to 60 s for a bare 429', async () => {
      nowMs = start;
      handler = (_req, res) => json(res, 503, {}, { 'retry-after': '5' });
      await expect(client({ now: clock }).getJson('/api/json')).rejects.toMatchObject({ code: 'UPSTREAM_RATE_LIMITED', details: { retryAfterMs: 5_000 } });
      handler = (_req, res) => json(res, 429, {});
      await expect(client({ now: clock }).getJson('/api/json')).rejects.toMatchObject({ code: 'UPSTREAM_RATE_LIMITED', details: { retryAfterMs: 60_000 } });
    });
  });
});
