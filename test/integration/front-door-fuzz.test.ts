/**
 * No request can crash the gateway: malformed request lines, Host headers and
 * absolute-form targets (on plain requests and on the WebSocket upgrade path)
 * are sent over raw sockets to a gateway in its own process, while a
 * bystander keeps a graphql-ws subscription and a keep-alive connection open.
 */
import fc from 'fast-check';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { spawnGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { httpRequest, openRaw, rawExchange, type RawConnection } from '../helpers/raw-http.ts';

const FUZZ_RUNS = 400;

describe('malformed requests against a gateway process', () => {
  let gateway: GatewayProcess;
  let key: string;
  let bystander: Client;
  let bystanderClosed: unknown = null;
  let keepAlive: RawConnection;
  let exitedWith: string | null = null;

  beforeAll(async () => {
    const created = await createApiKey('bystander');
    key = created.key;
    gateway = await spawnGatewayProcess({
      logLevel: 'silent',
      server: { port: 0, host: '127.0.0.1', cors: { origins: ['https://ci.example.com'] } },
      auth: { mode: 'required', apiKeys: [{ id: 'bystander', hash: created.hash, scopes: [{ backends: ['*'] }] }] },
      audit: { file: null },
      // No upstream answers: queries fail per backend, which is fine here.
      backends: [{ name: 'gh', provider: 'github', url: 'http://127.0.0.1:9', token: { value: 'ghp_x' }, repositories: ['octo-org/api'] }],
    });
    gateway.child.once('exit', (code, signal) => (exitedWith = `${code ?? signal}`));
    bystander = createClient({ url: gateway.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, connectionParams: { apiKey: key }, on: { closed: (event) => (bystanderClosed = event) } });
    await new Promise<void>((resolve, reject) => {
      bystander.on('connected', () => resolve());
      bystander.on('error', reject);
    });
    // An open subscription: it must survive everything below.
    bystander.subscribe({ query: 'subscription { jobUpdated { job { name } } }' }, { next: () => undefined, error: () => undefined, complete: () => undefined });
    keepAlive = await openRaw(gateway.port);
    keepAlive.socket.write(httpRequest('GET', '/healthz', { host: 'gw' }));
    await keepAlive.waitFor(/HTTP\/1\.1 200[\s\S]*\{"status":"ok"\}$/);
  }, 60_000);

  afterAll(async () => {
    keepAlive?.close();
    await bystander?.dispose();
    await gateway?.stop('SIGKILL');
  });

  /** The gateway still answers the bystander on its already-open sockets. */
  async function bystanderStillServed(): Promise<void> {
    const result = await new Promise<unknown>((resolve, reject) => {
      bystander.subscribe({ query: '{ backends { name } }' }, { next: resolve, error: reject, complete: () => undefined });
    });
    expect(result).toMatchObject({ data: { backends: [{ name: 'gh' }] } });
    const before = keepAlive.received().length;
    keepAlive.socket.write(httpRequest('GET', '/healthz', { host: 'gw' }));
    await keepAlive.waitFor(new RegExp(`^[\\s\\S]{${before}}HTTP/1\\.1 200[\\s\\S]*\\{"status":"ok"\\}$`));
    expect(exitedWith).toBeNull();
    expect(bystanderClosed).toBeNull();
  }

  it('should answer the reported crashing requests with 400 and stay up', async () => {
    const upgrade = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': 13, 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': 'graphql-transport-ws' };
    const cases = [
      httpRequest('GET', '/graphql', { host: 'a b' }),
      httpRequest('GET', '/graphql', { host: '[' }),
      httpRequest('GET', 'http://[/graphql', { host: 'gw' }),
      httpRequest('POST', 'http://[/graphql', { host: 'gw', 'content-type': 'application/json', 'content-length': 2 }, '{}'),
      httpRequest('GET', 'http://[/graphql', { host: 'gw', ...upgrade }),
      httpRequest('GET', '/graphql', { host: '[', ...upgrade }),
      httpRequest('GET', '/graphql', { host: 'a b', ...upgrade }),
    ];
    // The Host header plays no part: a good target is served (401 without credentials, 101 for an upgrade, which then authenticates).
    for (const request of cases) {
      const { response } = await rawExchange(gateway.port, request);
      expect(response, request).toMatch(/^HTTP\/1\.1 (400|401|101) /);
    }
    // A target that does not parse is refused before anything else, on both paths.
    expect((await rawExchange(gateway.port, cases[2]!)).response).toMatch(/^HTTP\/1\.1 400 /);
    expect((await rawExchange(gateway.port, cases[4]!)).response).toMatch(/^HTTP\/1\.1 400 /);
    await bystanderStillServed();
  });

  it(`should survive ${FUZZ_RUNS} fuzzed request lines and headers, upgrades included`, async () => {
    const nasty = fc.constantFrom('[', ']', 'a b', '%', '%zz', '#', '?', '@', ':', '\\', '//', ':::', '[::1', 'http://', 'ws://[', '\u00ff', '\t', '*');
    const fragment = fc.oneof(nasty, fc.string({ maxLength: 12 }), fc.constantFrom('graphql', 'healthz', 'readyz', 'webhooks/gh', ''));
    const target = fc.oneof(
      fc.constantFrom('/graphql', '/healthz', '/readyz', '/webhooks/gh', '/', '*', 'http://[/graphql', 'http://a b/graphql', '//x/graphql', 'ws://[/graphql'),
      fc.tuple(fc.constantFrom('/', 'http://', 'https://', 'ws://', '//', ''), fc.array(fragment, { maxLength: 4 })).map(([p, parts]) => p + parts.join('')),
    );
    const hostValue = fc.oneof(fc.constantFrom('a b', '[', '[::1', ']', '', 'gw:99999', 'gw:x', '%', 'a@b', 'x'.repeat(300)), fc.array(fragment, { maxLength: 3 }).map((p) => p.join('')));
    const headerValue = fc.oneof(fc.string({ maxLength: 40 }), nasty);
    const headers = fc.record(
      {
        host: hostValue,
        origin: fc.oneof(fc.constantFrom('https://ci.example.com', 'https://evil.example', 'null', '[', 'http://[', ''), headerValue),
        upgrade: fc.constantFrom('websocket', 'WebSocket', 'h2c', 'x'),
        connection: fc.constantFrom('Upgrade', 'keep-alive', 'close', 'upgrade, keep-alive'),
        'sec-websocket-version': fc.constantFrom('13', '8', 'x'),
        'sec-websocket-key': fc.constantFrom('dGhlIHNhbXBsZSBub25jZQ==', '', 'x'),
        'content-length': fc.oneof(fc.nat(64).map(String), fc.constantFrom('-1', 'x', '1e3', '99999999999999999999')),
        'transfer-encoding': fc.constantFrom('chunked', 'gzip', 'x'),
        'content-type': fc.constantFrom('application/json', 'application/graphql+json', 'text/plain', ''),
        accept: fc.constantFrom('text/event-stream', 'text/html', 'application/graphql-response+json', '*/*'),
        'x-api-key': fc.constantFrom(key, 'sy_x_y', ''),
        'x-fuzz': headerValue,
      },
      { requiredKeys: [] },
    );
    const request = fc.record({
      method: fc.constantFrom('GET', 'POST', 'OPTIONS', 'HEAD', 'PUT', 'DELETE', 'CONNECT', 'PRI', 'G ET', 'get', ''),
      target,
      version: fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 x', 'HTTPS/1.1', ''),
      headers,
      body: fc.oneof(fc.constant(''), fc.constantFrom('{"query":"{ backends { name } }"}', '{"query":1}', '{', '0\r\n\r\n'), fc.string({ maxLength: 64 })),
    });
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        // Header values cannot carry CR/LF here: that would be other headers, which the header fuzz covers anyway.
        const clean = (v: string) => v.replace(/[\r\n]/g, '');
        const lines = [`${r.method} ${clean(r.target)} ${r.version}`, ...Object.entries(r.headers).map(([k, v]) => `${k}: ${clean(String(v))}`)];
        const { response } = await rawExchange(gateway.port, `${lines.join('\r\n')}\r\n\r\n${r.body}`, { timeoutMs: 2000 });
        if (response.startsWith('HTTP/1.1 ')) answered++;
        // Every answer is an HTTP answer, never a server error from a thrown listener.
        if (response) expect(response).toMatch(/^HTTP\/1\.[01] (1|2|3|4|503)\d* /);
        expect(exitedWith).toBeNull();
      }),
      { numRuns: FUZZ_RUNS, seed: 20261204 },
    );
    console.info(`front-door fuzz: ${FUZZ_RUNS} requests, ${answered} answered with a status line, process up`);
    await bystanderStillServed();
  }, 300_000);
});
