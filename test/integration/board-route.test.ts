import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBoardRoute } from '../../src/board/board-route.ts';

/** /board as the gateway routes it: the page, its hashed assets, compression, caching and CSP. */
describe('the board route', () => {
  let server: http.Server;
  let origin: string;
  let failBuilds = 0;

  beforeAll(async () => {
    const route = createBoardRoute(pino({ level: 'silent' }));
    const failing = createBoardRoute(pino({ level: 'silent' }), async () => {
      failBuilds++;
      throw new Error('no esbuild');
    });
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname.startsWith('/broken')) return void failing.handle(req, res, new URL(url.pathname.slice('/broken'.length) || '/', url));
      if (route.handles(url.pathname)) void route.handle(req, res, url);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const raw = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      http.request(`${origin}${path}`, { method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      }).on('error', reject).end();
    });

  it('serves a page with no inline script under a strict CSP, linking hashed assets', async () => {
    const page = await raw('/board');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).not.toContain('unsafe-inline');
    const html = page.body.toString();
    expect(html).not.toMatch(/<script>|<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).toMatch(/<script type="module" src="\/board\/[\w-]{16}\.js">/);
    expect(html).toMatch(/<link rel="stylesheet" href="\/board\/[\w-]{16}\.css">/);
  });

  it('sends the script brotli- or gzip-compressed as asked, cached for good by its hash', async () => {
    const script = /src="(\/board\/[\w-]+\.js)"/.exec((await raw('/board')).body.toString())![1]!;
    const plain = await raw(script);
    const br = await raw(script, { 'accept-encoding': 'gzip, br' });
    const gz = await raw(script, { 'accept-encoding': 'gzip' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(br.headers['content-encoding']).toBe('br');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(br.body.length).toBeLessThan(gz.body.length);
    expect(gz.body.length).toBeLessThan(plain.body.length);
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await raw(script, { 'if-none-match': plain.headers.etag! })).status).toBe(304);
    expect((await raw('/board/unknown.js')).status).toBe(404);
    expect((await raw('/board', {}, 'POST')).status).toBe(405);
  });

  it('answers 500 when the bundle cannot be built, and tries again on the next request', async () => {
    expect((await raw('/broken/board')).status).toBe(500);
    expect((await raw('/broken/board')).status).toBe(500);
    expect(failBuilds).toBe(2);
  });
});
