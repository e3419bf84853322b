/**
 * What OpenTelemetry tracing costs the gateway's CPU (issue 14), standalone:
 * `npx tsx bench/tracing-overhead.ts [--batches=20] [--queries=100] [--events=500] [--subs=200]`.
 * bench/metrics-overhead.ts with tracing toggled instead: two gateways in this process over one
 * GitHub simulator, tracing on (every trace sampled, pipelines exported, to an OTLP sink in this
 * process that discards what it reads) and off; metrics on for both, history off for both;
 * measured alternately batch by batch so the machine's drift hits both alike:
 * - queries: the dashboard-style query through yoga (`yoga.fetch`, no socket), CPU µs per query;
 * - fan-out: job changes ingested and delivered to `--subs` bus subscribers that drain them,
 *   CPU µs per change (the ingest path, the bus; half the changes finish a pipeline-less job).
 * Process CPU time (user + system), not wall time: a loaded machine slows both, it charges
 * neither. Prints medians and the on/off ratio.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGithubSimulator } from '../adapters/github/simulator/index.ts';
import { NO_FIELD_RATE_LIMITS } from './lib/ci-sims.ts';
import { adapterFactories } from '../src/adapters.ts';
import { validateConfig } from '../src/config/load-config.ts';
import type { JobModel } from '../src/model.ts';
import { createGateway, type Gateway } from '../src/server/create-gateway.ts';

const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const BATCHES = arg('batches', 20);
const QUERIES = arg('queries', 100);
const EVENTS = arg('events', 500);
const SUBS = arg('subs', 200);
const QUERY = '{ pipelines(first: 20) { nodes { id name status branch project { fullName } jobs { nodes { id name status runner { name } } } } } runners { nodes { name state labels } } }';

const sim = createGithubSimulator({ token: 'ghp_bench', seed: 7, history: 6 });
await sim.start();
// The collector: reads and drops each export (its serialization and sending are the gateway's cost).
let exports = 0;
const sink = createServer((req, res) => {
  req.resume();
  req.on('end', () => (exports++, res.writeHead(200, { 'content-type': 'application/json' }).end('{}')));
});
await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/v1/traces`;

async function start(tracing: boolean): Promise<Gateway> {
  const config = validateConfig({
    logLevel: 'silent', server: { port: 0, host: '127.0.0.1' }, auth: { mode: 'open' }, audit: { file: null },
    history: { enabled: false }, freshnessSeconds: 3600, rateLimit: NO_FIELD_RATE_LIMITS, tracing: { enabled: tracing, endpoint, exportPipelines: true },
    backends: [{ name: 'gh', provider: 'github', url: sim.url, token: { value: 'ghp_bench' }, organizations: ['octo-org'], runners: { organizations: ['octo-org'] } }],
  }, adapterFactories, 'bench');
  const gateway = createGateway({ config, factories: adapterFactories, polling: false });
  await gateway.listen(0, '127.0.0.1');
  return gateway;
}

const cpuMicros = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function queries(gateway: Gateway, n: number): Promise<number> {
  const before = cpuMicros();
  for (let i = 0; i < n; i++) {
    const res = await gateway.yoga.fetch('http://bench/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: QUERY, operationName: null }) });
    const body = (await res.json()) as { errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors).slice(0, 300));
  }
  return (cpuMicros() - before) / n;
}

let revision = 1_000;
async function fanout(gateway: Gateway, template: JobModel, n: number): Promise<number> {
  const iterators = Array.from({ length: SUBS }, () => gateway.services.bus.subscribe('Job', () => true));
  const drains = iterators.map(async (it) => {
    let seen = 0;
    while (seen < n && !(await it.next()).done) seen++;
  });
  const before = cpuMicros();
  for (let i = 0; i < n; i++) {
    revision++;
    const status = i % 2 === 0 ? 'RUNNING' : 'SUCCESS';
    gateway.services.ingestor.ingest([{ ...template, revision: [revision], status, finishedAt: status === 'SUCCESS' ? new Date().toISOString() : null }], { source: 'WEBHOOK', publishNew: true });
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }
  await Promise.all(drains);
  const perEvent = (cpuMicros() - before) / n;
  for (const it of iterators) await it.return?.();
  return perEvent;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const on = await start(true);
const off = await start(false);
// Warm-up: lists and job pages cached, JIT warm.
await queries(on, 20);
await queries(off, 20);
const template = [...on.services.state.all('Job')][0];
if (!template) throw new Error('no job in the live state after the warm-up query');
const results = { queries: { on: [] as number[], off: [] as number[] }, fanout: { on: [] as number[], off: [] as number[] } };
for (let b = 0; b < BATCHES; b++) {
  // Alternate which goes first, so neither always follows the other.
  const order: ['on' | 'off', Gateway][] = b % 2 === 0 ? [['on', on], ['off', off]] : [['off', off], ['on', on]];
  for (const [name, gw] of order) results.queries[name].push(await queries(gw, QUERIES));
  for (const [name, gw] of order) results.fanout[name].push(await fanout(gw, { ...template, nativeId: `bench-${name}` }, EVENTS));
}
const load = (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim();
console.log(`tracing overhead, ${BATCHES} batches alternating; ${exports} OTLP exports received; load average ${load}`);
for (const kind of ['queries', 'fanout'] as const) {
  const a = median(results[kind].on);
  const b = median(results[kind].off);
  console.log(`${kind}: CPU µs per ${kind === 'queries' ? 'query' : `change (${SUBS} subscribers)`}: on ${a.toFixed(0)}, off ${b.toFixed(0)}, on/off ${(a / b).toFixed(3)}`);
}
await Promise.all([on.close(0), off.close(0)]);
await sim.stop();
sink.close();
process.exit(0);
