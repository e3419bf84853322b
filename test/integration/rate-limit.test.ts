import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { adapterFactories } from '../../src/adapters.ts';
import { validateConfig } from '../../src/config/load-config.ts';
import { createGateway, type Gateway } from '../../src/server/create-gateway.ts';
import { pino } from 'pino';

const MAX = 10;

function configFor(store: 'memory' | 'redis', prefix: string) {
  return {
    logLevel: 'silent',
    server: { port: 0, host: '127.0.0.1' },
    auth: { mode: 'open' },
    audit: { file: null },
    limits: { maxAliases: 200, maxCost: 1_000_000, maxTokens: 5000 },
    rateLimit: { store, redisKeyPrefix: prefix, fields: { 'Query.backends': { max: MAX, window: '1m' } } },
    // No upstream is called by `backends`; the URL is never contacted.
    backends: [{ name: 'gh', provider: 'github', url: 'http://127.0.0.1:9', repositories: ['o/r'] }],
  };
}

async function post(base: string, query: string): Promise<{ data?: Record<string, unknown> | null; errors?: { extensions?: { code?: string } }[] }> {
  const res = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  return (await res.json()) as never;
}

/** Counts allowed calls among 100 parallel requests and among 100 aliases in one request. */
async function attack(bases: readonly string[]) {
  const parallel = await Promise.all(Array.from({ length: 100 }, (_, i) => post(bases[i % bases.length]!, '{ backends { name } }')));
  const allowedParallel = parallel.filter((r) => r.data?.backends).length;
  const limitedParallel = parallel.filter((r) => r.errors?.some((e) => e.extensions?.code === 'RATE_LIMITED')).length;
  return { allowedParallel, limitedParallel };
}

/**
 * 100 aliases of the limited field in one request. Each alias is counted in
 * order; at the first one over the limit the whole operation is rejected with
 * RATE_LIMITED, so no more than max aliases (here none) ever get data.
 */
async function aliasAttack(base: string) {
  const aliases = Array.from({ length: 100 }, (_, i) => `a${i}: backends { name }`).join(' ');
  const res = await post(base, `{ ${aliases} }`);
  return {
    allowed: Object.values(res.data ?? {}).filter((v) => v !== null).length,
    limited: (res.errors ?? []).filter((e) => e.extensions?.code === 'RATE_LIMITED').length,
  };
}

describe('rate limits hold under concurrency', () => {
  const gateways: Gateway[] = [];
  const children: ChildProcess[] = [];
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    for (const c of children) c.kill('SIGTERM');
  });

  it('should allow at most max with the in-memory store: 100 parallel requests, then 100 aliases', async () => {
    const config = validateConfig(configFor('memory', 'unused:'), adapterFactories);
    for (let i = 0; i < 2; i++) {
      const gateway = createGateway({ config, factories: adapterFactories, log: pino({ level: 'silent' }), polling: false });
      gateways.push(gateway);
    }
    const [a, b] = gateways;
    const baseA = `http://127.0.0.1:${(await a!.listen(0, '127.0.0.1')).port}`;
    const baseB = `http://127.0.0.1:${(await b!.listen(0, '127.0.0.1')).port}`;
    const { allowedParallel, limitedParallel } = await attack([baseA]);
    expect(allowedParallel).toBe(MAX);
    expect(limitedParallel).toBe(100 - MAX);
    const aliases = await aliasAttack(baseB);
    expect(aliases.allowed).toBeLessThanOrEqual(MAX);
    expect(aliases.limited).toBeGreaterThanOrEqual(1);
    console.info(`memory store: ${allowedParallel}/100 parallel allowed; ${aliases.allowed}/100 aliases allowed, ${aliases.limited} limited (max ${MAX})`);
  });

  it('should allow at most max across two gateway processes sharing Redis', async () => {
    const prefix = `switchyard:test:${randomUUID()}:`;
    const bases: string[] = [];
    for (let i = 0; i < 2; i++) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/gateway-child.ts'], {
        env: { ...process.env, SWITCHYARD_TEST_CONFIG: JSON.stringify(configFor('redis', prefix)) },
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      children.push(child);
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /"port":(\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.on('exit', (code) => reject(new Error(`gateway process exited ${code}`)));
      });
      bases.push(`http://127.0.0.1:${port}`);
    }
    const { allowedParallel } = await attack(bases);
    expect(allowedParallel).toBe(MAX);
    // The window is shared: the aliases on the other process are all over the limit now.
    expect(await aliasAttack(bases[1]!)).toEqual({ allowed: 0, limited: 1 });
    console.info(`redis store, 2 processes: ${allowedParallel}/100 parallel allowed (max ${MAX})`);
  });

  it('should count 100 aliases against a fresh Redis window exactly once each', async () => {
    const prefix = `switchyard:test:${randomUUID()}:`;
    const config = validateConfig(configFor('redis', prefix), adapterFactories);
    const gateway = createGateway({ config, factories: adapterFactories, log: pino({ level: 'silent' }), polling: false });
    gateways.push(gateway);
    const base = `http://127.0.0.1:${(await gateway.listen(0, '127.0.0.1')).port}`;
    const aliases = await aliasAttack(base);
    expect(aliases.allowed).toBeLessThanOrEqual(MAX);
    expect(aliases.limited).toBe(1);
  });
});

describe('rate limits with their Redis store down', () => {
  let gateway: Gateway | undefined;
  afterAll(() => gateway?.close());

  it('should fail closed: limited fields answer RATE_LIMIT_UNAVAILABLE (503) over HTTP and WebSocket, never run unmetered', async () => {
    // A port where nothing listens: every reservation fails.
    const silent = createServer();
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    const config = validateConfig({ ...configFor('redis', 'unused:'), rateLimit: { store: 'redis', redisUrl: `redis://127.0.0.1:${port}` } }, adapterFactories);
    gateway = createGateway({ config, factories: adapterFactories, log: pino({ level: 'silent' }), polling: false });
    const base = `http://127.0.0.1:${(await gateway.listen(0, '127.0.0.1')).port}`;

    const res = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ backends { name } }' }) });
    const body = (await res.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(body.data ?? null).toBeNull();
    expect(body.errors?.map((e) => e.extensions?.code)).toEqual(['RATE_LIMIT_UNAVAILABLE']);
    expect(body.errors?.[0]?.message).toMatch(/Rate limiting is unavailable/);

    const client = createClient({ url: `${base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
    const closed: number[] = [];
    client.on('closed', (event) => closed.push((event as { code: number }).code));
    const run = (query: string) =>
      new Promise<{ data?: unknown; errors?: { extensions?: { code?: string } }[] }>((resolve) => {
        let value: { data?: unknown; errors?: never } = {};
        client.subscribe({ query }, { next: (v) => (value = v as never), error: (errors) => resolve({ errors: errors as never }), complete: () => resolve(value) });
      });
    const overWs = await run('{ backends { name } }');
    expect(overWs.errors?.map((e) => e.extensions?.code)).toEqual(['RATE_LIMIT_UNAVAILABLE']);
    // The socket stays open: an unlimited field still answers on it.
    expect(await run('{ __typename }')).toEqual({ data: { __typename: 'Query' } });
    expect(closed).toEqual([]);
    await client.dispose();
  });
});

describe('nodes(ids) costs one call per id (issue 10 item 6)', () => {
  const gateways: Gateway[] = [];
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close()));
  });

  it.each(['memory', 'redis'] as const)('should stop a key after max ids, not max calls (%s store)', async (store) => {
    const base = configFor(store, `switchyard:test:${randomUUID()}:`);
    const config = validateConfig({ ...base, rateLimit: { ...base.rateLimit, fields: { 'Query.nodes': { max: MAX, window: '1m' } } } }, adapterFactories);
    const gateway = createGateway({ config, factories: adapterFactories, log: pino({ level: 'silent' }), polling: false });
    gateways.push(gateway);
    const url = `http://127.0.0.1:${(await gateway.listen(0, '127.0.0.1')).port}`;
    // Ids that decode to nothing: no upstream is involved, only the limiter.
    const fourIds = '{ nodes(ids: ["a", "b", "c", "d"]) { id } }';
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await post(url, fourIds)).errors?.[0]?.extensions?.code ?? 'ok');
    // 4 + 4 ids fit in 10; the third call's 4 would make 12.
    expect(codes).toEqual(['ok', 'ok', 'RATE_LIMITED']);
  });
});
