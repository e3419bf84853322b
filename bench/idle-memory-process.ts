/**
 * Idle-subscriber memory, measured inside the gateway process: run with
 * `node --expose-gc --import tsx bench/idle-memory-process.ts <sizes>`.
 * For each size S it opens S idle graphql-ws subscribers (identical
 * operation) from a client child process, lets the connection storm settle,
 * collects garbage twice, and reports heap and RSS growth per subscriber
 * against the same measurement with no subscriber. Prints one JSON line.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createGithubSimulator } from '../adapters/github/simulator/index.ts';
import { adapterFactories } from '../src/adapters.ts';
import { validateConfig } from '../src/config/load-config.ts';
import { createGateway } from '../src/server/create-gateway.ts';

const QUERY = 'subscription { jobUpdated { previousStatus job { id name status } } }';
const CLIENTS = fileURLToPath(new URL('./lib/idle-clients.ts', import.meta.url));
const sizes = (process.argv[2] ?? '1000').split(',').map(Number);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
function settled(): NodeJS.MemoryUsage {
  gc!();
  gc!();
  return process.memoryUsage();
}

const sim = createGithubSimulator({ token: 't', seed: 7, repositories: ['api'], history: 1 });
await sim.start();
const config = validateConfig({
  logLevel: 'silent', server: { port: 0, host: '127.0.0.1' }, auth: { mode: 'open' }, audit: { file: null },
  limits: { maxConnectionsPerIdentity: 1_000_000 },
  backends: [{ name: 'gh', provider: 'github', url: sim.url, token: { value: 't' }, webhookSecret: { value: 's' }, organizations: ['octo-org'] }],
}, adapterFactories, 'bench');
const gateway = createGateway({ config, factories: adapterFactories, log: pino({ level: 'silent' }), polling: false });
const { port } = await gateway.listen(0, '127.0.0.1');
const url = `ws://127.0.0.1:${port}/graphql`;

const rows: { subscribers: number; heapKbPerSub: number; rssKbPerSub: number; externalKbPerSub: number; connectSec: number }[] = [];
for (const S of sizes) {
  await sleep(500);
  const before = settled();
  const t0 = performance.now();
  const child = fork(CLIENTS, [url, String(S), QUERY], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`idle clients exited ${code}`)));
  });
  while (gateway.subscriptionCount < S) await sleep(50);
  const connectSec = (performance.now() - t0) / 1000;
  await sleep(1000);
  const after = settled();
  const per = (k: 'heapUsed' | 'rss' | 'external') => Math.round(((after[k] - before[k]) / 1024 / S) * 100) / 100;
  rows.push({ subscribers: S, heapKbPerSub: per('heapUsed'), rssKbPerSub: per('rss'), externalKbPerSub: per('external'), connectSec: Math.round(connectSec * 10) / 10 });
  child.kill();
  while (gateway.subscriptionCount > 0) await sleep(50);
}
await gateway.close();
await sim.stop();
process.stdout.write(`${JSON.stringify({ rows })}\n`);
process.exit(0);
