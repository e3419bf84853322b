/**
 * Scenario 3: subscription fan-out, gateway against a stock yoga baseline and
 * against the raw `ws` ceiling.
 *
 * One cell = one server (gateway, baseline or ceiling, fresh child process, pinned like
 * the gateway) × S subscribers × one operation variant (identical, distinct or unique).
 * The subscribers live in P client child processes (bench/lib/fanout-client.ts,
 * pinned to the load CPU). Events go out open-loop at a fixed rate: into the
 * gateway as signed `workflow_job` webhooks, into the baseline as
 * `POST /publish` of the JobEvent. Latency is receipt minus the *intended*
 * send time (epoch ms, same clock in every process). The ceiling takes the
 * gateway's webhooks unchanged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { GithubSimulator } from '../../adapters/github/simulator/index.ts';
import type { ClientKind, ClientReport, ClientStatus, FromClient, ToClient } from '../lib/fanout-client.ts';
import { HAS_TASKSET, startGatewayChild, trackChild, type GatewayChild } from '../lib/gateway-child.ts';
import { mb, round, sleep, summarize, type Summary } from '../lib/stats.ts';
import { jobBody, type JobTemplates } from '../lib/webhook-templates.ts';
import { post, sendOnSchedule, sign, type JsonResponse, type Signed } from './webhook-latency.ts';

export const FANOUT_IDENTICAL = 'subscription { jobUpdated { previousStatus job { id name status } } }';
/** Same text for everyone, but each subscriber passes its own `$f` (backends: ["gh", "x<i>"]), so operations differ. */
export const FANOUT_DISTINCT = 'subscription ($f: JobFilter) { jobUpdated(filter: $f) { previousStatus job { id name status } } }';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLIENT_ENTRY = fileURLToPath(new URL('../lib/fanout-client.ts', import.meta.url));
const BASELINE_ENTRY = fileURLToPath(new URL('../baseline/server.ts', import.meta.url));
const CEILING_ENTRY = fileURLToPath(new URL('../baseline/ceiling-server.ts', import.meta.url));

/** `ceiling`: a raw `ws` broadcaster fed the gateway's own webhooks (bench/baseline/ceiling-server.ts). */
export type ServerKind = 'gateway' | 'baseline' | 'ceiling';
/** Servers that take the signed `workflow_job` webhook; the baseline takes `POST /publish`. */
const takesWebhooks = (server: ServerKind) => server !== 'baseline';
/** Each subscriber aliases the root field with its own name (`s<i>`), so every selection, and every result, differs. */
export const FANOUT_UNIQUE = 'subscription { s__I__: jobUpdated { previousStatus job { id name status } } }';

export type Variant = 'identical' | 'distinct' | 'unique';

export interface FanoutCellOptions {
  server: ServerKind;
  variant: Variant;
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
  /** How subscribers speak graphql-transport-ws (see bench/lib/fanout-client.ts); default lean. */
  client?: ClientKind;
  /** When set, the server runs with `node --cpu-prof --cpu-prof-dir=<dir>`. */
  cpuProfDir?: string;
}

export interface FanoutCellResult {
  server: ServerKind;
  variant: Variant;
  subscribers: number;
  clientProcesses: number;
  client: ClientKind;
  ratePerSec: number;
  durationSec: number;
  events: number;
  failedSends: number;
  failedSendReasons: Record<string, number>;
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  wrongTransition: number;
  subscriberErrors: number;
  subscriberErrorSamples: string[];
  serverExited: string | null;
  latencyMs: Summary;
  sendLagMs: Summary;
  /** Delivered ÷ (last receipt − t0). */
  eventsPerSec: number | null;
  serverRssMb: { before: number | null; subscribed: number | null; after: number | null };
  /** (RSS subscribed − RSS before) ÷ S, KB. */
  rssPerSubscriberKb: number | null;
  serverCpuPct: number | null;
  /** Sum over client processes (all on the load CPU) plus the sender, % of one core. */
  loadCpuPct: number | null;
  windowMs: number;
  phaseMs: Record<string, number>;
  cpuProfile: string | null;
  /** Measured window on CLOCK_MONOTONIC (process.hrtime), µs: t0 to the end of the drain. */
  windowMonoUs: [number, number];
}

interface ClientProc {
  child: ChildProcess;
  send(m: ToClient): void;
  next<T extends FromClient['type']>(type: T, timeoutMs: number): Promise<Extract<FromClient, { type: T }>>;
}


function startClient(loadCpu: number | undefined): ClientProc {
  const nodeArgs = ['--import', 'tsx', CLIENT_ENTRY];
  const pin = loadCpu !== undefined && HAS_TASKSET;
  const child = spawn(pin ? 'taskset' : process.execPath, pin ? ['-c', String(loadCpu), process.execPath, ...nodeArgs] : nodeArgs, {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  trackChild(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const waiting = new Map<string, Array<(m: FromClient) => void>>();
  child.on('message', (raw) => {
    const m = raw as FromClient;
    const q = waiting.get(m.type === 'failed' ? 'ready' : m.type);
    const f = q?.shift();
    if (f) f(m);
  });
  return {
    child,
    send: (m) => {
      if (child.connected) child.send(m);
    },
    next(type, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`fan-out client: no ${type} within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
        const onExit = () => reject(new Error(`fan-out client exited while waiting for ${type}; stderr: ${stderr}`));
        child.once('exit', onExit);
        const q = waiting.get(type) ?? [];
        q.push((m) => {
          clearTimeout(timer);
          child.off('exit', onExit);
          if (m.type === 'failed') reject(new Error(`fan-out client failed: ${m.error}`));
          else resolve(m as never);
        });
        waiting.set(type, q);
      });
    },
  };
}

/**
 * Every fan-out event is a `queued` for a new job: exactly one `jobUpdated`
 * (previousStatus null) per send, with no ordering between sends, so a
 * server that falls behind shows up as latency and loss, never as stale or
 * reordered transitions.
 */
function eventBodies(o: FanoutCellOptions, tag: string, count: number, firstJobId: number): Signed[] {
  const out: Signed[] = [];
  const now = Date.now();
  for (let seq = 0; seq < count; seq++) {
    const name = `bench-${tag}-${seq}`;
    if (takesWebhooks(o.server)) {
      out.push(sign(o.secret, jobBody(o.templates, 'queued', firstJobId + seq, name, { created: now, started: now, completed: now })));
    } else {
      out.push({
        signature: '',
        body: JSON.stringify({
          previousStatus: null,
          job: { id: `bench-job-${firstJobId + seq}`, name, status: 'QUEUED' },
          source: 'WEBHOOK',
          receivedAt: new Date(now).toISOString(),
          cursor: String(firstJobId + seq),
          backendName: 'gh',
        }),
      });
    }
  }
  return out;
}

export async function runFanoutCell(o: FanoutCellOptions): Promise<FanoutCellResult> {
  const S = o.subscribers;
  const N = Math.round(o.ratePerSec * o.durationSec);
  // Client-side phase check: with J = N every measured event is phase 0 (queued, previousStatus null).
  const J = Math.max(1, N);
  const gap = 1000 / o.ratePerSec;
  const phaseMs: Record<string, number> = {};
  let mark = performance.now();
  const lap = (name: string) => {
    const t = performance.now();
    phaseMs[name] = round(t - mark, 0)!;
    mark = t;
  };
  const P = Math.max(1, Math.min(o.clientProcesses, S));
  const clients = Array.from({ length: P }, () => startClient(o.loadCpu));
  const hellos = Promise.all(clients.map((c) => c.next('hello', 30_000)));
  const profDir = o.cpuProfDir;
  if (profDir) mkdirSync(profDir, { recursive: true });
  const profBefore = profDir ? new Set(readdirSync(profDir)) : new Set<string>();
  let gw: GatewayChild | undefined;
  let agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  try {
    gw = await startGatewayChild({
      simUrl: o.sim.url, token: o.token, webhookSecret: o.secret, cpu: o.serverCpu,
      entry: o.server === 'baseline' ? BASELINE_ENTRY : o.server === 'ceiling' ? CEILING_ENTRY : undefined,
      nodeFlags: profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : undefined,
      // All bench subscribers are one anonymous identity; lift the per-identity connection cap.
      config: { limits: { maxConnectionsPerIdentity: 1_000_000 } },
    });
    const server = gw;
    await hellos;
    await sleep(300);
    const rssBefore = server.rssBytes();
    lap('start');

    const path = takesWebhooks(o.server) ? '/webhooks/gh' : '/publish';
    const idBase = 700_000_000_000;
    const bodiesFor = (tag: string, count: number, firstJobId: number): Signed[] => eventBodies(o, tag, count, firstJobId);
    const sendOne = (body: Signed, intended?: number): Promise<JsonResponse> => post(agent, server.base, body, randomUUID(), intended, path);

    // ---- subscribe ---------------------------------------------------------------
    const url = `ws://127.0.0.1:${server.port}/graphql`;
    const query = o.variant === 'identical' ? FANOUT_IDENTICAL : o.variant === 'distinct' ? FANOUT_DISTINCT : FANOUT_UNIQUE;
    const per = Math.ceil(S / P);
    const ready = clients.map((c, k) => {
      const count = Math.max(0, Math.min(per, S - k * per));
      c.send({ cmd: 'start', url, count, firstIndex: k * per, query, distinct: o.variant === 'distinct', client: o.client ?? 'lean' });
      return c.next('ready', 60_000);
    });
    await Promise.all(ready);
    lap('connect');

    const statuses = async (): Promise<ClientStatus[]> => {
      const replies = clients.map((c) => c.next('status', 10_000));
      for (const c of clients) c.send({ cmd: 'status' });
      return Promise.all(replies);
    };
    const sum = (xs: ClientStatus[], k: 'probeSubscribers' | 'warmDelivered' | 'delivered' | 'errors') => xs.reduce((a, x) => a + x[k], 0);

    // ---- probes: subscriptions are live once every subscriber has seen one --------
    const probeDeadline = performance.now() + 30_000;
    for (let probe = 0; ; probe++) {
      const st = await statuses();
      if (sum(st, 'probeSubscribers') >= S) break;
      if (performance.now() > probeDeadline) throw new Error(`only ${sum(st, 'probeSubscribers')}/${S} subscriptions live after 30 s`);
      const body = bodiesFor(`p${probe}`, 1, idBase + 9_000_000 + probe)[0]!;
      await sendOne(body);
      await sleep(probe === 0 ? 100 : 250);
    }
    const rssSubscribed = server.rssBytes();
    lap('probe');

    // ---- warm-up -------------------------------------------------------------------
    const W = o.warmupEvents;
    const warm = bodiesFor('w', W, idBase + 8_000_000);
    const warmT0 = performance.now() + 20;
    const warmSends: Promise<JsonResponse>[] = [];
    await sendOnSchedule(warm, o.ratePerSec, warmT0, (_k, body) => warmSends.push(sendOne(body)), warmT0 + 30_000);
    await Promise.all(warmSends);
    const warmUntil = performance.now() + 15_000;
    let lastWarm = -1;
    let lastChange = performance.now();
    while (performance.now() < warmUntil && performance.now() - lastChange < 1000) {
      const w = sum(await statuses(), 'warmDelivered');
      if (w >= W * S) break;
      if (w !== lastWarm) {
        lastWarm = w;
        lastChange = performance.now();
      }
      await sleep(50);
    }
    lap('warmup');

    // ---- measured run --------------------------------------------------------------
    const bodies = bodiesFor('m', N, idBase);
    agent.destroy();
    agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    const t0 = performance.now() + 200;
    const t0Epoch = performance.timeOrigin + t0;
    await Promise.all(clients.map((c) => {
      const armed = c.next('status', 10_000);
      c.send({ cmd: 'measure', N, t0: t0Epoch, gapMs: gap, J });
      return armed;
    }));
    const sendLag = new Float64Array(N);
    let failedSends = 0;
    const failedSendReasons: Record<string, number> = {};
    const sends: Promise<void>[] = [];
    const monoUs = () => Number(process.hrtime.bigint() / 1000n);
    const mono0 = monoUs() + (t0 - performance.now()) * 1000;
    const cpu0 = server.cpuMs();
    const senderCpu0 = process.cpuUsage();
    await sendOnSchedule(bodies, o.ratePerSec, t0, (k, body, intended) => {
      sendLag[k] = performance.now() - intended;
      sends.push(sendOne(body, intended).then((r) => {
        if (r.status !== 202 || r.published < 1) {
          failedSends++;
          const reason = r.status === 0 ? (r.error ?? 'network') : r.status !== 202 ? `HTTP ${r.status}` : 'published=0';
          failedSendReasons[reason] = (failedSendReasons[reason] ?? 0) + 1;
        }
      }));
    }, t0 + o.durationSec * 1000 + 30_000);
    const lastIntended = t0 + (N - 1) * gap;
    const drainUntil = lastIntended + o.drainMs;
    while (performance.now() < drainUntil) {
      if (sum(await statuses(), 'delivered') >= S * N) break;
      await sleep(25);
    }
    const cpu1 = server.cpuMs();
    const mono1 = monoUs();
    const senderCpu = process.cpuUsage(senderCpu0);
    const reports: ClientReport[] = await Promise.all(clients.map((c) => {
      const r = c.next('report', 30_000);
      c.send({ cmd: 'report' });
      return r;
    }));
    lap('measure+drain');
    await Promise.race([Promise.all(sends), sleep(12_000)]);
    await sleep(200);
    const rssAfter = server.rssBytes();
    const exited = server.exited();

    const lastReceipt = Math.max(...reports.map((r) => r.lastReceipt));
    const windowMs = Math.max(lastReceipt - t0Epoch, lastIntended - t0);
    const delivered = reports.reduce((a, r) => a + r.delivered, 0);
    const all = new Float64Array(delivered);
    let off = 0;
    for (const r of reports) {
      all.set(r.latencies, off);
      off += r.latencies.length;
    }
    const loadCpuMs = reports.reduce((a, r) => a + r.cpuMs, 0) + (senderCpu.user + senderCpu.system) / 1000;
    const rs = (s: Summary): Summary => ({ count: s.count, p50: round(s.p50), p90: round(s.p90), p99: round(s.p99), max: round(s.max), mean: round(s.mean) });
    lap('report');
    return {
      server: o.server,
      variant: o.variant,
      subscribers: S,
      clientProcesses: P,
      client: o.client ?? 'lean',
      ratePerSec: o.ratePerSec,
      durationSec: o.durationSec,
      events: N,
      failedSends,
      failedSendReasons,
      expected: S * N,
      delivered,
      lost: S * N - delivered,
      duplicates: reports.reduce((a, r) => a + r.duplicates, 0),
      wrongTransition: reports.reduce((a, r) => a + r.wrongTransition, 0),
      subscriberErrors: reports.reduce((a, r) => a + r.errors, 0),
      subscriberErrorSamples: reports.flatMap((r) => r.errorSamples).slice(0, 3),
      serverExited: exited ? `code ${exited.code} signal ${exited.signal}: ${exited.stderr.slice(-2000)}` : null,
      latencyMs: rs(summarize(all)),
      sendLagMs: rs(summarize(sendLag)),
      eventsPerSec: windowMs > 0 ? round((delivered / windowMs) * 1000, 0) : null,
      serverRssMb: { before: mb(rssBefore), subscribed: mb(rssSubscribed), after: mb(rssAfter) },
      rssPerSubscriberKb: rssBefore !== null && rssSubscribed !== null ? round((rssSubscribed - rssBefore) / 1024 / S, 1) : null,
      serverCpuPct: cpu0 !== null && cpu1 !== null && windowMs > 0 ? round(((cpu1 - cpu0) / windowMs) * 100, 0) : null,
      loadCpuPct: windowMs > 0 ? round((loadCpuMs / windowMs) * 100, 0) : null,
      windowMs: round(windowMs, 0)!,
      phaseMs,
      cpuProfile: null,
      windowMonoUs: [Math.round(mono0), mono1],
    };
  } finally {
    for (const c of clients) c.send({ cmd: 'close' });
    agent.destroy();
    await gw?.stop();
    await Promise.race([Promise.all(clients.map((c) => (c.child.exitCode !== null || c.child.signalCode !== null ? Promise.resolve() : new Promise((r) => c.child.once('exit', r))))), sleep(4000)]);
    for (const c of clients) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main thread (others are workers).
    if (profDir) lastProfile = readdirSync(profDir).find((f) => !profBefore.has(f) && /\.\d+\.0\.\d+\.cpuprofile$/.test(f)) ?? null;
  }
}

let lastProfile: string | null = null;
/** File name of the CPU profile the last profiled cell wrote (in its cpuProfDir). */
export const lastCpuProfile = () => lastProfile;

export interface ProfileSummary {
  /** Samples inside the measured window (all samples when no window was recorded). */
  samples: number;
  windowOnly: boolean;
  /** Top functions by self time. */
  functions: Array<{ fn: string; selfPct: number }>;
  /** Self time grouped by package (node_modules/<pkg>), gateway source dir, or V8/Node category. */
  groups: Array<{ group: string; selfPct: number }>;
}

/**
 * Self time from a V8 .cpuprofile. Sample times are CLOCK_MONOTONIC µs, the
 * clock of `process.hrtime`, so `windowUs` (from the bench process) selects
 * the measured run.
 */
export function summarizeCpuProfile(file: string, windowUs: [number, number] | null, top = 15): ProfileSummary | null {
  if (!existsSync(file)) return null;
  const prof = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
    samples: number[];
    timeDeltas: number[];
    startTime: number;
  };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const fns = new Map<string, number>();
  const groups = new Map<string, number>();
  let t = prof.startTime;
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i] ?? 0;
    if (windowUs && (t < windowUs[0] || t > windowUs[1])) continue;
    const n = byId.get(prof.samples[i]!);
    if (!n) continue;
    total++;
    const { functionName, url, lineNumber } = n.callFrame;
    const short = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/main\//, '');
    const key = `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
    fns.set(key, (fns.get(key) ?? 0) + 1);
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
    const group = pkg ?? (url.includes('/main/src/') ? `src/${url.split('/main/src/')[1]!.split('/')[0]}` : url.startsWith('node:') ? 'node internals' : url ? url : functionName || '(native)');
    groups.set(group, (groups.get(group) ?? 0) + 1);
  }
  const pct = (c: number) => round((c / (total || 1)) * 100, 1)!;
  return {
    samples: total,
    windowOnly: windowUs !== null,
    functions: [...fns.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([fn, c]) => ({ fn, selfPct: pct(c) })),
    groups: [...groups.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([group, c]) => ({ group, selfPct: pct(c) })),
  };
}
