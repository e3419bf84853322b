/**
 * The A/B behind bench/metrics-overhead.ts and bench/tracing-overhead.ts: two gateways in this
 * process over one GitHub simulator, a feature on and off (history off for both), measured
 * alternately batch by batch so the machine's drift hits both alike:
 * - queries: the dashboard-style query through yoga (`yoga.fetch`, no socket), CPU µs per query;
 * - fan-out: job changes ingested and delivered to `--subs` bus subscribers that drain them,
 *   CPU µs per change.
 * Process CPU time (user + system), not wall time: a loaded machine slows both, it charges
 * neither. Prints medians and the on/off ratio. Flags: --batches=20 --queries=100 --events=500 --subs=200.
 */
import { readFileSync } from 'node:fs';
import { createGithubSimulator } from '../../adapters/github/simulator/index.ts';
import { adapterFactories } from '../../src/adapters.ts';
import { validateConfig } from '../../src/config/load-config.ts';
import type { JobModel } from '../../src/model.ts';
import { createGateway, type Gateway } from '../../src/server/create-gateway.ts';
import { NO_FIELD_RATE_LIMITS } from './ci-sims.ts';

const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const BATCHES = arg('batches', 20);
const QUERIES = arg('queries', 100);
const EVENTS = arg('events', 500);
const SUBS = arg('subs', 200);
const QUERY = '{ pipelines(first: 20) { nodes { id name status branch project { fullName } jobs { nodes { id name status runner { name } } } } } runners { nodes { name state labels } } }';

const cpuMicros = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

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

export interface OverheadAB {
  /** Printed first, e.g. "metrics overhead". */
  readonly title: string;
  /** The config keys that turn the feature on or off (merged over the shared config). */
  readonly feature: (on: boolean) => Record<string, unknown>;
  /** Extra words for the summary line, read after the run (e.g. what a sink received). */
  readonly summary?: () => string;
}

export async function runOverheadAB(ab: OverheadAB): Promise<void> {
  const sim = createGithubSimulator({ token: 'ghp_bench', seed: 7, history: 6 });
  await sim.start();
  const start = async (on: boolean): Promise<Gateway> => {
    const config = validateConfig({
      logLevel: 'silent', server: { port: 0, host: '127.0.0.1' }, auth: { mode: 'open' }, audit: { file: null },
      history: { enabled: false }, freshnessSeconds: 3600, rateLimit: NO_FIELD_RATE_LIMITS, ...ab.feature(on),
      backends: [{ name: 'gh', provider: 'github', url: sim.url, token: { value: 'ghp_bench' }, organizations: ['octo-org'], runners: { organizations: ['octo-org'] } }],
    }, adapterFactories, 'bench');
    const gateway = createGateway({ config, factories: adapterFactories, polling: false });
    await gateway.listen(0, '127.0.0.1');
    return gateway;
  };
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
  const load = readFileSync('/proc/loadavg', 'utf8').trim();
  console.log(`${ab.title}, ${BATCHES} batches alternating;${ab.summary ? ` ${ab.summary()};` : ''} load average ${load}`);
  for (const kind of ['queries', 'fanout'] as const) {
    const a = median(results[kind].on);
    const b = median(results[kind].off);
    console.log(`${kind}: CPU µs per ${kind === 'queries' ? 'query' : `change (${SUBS} subscribers)`}: on ${a.toFixed(0)}, off ${b.toFixed(0)}, on/off ${(a / b).toFixed(3)}`);
  }
  await Promise.all([on.close(0), off.close(0)]);
  await sim.stop();
}
