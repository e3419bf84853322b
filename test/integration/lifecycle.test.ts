import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startStack, waitFor } from '../helpers/stack.ts';

describe('lifecycle: teardown and graceful shutdown', () => {
  it('should release every listener and timer after 10,000 subscribe/unsubscribe cycles over graphql-ws', async () => {
    const stack = await startStack({ sim: { repositories: ['api'], history: 1 } });
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const client = createClient({ url: `${stack.base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
    try {
      await new Promise<void>((resolve) => client.on('connected', () => resolve()));
      const before = { timers: timers(), listeners: stack.gateway.subscriptionCount };
      const BATCH = 500;
      for (let done = 0; done < 10_000; done += BATCH) {
        const unsubscribes = Array.from({ length: BATCH }, () =>
          client.subscribe({ query: 'subscription { jobUpdated { job { name } } }' }, { next: () => undefined, error: () => undefined, complete: () => undefined }),
        );
        await waitFor(() => stack.gateway.subscriptionCount >= Math.min(BATCH, 100), 10_000, 'subscriptions to register');
        for (const u of unsubscribes) u();
        await waitFor(() => stack.gateway.subscriptionCount === 0, 10_000, 'subscriptions to be released');
      }
      expect(stack.gateway.subscriptionCount).toBe(before.listeners);
      expect(stack.gateway.services.bus.subscriberCount).toBe(0);
      // Timers come and go (keep-alive, pollers); what matters is that none accumulated per subscription.
      expect(timers()).toBeLessThanOrEqual(before.timers + 5);
    } finally {
      await client.dispose();
      await stack.close();
    }
  }, 120_000);

  it('should, on SIGTERM, close WebSockets with 1001 and exit 0 within seconds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(config, [
      'auth: { mode: open }',
      `audit: { file: ${JSON.stringify(join(dir, 'audit.jsonl'))} }`,
      'logLevel: info',
      'backends:',
      '  - { name: gh, provider: github, url: "http://127.0.0.1:9", repositories: [o/r], pollIntervalSeconds: 3600 }',
    ].join('\n'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--config', config], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const port = await new Promise<number>((resolve, reject) => {
      const onData = (c: Buffer) => {
        output += c.toString();
        const m = /"url":"http:\/\/localhost:(\d+)\/graphql"/.exec(output);
        if (m) resolve(Number(m[1]));
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
      setTimeout(() => reject(new Error(`no start line: ${output}`)), 20_000);
    });
    const client = createClient({ url: `ws://127.0.0.1:${port}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
    await new Promise<void>((resolve) => client.on('connected', () => resolve()));
    const closed = new Promise<number>((resolve) => client.on('closed', (e) => resolve((e as { code: number }).code)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const sentAt = Date.now();
    child.kill('SIGTERM');
    expect(await closed).toBe(1001);
    expect(await exited).toBe(0);
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    await client.dispose();
  });
});
