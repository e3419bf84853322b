/**
 * Who may scrape /metrics (README "Metrics"): a bearer token when one is set;
 * without one, loopback only while authentication is on; or a listener of its
 * own; and nothing at all when metrics are off.
 */
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterFactories } from '../../src/adapters.ts';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { validateConfig } from '../../src/config/load-config.ts';
import { createGateway, type Gateway } from '../../src/server/create-gateway.ts';
import { scrape, total } from '../helpers/scrape.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

const TOKEN = 'metrics-scrape-token-0123456789';
/** An address of this machine that is not loopback, to be seen as a remote scraper. */
const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

describe('/metrics access', () => {
  let token: Stack;
  /** On every address, authentication on, no token. */
  let loopbackOnly: Gateway;
  let ownPort: Stack;
  let off: Stack;
  beforeAll(async () => {
    const key = await createApiKey('reader');
    loopbackOnly = createGateway({
      config: validateConfig({
        logLevel: 'silent', audit: { file: null }, history: { enabled: false },
        auth: { mode: 'required', apiKeys: [{ id: 'reader', hash: key.hash, scopes: [{ backends: ['*'] }] }] },
        backends: [{ name: 'gh', provider: 'github', url: 'http://127.0.0.1:9', token: { value: 'ghp_unused' }, organizations: ['octo-org'] }],
      }, adapterFactories),
      factories: adapterFactories,
      polling: false,
    });
    await loopbackOnly.listen(0, '0.0.0.0');
    [token, ownPort, off] = await Promise.all([
      startStack({ config: { metrics: { bearerToken: { value: TOKEN } } } }),
      startStack({ config: { metrics: { listen: { port: 0 } } } }),
      startStack({ config: { metrics: { enabled: false } } }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([token?.close(), loopbackOnly?.close(0), ownPort?.close(), off?.close()]);
  });

  it('should require the bearer token when one is configured', async () => {
    const url = `${token.base}/metrics`;
    const none = await fetch(url);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await fetch(url, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: TOKEN } })).status).toBe(401);
    expect((await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(405);
    const metrics = await scrape(url, { authorization: `Bearer ${TOKEN}` });
    expect(total(metrics, 'switchyard_upstream_circuit_state', { backend: 'gh', state: 'CLOSED' })).toBe(1);
  });

  it('should serve loopback only while authentication is on and no token is set', async () => {
    const port = (loopbackOnly.server.address() as AddressInfo).port;
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    if (!external) return console.warn('no non-loopback IPv4 address on this machine: the remote half is not checked');
    const remote = await fetch(`http://${external}:${port}/metrics`);
    expect(remote.status).toBe(403);
    expect(((await remote.json()) as { error: string }).error).toMatch(/metrics\.bearerToken or metrics\.listen/);
    // The same address reaches the gateway itself (it is the scrape that is refused).
    expect((await fetch(`http://${external}:${port}/healthz`)).status).toBe(200);
  });

  it('should serve metrics only on their own listener when metrics.listen is set', async () => {
    expect((await fetch(`${ownPort.base}/metrics`)).status).toBe(404);
    const port = ownPort.gateway.metricsPort;
    expect(port).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${port}/graphql`)).status).toBe(404);
    const metrics = await scrape(`http://127.0.0.1:${port}/metrics`);
    expect(total(metrics, 'switchyard_upstream_requests_total', { backend: 'gh' })).toBeGreaterThanOrEqual(0);
  });

  it('should answer 404 and keep no registry when metrics are off', async () => {
    expect((await fetch(`${off.base}/metrics`)).status).toBe(404);
    expect(off.gateway.metrics).toBeNull();
  });
});
