import { request } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterFactories } from '../../src/adapters.ts';
import { startDemo, type Demo } from '../../src/demo/start-demo.ts';

/** A raw HTTP exchange (fetch would negotiate and decode encodings itself). */
function exchange(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('compressed and cached responses', () => {
  let demo: Demo;
  beforeAll(async () => {
    demo = await startDemo({ factories: adapterFactories, port: 0, host: '127.0.0.1', logLevel: 'silent' });
  }, 60_000);
  afterAll(() => demo?.close());

  it('GraphiQL: a small page, its ~9 MB of assets by content hash, compressed, cached for a year, revalidated by ETag', async () => {
    const page = await exchange(demo.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = page.body.toString();
    expect(html).toContain('YogaGraphiQL.renderYogaGraphiQL(');
    expect(page.body.length).toBeLessThan(20_000);
    const assets = [...html.matchAll(/(?:src|href)="(\/graphiql\/[\w-]+\.(js|css|ico))"/g)].map((m) => m[1]!);
    expect(assets.map((a) => a.split('.').pop()).sort()).toEqual(['css', 'ico', 'js']);

    const origin = new URL(demo.url).origin;
    let plainTotal = 0;
    let brTotal = 0;
    for (const path of assets) {
      const plain = await exchange(origin + path, { headers: { 'accept-encoding': 'identity' } });
      const br = await exchange(origin + path, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
      const gz = await exchange(origin + path, { headers: { 'accept-encoding': 'gzip' } });
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(br.headers['content-encoding']).toBe('br');
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
      expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
      expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(br.headers.vary).toBe('accept-encoding');
      const again = await exchange(origin + path, { headers: { 'if-none-match': String(br.headers.etag) } });
      expect(again.status).toBe(304);
      expect(again.body.length).toBe(0);
      plainTotal += plain.body.length;
      brTotal += br.body.length;
    }
    expect(plainTotal).toBeGreaterThan(8_000_000);
    expect(brTotal).toBeLessThan(plainTotal / 3);
    console.info(`GraphiQL: page ${page.body.length} B; assets ${plainTotal} B, brotli ${brTotal} B`);
    expect((await exchange(`${origin}/graphiql/unknown.js`)).status).toBe(404);
  }, 60_000);

  it('GraphQL JSON results: gzip when asked and large enough, plain otherwise; SSE never', async () => {
    const query = JSON.stringify({ query: '{ pipelines(first: 50) { nodes { id name status branch commitSha project { fullName } jobs { nodes { name status } } } } }' });
    const post = (encoding: string) => exchange(demo.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', 'accept-encoding': encoding }, body: query });
    const gz = await post('gzip');
    const plain = await post('identity');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(plain.headers['content-encoding']).toBeUndefined();
    const decoded = JSON.parse(gunzipSync(gz.body).toString()) as { data: { pipelines: { nodes: unknown[] } } };
    expect(decoded.data.pipelines.nodes.length).toBeGreaterThan(10);
    expect(gz.body.length).toBeLessThan(plain.body.length / 3);

    const small = await exchange(demo.url, { method: 'POST', headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(small.headers['content-encoding']).toBeUndefined();

    // An SSE stream stays uncompressed: read its headers, then hang up.
    const sse = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const req = request(demo.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'accept-encoding': 'gzip' } }, (res) => {
        resolve(res.headers);
        req.destroy();
      });
      req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? undefined : reject(e)));
      req.end(JSON.stringify({ query: 'subscription { jobUpdated { job { name } } }' }));
    });
    expect(sse['content-type']).toMatch(/text\/event-stream/);
    expect(sse['content-encoding']).not.toBe('gzip'); // yoga marks SSE 'none' so proxies do not buffer it either
  }, 60_000);
});
