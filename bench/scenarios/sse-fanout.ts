/**
 * SSE fan-out: S subscribers of one identical operation over GraphQL-over-SSE
 * (distinct connections), against three servers in the same run:
 *
 * - `gateway`: Switchyard, SSE subscriptions multiplexed (one execution and
 *   one serialization per event for the whole group);
 * - `gateway-solo`: Switchyard with `server.sseMultiplexing: false`, each SSE
 *   subscription executing on its own (the code before multiplexing: A/B);
 * - `ceiling`: bench/baseline/sse-ceiling-server.ts, a plain node http server
 *   writing one pre-serialized frame to every response, no GraphQL.
 *
 * Events go out open-loop at a fixed rate: into the gateway as signed
 * `workflow_job` webhooks, into the ceiling as `POST /publish` of the event.
 * Latency is receipt minus the intended send time (epoch ms, same clock in
 * every process). Subscribers live in client child processes
 * (bench/lib/sse-fanout-client.ts) on the load CPU.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { GithubSimulator } from '../../adapters/github/simulator/index.ts';
import type { SseFromClient, SseToClient } from '../lib/sse-fanout-client.ts';
import { HAS_TASKSET, startGatewayChild, trackChild, type GatewayChild } from '../lib/gateway-child.ts';
import { mb, round, sleep, summarize, type Summary } from '../lib/stats.ts';
import { jobBody, type JobTemplates } from '../lib/webhook-templates.ts';
import { post, sendOnSchedule, sign, type Signed } from './webhook-latency.ts';

export const SSE_FANOUT_QUERY = 'subscription { jobUpdated { previousStatus job { id name status } } }';
export type SseServerKind = 'gateway' | 'gateway-solo' | 'ceiling';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLIENT_ENTRY = fileURLToPath(new URL('../lib/sse-fanout-client.ts', import.meta.url));
const CEILING_ENTRY = fileURLToPath(new URL('../baseline/sse-ceiling-server.ts', import.meta.url));

export interface SseFanoutCellOptions {
  server: SseServerKind;
  sim: GithubSimulator;
  token: string;
  secret: string;
  templates: JobTemplates;
  subscribers: number;
  clientProcesses: number;
  ratePerSec: number;
  durationSec: number;
  warmupEvents: number;
  drainMs: number;
  serverCpu?: number;
  loadCpu?: number;
}

export interface SseFanoutCellResult {
  server: SseServerKind;
  subscribers: number;
  events: number;
  /** Streams that could not open (refused or timed out); expected counts the others only. */
  failedOpens: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  subscriberErrors: number;
  subscriberErrorSamples: string[];
  failedSends: number;
  latencyMs: Summary;
  /** Delivered ÷ (last receipt − t0). */
  eventsPerSec: number | null;
  serverCpuPct: number | null;
  serverRssMb: { subscribed: number | null };
  windowMs: number;
}

interface ClientProc {
  child: ChildProcess;
  send(m: SseToClient): void;
  next<T extends SseFromClient['type']>(type: T, timeoutMs: number): Promise<Extract<SseFromClient, { type: T }>>;
}

function startClient(loadCpu: number | undefined): ClientProc {
  const nodeArgs = ['--import', 'tsx', CLIENT_ENTRY];
  const pin = loadCpu !== undefined && HAS_TASKSET;
  const child = spawn(pin ? 'taskset' : process.execPath, pin ? ['-c', String(loadCpu), process.execPath, ...nodeArgs] : nodeArgs, {
    cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced',
  });
  trackChild(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const waiting = new Map<string, Array<(m: SseFromClient) => void>>();
  child.on('message', (raw) => {
    const m = raw as SseFromClient;
    waiting.get(m.type)?.shift()?.(m);
  });
  return {
    child,
    send: (m) => {
      if (child.connected) child.send(m);
    },
    next(type, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`SSE client: no ${type} within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
        const q = waiting.get(type) ?? [];
        q.push((m) => {
          clearTimeout(timer);
          resolve(m as never);
        });
        waiting.set(type, q);
      });
    },
  };
}

/** One `queued` job per send: exactly one `jobUpdated` each, named `bench-<tag>-<seq>` for the clients. */
function eventBodies(o: SseFanoutCellOptions, tag: string, count: number, firstJobId: number): Signed[] {
  const now = Date.now();
  return Array.from({ length: count }, (_, seq) => {
    const name = `bench-${tag}-${seq}`;
    if (o.server !== 'ceiling') return sign(o.secret, jobBody(o.templates, 'queued', firstJobId + seq, name, { created: now, started: now, completed: now }));
    return { signature: '', body: JSON.stringify({ previousStatus: null, job: { id: `bench-job-${firstJobId + seq}`, name, status: 'QUEUED' }, cursor: String(firstJobId + seq) }) };
  });
}

export async function runSseFanoutCell(o: SseFanoutCellOptions): Promise<SseFanoutCellResult> {
  const S = o.subscribers;
  const N = Math.round(o.ratePerSec * o.durationSec);
  const gap = 1000 / o.ratePerSec;
  const P = Math.max(1, Math.min(o.clientProcesses, S));
  const clients = Array.from({ length: P }, () => startClient(o.loadCpu));
  const hellos = Promise.all(clients.map((c) => c.next('hello', 30_000)));
  let server: GatewayChild | undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  try {
    server = await startGatewayChild({
      simUrl: o.sim.url, token: o.token, webhookSecret: o.secret, cpu: o.serverCpu,
      entry: o.server === 'ceiling' ? CEILING_ENTRY : undefined, startTimeoutMs: 90_000,
      // One anonymous identity for every subscriber; shedding off, so connecting thousands is never refused.
      config: { limits: { maxConnectionsPerIdentity: 1_000_000 }, server: { sseMultiplexing: o.server === 'gateway', shedding: { eventLoopLagMs: 60_000 } } },
    });
    const gw = server;
    await hellos;
    const path = o.server === 'ceiling' ? '/publish' : '/webhooks/gh';
    const idBase = 800_000_000_000;
    const sendOne = (body: Signed, intended?: number) => post(agent, gw.base, body, randomUUID(), intended, path);

    const per = Math.ceil(S / P);
    const ready = await Promise.all(clients.map((c, k) => {
      c.send({ cmd: 'start', url: `${gw.base}/graphql`, count: Math.max(0, Math.min(per, S - k * per)), query: SSE_FANOUT_QUERY });
      // Opening an SSE stream through the gateway's whole HTTP envelope costs milliseconds each: thousands take minutes on a loaded machine.
      return c.next('ready', 300_000);
    }));
    // A stream refused or timed out while thousands connect on a loaded machine is reported, not fatal: the rest are measured.
    const failedOpens = ready.reduce((a, r) => a + r.failed, 0);
    const live = S - failedOpens;
    if (live === 0) throw new Error(`none of ${S} SSE streams could open`);

    const statuses = async () => {
      const replies = clients.map((c) => c.next('status', 10_000));
      for (const c of clients) c.send({ cmd: 'status' });
      return Promise.all(replies);
    };
    const sum = (xs: Extract<SseFromClient, { type: 'status' }>[], k: 'probeSubscribers' | 'warmDelivered' | 'delivered') => xs.reduce((a, x) => a + x[k], 0);

    // Probes until every stream has seen one: then every subscription is live.
    const probeDeadline = performance.now() + 60_000;
    for (let probe = 0; ; probe++) {
      if (sum(await statuses(), 'probeSubscribers') >= live) break;
      if (performance.now() > probeDeadline) throw new Error(`SSE subscriptions not all live after 60 s`);
      await sendOne(eventBodies(o, `p${probe}`, 1, idBase + 9_000_000 + probe)[0]!);
      await sleep(probe === 0 ? 100 : 300);
    }
    const rssSubscribed = gw.rssBytes();

    // Warm-up, then the measured run.
    const warm = eventBodies(o, 'w', o.warmupEvents, idBase + 8_000_000);
    const warmT0 = performance.now() + 20;
    const warmSends: Promise<unknown>[] = [];
    await sendOnSchedule(warm, o.ratePerSec, warmT0, (_k, body) => warmSends.push(sendOne(body)), warmT0 + 30_000);
    await Promise.all(warmSends);
    const warmUntil = performance.now() + 10_000;
    while (performance.now() < warmUntil && sum(await statuses(), 'warmDelivered') < o.warmupEvents * live) await sleep(50);

    const bodies = eventBodies(o, 'm', N, idBase);
    const t0 = performance.now() + 200;
    const t0Epoch = performance.timeOrigin + t0;
    await Promise.all(clients.map((c) => {
      const armed = c.next('status', 10_000);
      c.send({ cmd: 'measure', N, t0: t0Epoch, gapMs: gap });
      return armed;
    }));
    let failedSends = 0;
    const sends: Promise<void>[] = [];
    const cpu0 = gw.cpuMs();
    await sendOnSchedule(bodies, o.ratePerSec, t0, (_k, body, intended) => {
      sends.push(sendOne(body, intended).then((r) => {
        if (r.status !== 202 || r.published < 1) failedSends++;
      }));
    }, t0 + o.durationSec * 1000 + 30_000);
    const lastIntended = t0 + (N - 1) * gap;
    while (performance.now() < lastIntended + o.drainMs) {
      if (sum(await statuses(), 'delivered') >= live * N) break;
      await sleep(25);
    }
    const cpu1 = gw.cpuMs();
    const reports = await Promise.all(clients.map((c) => {
      const r = c.next('report', 30_000);
      c.send({ cmd: 'report' });
      return r;
    }));
    await Promise.race([Promise.all(sends), sleep(5000)]);

    const lastReceipt = Math.max(...reports.map((r) => r.lastReceipt));
    const windowMs = Math.max(lastReceipt - t0Epoch, lastIntended - t0);
    const delivered = reports.reduce((a, r) => a + r.delivered, 0);
    const all = new Float64Array(delivered);
    let off = 0;
    for (const r of reports) {
      all.set(r.latencies, off);
      off += r.latencies.length;
    }
    const s = summarize(all);
    return {
      server: o.server,
      subscribers: S,
      events: N,
      failedOpens,
      expected: live * N,
      delivered,
      lost: live * N - delivered,
      duplicates: reports.reduce((a, r) => a + r.duplicates, 0),
      subscriberErrors: reports.reduce((a, r) => a + r.errors, 0),
      subscriberErrorSamples: reports.flatMap((r) => r.errorSamples).slice(0, 3),
      failedSends,
      latencyMs: { count: s.count, p50: round(s.p50), p90: round(s.p90), p99: round(s.p99), max: round(s.max), mean: round(s.mean) },
      eventsPerSec: windowMs > 0 ? round((delivered / windowMs) * 1000, 0) : null,
      serverCpuPct: cpu0 !== null && cpu1 !== null && windowMs > 0 ? round(((cpu1 - cpu0) / windowMs) * 100, 0) : null,
      serverRssMb: { subscribed: mb(rssSubscribed) },
      windowMs: round(windowMs, 0)!,
    };
  } finally {
    for (const c of clients) c.send({ cmd: 'close' });
    agent.destroy();
    await server?.stop();
    await Promise.race([Promise.all(clients.map((c) => (c.child.exitCode !== null || c.child.signalCode !== null ? Promise.resolve() : new Promise((r) => c.child.once('exit', r))))), sleep(4000)]);
    for (const c of clients) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  }
}

/** Markdown rows: each server's throughput and p99, and Switchyard's as a fraction of the ceiling's at the same size. */
export function sseFanoutTable(rows: SseFanoutCellResult[]): string {
  const ceilingAt = new Map(rows.filter((r) => r.server === 'ceiling').map((r) => [r.subscribers, r]));
  const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '–' : String(v));
  const lines = [
    '| server | subscribers | delivered/expected | deliveries/s | p50 ms | p99 ms | server CPU % | RSS MB | ÷ ceiling deliveries/s | p99 ÷ ceiling p99 |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const c = ceilingAt.get(r.subscribers);
    const share = c?.eventsPerSec && r.eventsPerSec !== null ? round(r.eventsPerSec / c.eventsPerSec, 2) : null;
    const p99 = c?.latencyMs.p99 && r.latencyMs.p99 !== null ? round(r.latencyMs.p99 / c.latencyMs.p99, 2) : null;
    lines.push(`| ${r.server} | ${r.subscribers} | ${r.delivered}/${r.expected} | ${fmt(r.eventsPerSec)} | ${fmt(r.latencyMs.p50)} | ${fmt(r.latencyMs.p99)} | ${fmt(r.serverCpuPct)} | ${fmt(r.serverRssMb.subscribed)} | ${fmt(share)} | ${fmt(p99)} |`);
  }
  return lines.join('\n');
}
