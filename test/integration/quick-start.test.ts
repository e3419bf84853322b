import { spawn, type ChildProcess } from 'node:child_process';
import { createClient } from 'graphql-ws';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

/**
 * The README's quick start, for real: the gateway's entry module with no config
 * (`src/main.ts`, on an ephemeral port) serves live demo data within seconds and
 * shuts down cleanly on SIGTERM. `npm start` itself: entry-points.test.ts.
 */
describe('npm start (demo mode)', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
  });

  it('should serve live data within seconds and exit 0 on SIGTERM', async () => {
    const started = Date.now();
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: '0', SWITCHYARD_CONFIG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start-up line in 20 s:\n${output}`)), 20_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /DEMO MODE.*?Open (http:\/\/localhost:\d+\/graphql)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      };
      child!.stdout!.on('data', onData);
      child!.stderr!.on('data', onData);
      child!.on('exit', (code) => reject(new Error(`exited ${code}:\n${output}`)));
    });

    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ pipelines(first: 5) { nodes { status project { fullName } } } runners { nodes { name state } } }' }) });
    const body = (await res.json()) as { data: { pipelines: { nodes: unknown[] }; runners: { nodes: unknown[] } } };
    expect(body.data.pipelines.nodes.length).toBe(5);
    expect(body.data.runners.nodes.length).toBeGreaterThan(0);

    // Live: the simulator's webhooks reach a subscriber within seconds of start.
    const client = createClient({ url: url.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
    const firstEvent = await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no live event within 15 s')), 15_000);
      client.subscribe({ query: 'subscription { jobUpdated { job { name status } } }' }, {
        next: (v) => {
          clearTimeout(timer);
          resolve(v.data);
        },
        error: reject,
        complete: () => undefined,
      });
    });
    expect(firstEvent).toMatchObject({ jobUpdated: { job: { name: expect.any(String), status: expect.any(String) } } });
    const secondsToLive = (Date.now() - started) / 1000;
    console.info(`demo mode: first live event ${secondsToLive.toFixed(1)} s after process start`);

    const exit = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    await client.dispose();
  });
});
