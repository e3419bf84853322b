import { describe, expect, it } from 'vitest';
import { BuildkiteClient, rateWindowOf } from '../../adapters/buildkite/client.ts';
import { UpstreamError } from '../../src/errors.ts';

const NOW = Date.parse('2026-03-01T12:00:00Z');

function clientWith(answers: Array<() => Response>, seen: string[] = [], now = () => new Date(NOW)) {
  const reported: Array<[number | null, Date | null]> = [];
  const client = new BuildkiteClient({
    backend: 'bk-main', baseUrl: 'https://api.example.test', token: 'bkua_secret-token-value', timeoutMs: 1000, now,
    health: { rateLimit: (remaining, resetAt) => reported.push([remaining, resetAt]) },
    fetch: (async (url: URL | string) => {
      seen.push(String(url));
      const next = answers.shift();
      if (!next) throw new Error('no answer left');
      return next();
    }) as typeof fetch,
  });
  return { client, reported };
}

const json = (body: unknown, headers: Record<string, string> = {}, status = 200) => () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('Buildkite client', () => {
  it('should read RateLimit-Reset as seconds from now and report the tighter of the two windows', () => {
    const headers = new Headers({ 'ratelimit-remaining': '150', 'ratelimit-reset': '40', 'ratelimit-user-remaining': '3', 'ratelimit-user-reset': '12' });
    expect(rateWindowOf(headers, NOW)).toEqual({ remaining: 3, resetAt: new Date(NOW + 12_000) });
  });

  it('should send nothing while a spent window lasts, failing with UPSTREAM_RATE_LIMITED naming the backend', async () => {
    const seen: string[] = [];
    const { client, reported } = clientWith([json([], { 'ratelimit-remaining': '0', 'ratelimit-reset': '30' })], seen);
    await client.getJson('/organizations/acme/builds');
    expect(reported.at(-1)).toEqual([0, new Date(NOW + 30_000)]);
    const error = await client.getJson('/organizations/acme/agents').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ backend: 'bk-main', code: 'UPSTREAM_RATE_LIMITED', details: { retryAfterMs: 30_000 } });
    expect(seen).toHaveLength(1);
  });

  it('should wait out a 429 by its reset and map other failures without the token or query string', async () => {
    const { client } = clientWith([
      json({ message: 'You have exceeded your API rate limit' }, { 'ratelimit-reset': '20' }, 429),
    ]);
    await expect(client.getJson('/organizations/acme/builds?per_page=100')).rejects.toMatchObject({ code: 'UPSTREAM_RATE_LIMITED', details: { retryAfterMs: 20_000 } });
    expect(client.waitMs()).toBe(20_000);
    const { client: other } = clientWith([json({ message: 'bad token bkua_secret-token-value' }, {}, 401), json({ message: 'No build found' }, {}, 404), () => new Response('<html>', { status: 200 })]);
    const unauthorized = await other.getJson('/organizations/acme/builds?secret=1').catch((e: unknown) => e as UpstreamError);
    expect(unauthorized).toMatchObject({ code: 'UPSTREAM_UNAUTHORIZED' });
    expect((unauthorized as Error).message).not.toContain('bkua_secret');
    expect((unauthorized as Error).message).not.toContain('secret=1');
    await expect(other.getJson('/organizations/acme/pipelines/web/builds/9')).rejects.toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE', details: { status: 404 } });
    await expect(other.getJson('/organizations/acme/pipelines')).rejects.toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE' });
  });

  it('should follow Link rel="next" on its own origin only', async () => {
    const seen: string[] = [];
    const { client } = clientWith([
      json([1, 2], { link: '<https://api.example.test/v2/organizations/acme/agents?page=2&per_page=100>; rel="next"' }),
      json([3], { link: '<https://evil.example/v2/organizations/acme/agents?page=3>; rel="next"' }),
    ], seen);
    expect(await client.getPaged('/organizations/acme/agents')).toEqual({ items: [1, 2, 3], truncated: false });
    expect(seen).toEqual([
      'https://api.example.test/v2/organizations/acme/agents?per_page=100',
      'https://api.example.test/v2/organizations/acme/agents?page=2&per_page=100',
    ]);
  });
});
