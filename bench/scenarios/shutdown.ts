/**
 * §6 row 15, shutdown: the real entry point (`src/main.ts --config`, as an
 * operator runs it) serves 1,000 graphql-ws subscribers while signed webhooks
 * arrive at 50/s; then SIGTERM. Reports how each socket was closed (code) and
 * when, measured from the signal, and the process's exit code and time.
 * Goal: every socket closed with 1001 within 5 s, exit 0 before 30 s.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { GithubSimulator } from '../../adapters/github/simulator/index.ts';
import { trackChild } from '../lib/gateway-child.ts';
import { subscribeLean } from '../lib/lean-subscriber.ts';
import { round, sleep, summarize, type Summary } from '../lib/stats.ts';
import type { JobTemplates } from '../lib/webhook-templates.ts';
import { buildBodies, post, sendOnSchedule, SUBSCRIPTION } from './webhook-latency.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ShutdownResult {
  subscribers: number;
  /** Events received before the signal (the subscribers were live and under load). */
  deliveredBeforeSignal: number;
  /** Close codes seen by the subscribers, with counts. */
  closeCodes: Record<string, number>;
  /** Signal → each socket's close, ms. */
  closeMs: Summary;
  /** Sockets still open when the process exited or after 30 s. */
  stillOpen: number;
  exitCode: number | null;
  exitMs: number | null;
}

export async function runShutdown(o: { sim: GithubSimulator; token: string; secret: string; templates: JobTemplates; subscribers: number; ratePerSec: number; gatewayCpu?: number }): Promise<ShutdownResult> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-shutdown-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(config, [
    'auth: { mode: open }',
    'audit: { file: null }',
    'logLevel: info',
    'limits: { maxConnectionsPerIdentity: 1000000 }',
    'backends:',
    `  - { name: gh, provider: github, url: ${JSON.stringify(o.sim.url)}, token: { value: ${JSON.stringify(o.token)} }, webhookSecret: { value: ${JSON.stringify(o.secret)} }, organizations: [octo-org], pollIntervalSeconds: 3600 }`,
  ].join('\n'));
  const args = ['--import', 'tsx', 'src/main.ts', '--config', config];
  const child = o.gatewayCpu !== undefined
    ? spawn('taskset', ['-c', String(o.gatewayCpu), process.execPath, ...args], { cwd: REPO_ROOT, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (c: Buffer) => {
      output = (output + c.toString()).slice(-20_000);
      const m = /"url":"http:\/\/localhost:(\d+)\/graphql"/.exec(output);
      if (m) resolve(Number(m[1]));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`gateway exited ${code} before listening: ${output.slice(-2000)}`)));
    setTimeout(() => reject(new Error(`gateway did not start: ${output.slice(-2000)}`)), 30_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  const url = `ws://127.0.0.1:${port}/graphql`;
  let delivered = 0;
  let signalAt = Number.POSITIVE_INFINITY;
  const closeCodes: Record<string, number> = {};
  const closeMs: number[] = [];
  const open = new Set<number>();
  const handles: { dispose(): void }[] = [];
  for (let start = 0; start < o.subscribers; start += 100) {
    await Promise.all(Array.from({ length: Math.min(100, o.subscribers - start) }, (_, k) => new Promise<void>((resolve) => {
      const i = start + k;
      handles.push(subscribeLean(url, SUBSCRIPTION, undefined, {
        connected: () => {
          open.add(i);
          resolve();
        },
        next: () => {
          if (performance.now() < signalAt) delivered++;
        },
        error: (error) => {
          const code = (error as { code?: unknown }).code;
          if (typeof code === 'number' && open.delete(i)) {
            closeCodes[code] = (closeCodes[code] ?? 0) + 1;
            closeMs.push(performance.now() - signalAt);
          }
          resolve();
        },
      }));
    })));
  }
  // Under load: webhooks at the given rate, the signal 10 s in.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const bodies = buildBodies(o.templates, { tag: 'm', count: o.ratePerSec * 15, ratePerSec: o.ratePerSec, firstJobId: 970_000_000_000 }, Date.now(), o.secret);
  const t0 = performance.now() + 100;
  const sending = sendOnSchedule(bodies, o.ratePerSec, t0, (_k, body, intended) => void post(agent, base, body, randomUUID(), intended), t0 + 60_000);
  await sleep(10_000);
  signalAt = performance.now();
  child.kill('SIGTERM');
  const exitCode = await Promise.race([exited, sleep(30_000).then(() => 'timeout' as const)]);
  const exitMs = exitCode === 'timeout' ? null : performance.now() - signalAt;
  if (exitCode === 'timeout') child.kill('SIGKILL');
  // Close frames still in flight when the process ended.
  const until = performance.now() + 2000;
  while (open.size > 0 && performance.now() < until) await sleep(20);
  await sending.catch(() => undefined);
  for (const h of handles) h.dispose();
  agent.destroy();
  return {
    subscribers: o.subscribers, deliveredBeforeSignal: delivered, closeCodes,
    closeMs: (({ count, p50, p90, p99, max, mean }) => ({ count, p50: round(p50), p90: round(p90), p99: round(p99), max: round(max), mean: round(mean) }))(summarize(closeMs)),
    stillOpen: open.size, exitCode: exitCode === 'timeout' ? null : exitCode, exitMs: exitMs === null ? null : round(exitMs, 0),
  };
}
