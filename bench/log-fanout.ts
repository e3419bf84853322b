/**
 * Live logs (issue 17): what 1,000 watchers of one running job cost, against one watcher of
 * another job in the same run, on the Jenkins simulator (LIVE, progressiveText) through the
 * whole gateway. A line is appended every `--every` ms for `--seconds`, carrying its intended
 * append time; latency is from that time (the moment upstream has it) to each watcher's receipt.
 * Then memory per tailed job: `--jobs` running jobs with a log of `--kb` KiB, one watcher each,
 * heap after GC before and after.
 *   node --expose-gc --import tsx bench/log-fanout.ts [--watchers=1000] [--seconds=20] [--every=200] [--jobs=200] [--kb=64]
 */
import type { Client } from 'graphql-ws';
import type { AdapterTestingKit } from '../src/adapter-testing.ts';
import { toGlobalId } from '../src/ids.ts';
import { contractFactories } from '../test/contract/kits.ts';
import { startGatewayStack } from '../test/helpers/gateway-stack.ts';
import { summarize, round, sleep } from './lib/stats.ts';

const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const WATCHERS = arg('watchers', 1000);
const SECONDS = arg('seconds', 20);
const EVERY = arg('every', 200);
const JOBS = arg('jobs', 200);
const KB = arg('kb', 64);
const PROVIDER = 'jenkins';
const SUB = 'subscription($id: ID!) { jobLog(id: $id) { text complete } }';

interface Watcher { readonly latencies: number[]; readonly errors: string[]; lines: number; done: boolean }

/** Subscribes and records, per line received, now minus the append time the line carries. */
function watch(client: Client, id: string): Watcher {
  const w: Watcher = { latencies: [], errors: [], lines: 0, done: false };
  client.subscribe<{ jobLog: { text: string; complete: boolean } }>({ query: SUB, variables: { id } }, {
    next: ({ data, errors }) => {
      if (errors) {
        w.errors.push(errors[0]!.message);
        return;
      }
      const now = performance.timeOrigin + performance.now();
      for (const m of data!.jobLog.text.matchAll(/^t=(\d+(?:\.\d+)?) /gm)) {
        w.latencies.push(now - Number(m[1]));
        w.lines++;
      }
      if (data!.jobLog.complete) w.done = true;
    },
    error: (e) => console.error('watcher error', e),
    complete: () => undefined,
  });
  return w;
}

async function main(): Promise<void> {
  const kit = ((await import(`../adapters/${PROVIDER}/testing.ts`)) as { default: AdapterTestingKit }).default;
  if ('unsupported' in kit.logs) throw new Error(`${PROVIDER} serves no logs: ${kit.logs.unsupported}`);
  const world = await kit.logs.startWorld();
  const stack = await startGatewayStack(
    { backends: [{ name: 'b', provider: PROVIDER, ...world.backend }], logs: { maxTailsPerIdentity: 100_000 } },
    { factories: contractFactories, onClose: () => world.stop() },
  );
  try {
    // 1. Fan-out: one watcher of job `one`, WATCHERS of job `many`, the same lines at the same moments.
    const [one, many] = [await world.startJob(), await world.startJob()];
    const clients = Array.from({ length: 20 }, () => stack.wsClient());
    const single = watch(clients[0]!, toGlobalId('Job', 'b', one));
    // Each new subscription loads its job; concurrent loads of a job not yet in the live state
    // each go upstream (no webhooks here), so the crowd subscribes once one load put it there.
    await stack.query('query($id: ID!) { node(id: $id) { id } }', { id: toGlobalId('Job', 'b', many) });
    const crowd = Array.from({ length: WATCHERS }, (_, i) => watch(clients[i % clients.length]!, toGlobalId('Job', 'b', many)));
    await sleep(1000); // subscriptions in place (a line before would only be older, not lost)
    const start = performance.timeOrigin + performance.now();
    let sent = 0;
    for (let at = 0; at < SECONDS * 1000; at += EVERY) {
      const intended = start + at;
      const wait = intended - (performance.timeOrigin + performance.now());
      if (wait > 0) await sleep(wait);
      const line = `t=${intended} line ${sent++} ${'x'.repeat(60)}\n`;
      await Promise.all([world.append(one, line), world.append(many, line)]);
    }
    await Promise.all([world.finish(one), world.finish(many)]);
    const deadline = Date.now() + 30_000;
    while ((!single.done || crowd.some((w) => !w.done)) && Date.now() < deadline) await sleep(50);
    const crowdLat = crowd.flatMap((w) => w.latencies);
    const s1 = summarize(single.latencies);
    const sN = summarize(crowdLat);
    const refused = crowd.filter((w) => w.errors.length > 0);
    console.log(`lines appended: ${sent}; every watcher got all: single ${single.lines === sent}, crowd ${crowd.every((w) => w.lines === sent)}${refused.length ? ` (${refused.length} refused: ${refused[0]!.errors[0]})` : ''}`);
    console.log(`upstream log requests: 1 watcher ${world.logRequests(one)}, ${WATCHERS} watchers ${world.logRequests(many)} (ratio ${round(world.logRequests(many) / Math.max(1, world.logRequests(one)))})`);
    console.log(`latency from append to watcher, ms: 1 watcher p50 ${round(s1.p50)} p99 ${round(s1.p99)} max ${round(s1.max)}; ${WATCHERS} watchers p50 ${round(sN.p50)} p99 ${round(sN.p99)} max ${round(sN.max)} (${crowdLat.length} receipts)`);
    for (const c of clients) await c.dispose();

    // 2. Memory per tailed job.
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) {
      console.log('memory per tailed job: run with node --expose-gc to measure');
      return;
    }
    const heap = async () => {
      for (let i = 0; i < 3; i++) {
        gc();
        await sleep(50);
      }
      return process.memoryUsage().heapUsed;
    };
    const jobs = await Promise.all(Array.from({ length: JOBS }, () => world.startJob()));
    const body = `${'y'.repeat(99)}\n`.repeat(Math.floor((KB * 1024) / 100));
    await Promise.all(jobs.map((j) => world.append(j, body)));
    const memClients = Array.from({ length: 10 }, () => stack.wsClient());
    const before = await heap();
    const received = jobs.map(() => 0);
    jobs.forEach((j, i) => {
      memClients[i % memClients.length]!.subscribe<{ jobLog: { text: string } }>({ query: SUB, variables: { id: toGlobalId('Job', 'b', j) } }, {
        next: ({ data }) => {
          received[i]! += Buffer.byteLength(data!.jobLog.text);
        },
        error: (e) => console.error('watcher error', e),
        complete: () => undefined,
      });
    });
    // Every tail has read its log and every watcher received it.
    while (received.some((n) => n < body.length)) await sleep(50);
    const after = await heap();
    console.log(`memory per tailed job (${KB} KiB log, one watcher each, ${JOBS} jobs): ${round((after - before) / JOBS / 1024, 1)} KiB heap after GC`);
    for (const c of memClients) await c.dispose();
  } finally {
    await stack.close();
  }
}

await main();
