/**
 * At the file-descriptor limit the gateway sheds and says so, and keeps
 * serving. The limit of a gateway process is lowered at run time with
 * `prlimit` (util-linux): first to a little above what it has open (the
 * connection cap follows it, excess connections are closed on accept and
 * logged), then to exactly what it has open (no descriptor left: EMFILE is
 * logged). Then the limit is restored and everything is served again.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FD_RESERVE } from '../../src/server/connection-capacity.ts';
import { spawnGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { httpRequest, rawExchange } from '../helpers/raw-http.ts';
import { waitFor } from '../helpers/stack.ts';

const hasPrlimit = (() => {
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'ignore' });
    return existsSync('/proc/self/fd');
  } catch {
    return false;
  }
})();

describe.skipIf(!hasPrlimit)('file-descriptor limit (prlimit on a gateway process)', () => {
  let gateway: GatewayProcess;
  let bystander: Client;
  let bystanderClosed: unknown = null;
  let exitedWith: string | null = null;
  let hardLimit: number;
  const logs: { msg: string; level: number; [k: string]: unknown }[] = [];
  const logged = (pattern: RegExp) => logs.filter((l) => pattern.test(l.msg));
  const fdNumbers = () => new Set(readdirSync(`/proc/${gateway.child.pid}/fd`).map(Number));
  const openFds = () => fdNumbers().size;
  /** The lowest descriptor number free in the gateway: a soft limit of it leaves none to open (the limit bounds numbers, not counts). */
  const lowestFreeFd = () => {
    const used = fdNumbers();
    let n = 0;
    while (used.has(n)) n++;
    return n;
  };
  const setSoftLimit = (n: number) => execFileSync('prlimit', ['--pid', String(gateway.child.pid), `--nofile=${n}:`]);

  beforeAll(async () => {
    gateway = await spawnGatewayProcess(
      {
        logLevel: 'info',
        server: { port: 0, host: '127.0.0.1' },
        auth: { mode: 'open' },
        audit: { file: null },
        backends: [{ name: 'gh', provider: 'github', url: 'http://127.0.0.1:9', token: { value: 'ghp_x' }, repositories: ['octo-org/api'] }],
      },
      30_000,
      { onLog: (line) => logs.push(JSON.parse(line) as never) },
    );
    gateway.child.once('exit', (code, signal) => (exitedWith = `${code ?? signal}`));
    // The in-memory history opens in the background (PGlite compiles for a few seconds and
    // opens descriptors as it goes): the counts below must not move under the test.
    await waitFor(() => logged(/history ready/).length > 0, 30_000, 'the history to open');
    hardLimit = Number(/NOFILE\s+\S.*?\s(\d+|unlimited)\s+(\d+|unlimited)/.exec(execFileSync('prlimit', ['--pid', String(gateway.child.pid), '--nofile']).toString())?.[2] ?? 4096);
    bystander = createClient({ url: gateway.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, on: { closed: (event) => (bystanderClosed = event) } });
    await new Promise<void>((resolve, reject) => {
      bystander.on('connected', () => resolve());
      bystander.on('error', reject);
    });
    bystander.subscribe({ query: 'subscription { jobUpdated { job { name } } }' }, { next: () => undefined, error: () => undefined, complete: () => undefined });
  }, 60_000);

  afterAll(async () => {
    await bystander?.dispose();
    await gateway?.stop('SIGKILL');
  });

  async function bystanderServed(): Promise<void> {
    const result = await new Promise<unknown>((resolve, reject) => {
      bystander.subscribe({ query: '{ backends { name } }' }, { next: resolve, error: reject, complete: () => undefined });
    });
    expect(result).toMatchObject({ data: { backends: [{ name: 'gh' }] } });
    expect(exitedWith).toBeNull();
    expect(bystanderClosed).toBeNull();
  }

  /** Opens `n` connections at once, each asking /healthz; how many were served and how many closed unanswered. */
  async function flood(n: number): Promise<{ served: number; refused: number }> {
    const answers = await Promise.all(Array.from({ length: n }, () => rawExchange(gateway.port, httpRequest('GET', '/healthz', { host: 'gw' }), { end: false, timeoutMs: 3000 })));
    return { served: answers.filter((a) => a.response.includes('{"status":"ok"}')).length, refused: answers.filter((a) => a.closed && a.response === '').length };
  }

  it('should cap connections below a lowered limit, log the refusals once per interval, and keep serving', async () => {
    const open = openFds();
    const limit = open + FD_RESERVE + 8;
    setSoftLimit(limit);
    // The gateway re-reads its limit every second.
    await waitFor(() => logged(/lowered to fit the file-descriptor limit/).some((l) => l.fdLimit === limit), 5000, 'the cap to follow the limit');
    const { served, refused } = await flood(40);
    expect(refused).toBeGreaterThan(0);
    expect(served).toBeGreaterThan(0);
    await waitFor(() => logged(/connection limit reached/).length > 0, 5000, 'the refusal to be logged');
    // Once per interval, not once per connection.
    expect(logged(/connection limit reached/).length).toBe(1);
    await bystanderServed();
  });

  it('should log EMFILE when no descriptor is left, and serve again once there are', async () => {
    // Re-applied until seen: a descriptor the gateway closes meanwhile would be free again.
    await waitFor(() => {
      setSoftLimit(lowestFreeFd());
      return logged(/file-descriptor limit reached \(EMFILE\)/).length > 0;
    }, 5000, 'EMFILE to be logged');
    // Connections are closed by libuv's own EMFILE handling meanwhile; the process stays up.
    const during = await flood(5);
    expect(during.served).toBe(0);
    await bystanderServed();
    setSoftLimit(hardLimit);
    await waitFor(async () => (await flood(1)).served === 1, 5000, 'serving again');
    const { response } = await rawExchange(gateway.port, httpRequest('GET', '/readyz', { host: 'gw', connection: 'close' }));
    const health = JSON.parse(response.split('\r\n\r\n')[1]!) as { connections: { refused: number; fileDescriptors: { limit: number; exhaustions: number } } };
    expect(health.connections.refused).toBeGreaterThan(0);
    expect(health.connections.fileDescriptors).toMatchObject({ limit: hardLimit, exhaustions: expect.any(Number) });
    expect(health.connections.fileDescriptors.exhaustions).toBeGreaterThan(0);
    expect(logged(/file-descriptor limit reached/).length).toBe(1);
    await bystanderServed();
  });
});
