/**
 * Scenario 1: webhook → subscriber latency.
 *
 * A fresh gateway child per cell (S subscribers × R webhooks/s). This process
 * is the load: it holds S graphql-ws clients, each with one `jobUpdated`
 * subscription, and POSTs signed `workflow_job` webhooks open-loop on a fixed
 * schedule. Latency is receipt time minus the webhook's *scheduled* send
 * time, so a late sender or a slow gateway both count (no coordinated omission).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { signature, type GithubSimulator } from '../../adapters/github/simulator/index.ts';
import { startGatewayChild, type GatewayChild } from '../lib/gateway-child.ts';
import type { GatewayStats } from '../lib/gateway-stats.ts';
import { mb, round, sleep, summarize, type Summary } from '../lib/stats.ts';
import { jobBody, PHASES, type JobTemplates } from '../lib/webhook-templates.ts';

export const SUBSCRIPTION = 'subscription { jobUpdated { previousStatus job { id name status runnerName } } }';

/** previousStatus each phase must report: queued is new, then QUEUED → RUNNING → SUCCESS. */
const EXPECTED_PREVIOUS = [null, 'QUEUED', 'RUNNING'] as const;

export interface LatencyCellOptions {
  sim: GithubSimulator;
  token: string;
  secret: string;
  templates: JobTemplates;
  subscribers: number;
  ratePerSec: number;
  durationSec: number;
  warmupSec: number;
  /** Longest wait for stragglers after the last scheduled send. */
  drainMs: number;
  gatewayCpu?: number | string;
  /** Index of this cell, used to keep job ids distinct across cells. */
  cellIndex: number;
  /** Have the gateway report event-loop delay, RSS and heap at this interval (the soak). */
  statsEveryMs?: number;
  /** Extra gateway config (e.g. `events`, `history`), merged over the cell's own. */
  config?: Record<string, unknown>;
  /** Wait until /readyz reports the history open (`ok`) or `off` before subscribing (PGlite's open blocks the loop for seconds). */
  awaitHistory?: boolean;
  /** Then wait this long before subscribing: the measured seconds are the gateway's steady state, not its start-up (default 0). */
  settleSec?: number;
  /** Called about once a second during the measured run (progress for long runs). */
  onProgress?: (p: { elapsedSec: number; sent: number; delivered: number }) => void;
}

export interface LatencyCellResult {
  subscribers: number;
  ratePerSec: number;
  durationSec: number;
  webhooksSent: number;
  webhookErrors: number;
  /** Failed webhook POSTs by reason (HTTP status, `published=0`, or network error code). */
  webhookErrorReasons: Record<string, number>;
  /** Webhooks re-sent once after ECONNRESET on a reused keep-alive socket (not errors). */
  webhookRetries: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  /** Events whose previousStatus did not match the transition that webhook made. */
  wrongTransition: number;
  subscriberErrors: number;
  /** First few subscription errors (overflow, closed sockets), as text. */
  subscriberErrorSamples: string[];
  /** Set when the gateway process died during the cell (exit status and stderr tail). */
  gatewayExited: string | null;
  latencyMs: Summary;
  /** Every delivered event's latency (ms), for pooling cells (bench/history-live-path.ts). */
  latencySamples: Float64Array;
  /** Webhook POST answered 2xx (response end) minus scheduled send time; failed POSTs are left out. */
  webhookAckMs: Summary;
  /** Late start of sends versus schedule (actual − intended), ms. */
  sendLagMs: Summary;
  eventsPerSec: number | null;
  gatewayRssMb: { before: number | null; subscribed: number | null; after: number | null };
  gatewayCpuPct: number | null;
  loadCpuPct: number | null;
  windowMs: number;
  /** Wall time of each stage of the cell, ms. */
  phaseMs: Record<string, number>;
  /** The gateway's stats lines from the measured run (only with `statsEveryMs`); `since` starts at t0. */
  gatewayStats: GatewayStats[];
}

export interface JsonResponse {
  status: number;
  published: number;
  /** Network error code/message when status is 0. */
  error?: string;
  retried?: boolean;
}

/**
 * POSTs one delivery. A keep-alive socket the server closed just as we reused
 * it fails with ECONNRESET before the gateway saw the request; that one case
 * is retried once at once (as Node's docs advise), everything else is reported.
 */
/** GitHub records a delivery as failed when it is not answered within 10 s. */
const DELIVERY_TIMEOUT_MS = 10_000;

export async function post(agent: http.Agent, base: string, signed: Signed, deliveryId: string, intended = performance.now(), path = '/webhooks/gh'): Promise<JsonResponse> {
  const deadline = intended + DELIVERY_TIMEOUT_MS;
  const first = await postOnce(agent, base, signed, deliveryId, deadline, path);
  return first.retryable ? { ...(await postOnce(agent, base, signed, deliveryId, deadline, path)), retried: true } : first;
}

/** One attempt, abandoned at `deadline` (performance.now() ms) counting time queued for a socket. */
function postOnce(agent: http.Agent, base: string, signed: Signed, deliveryId: string, deadline: number, path: string): Promise<JsonResponse & { retryable?: boolean }> {
  const { body } = signed;
  const url = new URL(path, base);
  const payload = Buffer.from(body);
  return new Promise((resolveOuter) => {
    // Declared below the request; only called once the request is under way.
    function resolve(r: JsonResponse & { retryable?: boolean }): void {
      clearTimeout(timer);
      resolveOuter(r);
    }
    const req = http.request(url, {
      method: 'POST',
      agent,
      headers: {
        'content-type': 'application/json',
        'content-length': String(payload.length),
        'user-agent': 'GitHub-Hookshot/bench',
        'x-github-event': 'workflow_job',
        'x-github-delivery': deliveryId,
        'x-hub-signature-256': signed.signature,
      },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let published = 0;
        try {
          published = Number((JSON.parse(Buffer.concat(chunks).toString()) as { published?: unknown }).published ?? 0);
        } catch {
          // non-JSON answer counts as an error below
        }
        resolve({ status: res.statusCode ?? 0, published });
      });
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ status: 0, published: 0, error: `response ${e.code ?? e.message}` }));
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })), Math.max(0, deadline - performance.now()));
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve({ status: 0, published: 0, error: e.code ?? e.message, retryable: req.reusedSocket && e.code === 'ECONNRESET' }));
    req.end(payload);
  });
}

export interface Schedule {
  /** Prefix of job names for this batch: `bench-<tag>-<seq>`. */
  tag: string;
  count: number;
  ratePerSec: number;
  firstJobId: number;
}

export interface Signed {
  body: string;
  signature: string;
}

export const sign = (secret: string, body: string): Signed => ({ body, signature: signature(secret, body) });

/**
 * Sequence number → (job, phase). With J jobs, the first J webhooks queue jobs
 * 0..J-1, the next J start them, the last J complete them; J = ceil(N/3), so
 * the three webhooks of one job are a third of the run apart (0.67 s in quick
 * mode, 5 s in full). Concurrent POSTs can overtake each other, and a
 * late-arriving older state is rightly dropped by the gateway as stale, so
 * the spacing keeps that out of the figures unless the gateway is
 * seconds behind (it is then counted as `published=0` and `lost`).
 */
export function slot(seq: number, J: number): { job: number; phase: number; first: number } {
  const block = Math.floor(seq / (3 * J));
  const within = seq % (3 * J);
  const lane = within % J;
  return { job: block * J + lane, phase: Math.floor(within / J), first: block * 3 * J + lane };
}

/** Bodies are built and signed before the clock starts, so the sender does no JSON or HMAC work on schedule. */
export function buildBodies(t: JobTemplates, s: Schedule, wallStart: number, secret: string): Signed[] {
  const bodies: Signed[] = [];
  const gap = 1000 / s.ratePerSec;
  const J = jobsInFlight(s.count);
  for (let seq = 0; seq < s.count; seq++) {
    const { job, phase, first } = slot(seq, J);
    const at = (k: number) => wallStart + k * gap;
    bodies.push(sign(secret, jobBody(t, PHASES[phase]!, s.firstJobId + job, `bench-${s.tag}-${seq}`, { created: at(first), started: at(first + J), completed: at(first + 2 * J) })));
  }
  return bodies;
}

export const jobsInFlight = (webhooks: number) => Math.max(1, Math.ceil(webhooks / 3));

/** Open-loop sender: webhook k is due at t0 + k/R; overdue ones go out at once. */
export async function sendOnSchedule(
  bodies: Signed[], ratePerSec: number, t0: number, send: (k: number, body: Signed, intended: number) => void, deadline: number,
): Promise<void> {
  const gap = 1000 / ratePerSec;
  let k = 0;
  while (k < bodies.length) {
    const now = performance.now();
    if (now > deadline) throw new Error(`sender passed its deadline at webhook ${k}/${bodies.length}`);
    while (k < bodies.length && t0 + k * gap <= now) {
      send(k, bodies[k]!, t0 + k * gap);
      k++;
    }
    if (k < bodies.length) await sleep(Math.max(0, t0 + k * gap - performance.now()));
  }
}

export async function runLatencyCell(o: LatencyCellOptions): Promise<LatencyCellResult> {
  const S = o.subscribers;
  const N = Math.round(o.ratePerSec * o.durationSec);
  // Warm-up: at most 100 webhooks, fully delivered before measuring, so no backlog spills over.
  const W = Math.min(100, Math.max(3, Math.round(o.ratePerSec * o.warmupSec)));
  const idBase = 900_000_000_000 + o.cellIndex * 10_000_000;
  const J = jobsInFlight(N);
  const phaseMs: Record<string, number> = {};
  let mark = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    phaseMs[name] = round(now - mark, 0)!;
    mark = now;
  };
  const gw: GatewayChild = await startGatewayChild({
    simUrl: o.sim.url, token: o.token, webhookSecret: o.secret, cpu: o.gatewayCpu, statsEveryMs: o.statsEveryMs,
    // All bench subscribers are one anonymous identity; lift the per-identity connection cap (default 50).
    config: { limits: { maxConnectionsPerIdentity: 1_000_000 }, ...o.config },
  });
  const newAgent = () => new http.Agent({ keepAlive: true, maxSockets: 256 });
  let agent = newAgent();
  const clients: Client[] = [];
  try {
    await sleep(300);
    if (o.awaitHistory) await historyOpen(gw.base);
    if (o.settleSec) await sleep(o.settleSec * 1000);
    const rssBefore = gw.rssBytes();
    lap('startGateway');

    // ---- receivers -------------------------------------------------------
    const seen = new Uint8Array(S * N);
    const latencies = new Float64Array(S * N);
    let delivered = 0;
    let duplicates = 0;
    let wrongTransition = 0;
    let subscriberErrors = 0;
    const subscriberErrorSamples: string[] = [];
    let lastReceipt = 0;
    let intendedOf: (seq: number) => number = () => Number.NaN;
    const probesSeen = new Uint8Array(S);
    let probeSubscribers = 0;
    let warmDelivered = 0;

    const onEvent = (i: number, data: { jobUpdated?: { previousStatus?: string | null; job?: { name?: string } } } | null | undefined): void => {
      const t = performance.now();
      const name = data?.jobUpdated?.job?.name ?? '';
      const dash = name.lastIndexOf('-');
      const tag = name.slice(0, dash);
      const seq = Number(name.slice(dash + 1));
      if (tag === 'bench-m' && Number.isInteger(seq) && seq >= 0 && seq < N) {
        const at = i * N + seq;
        if (seen[at]) {
          duplicates++;
          return;
        }
        seen[at] = 1;
        latencies[delivered++] = t - intendedOf(seq);
        lastReceipt = t;
        if ((data?.jobUpdated?.previousStatus ?? null) !== EXPECTED_PREVIOUS[slot(seq, J).phase]) wrongTransition++;
      } else if (tag === 'bench-p') {
        if (!probesSeen[i]) {
          probesSeen[i] = 1;
          probeSubscribers++;
        }
      } else if (tag === 'bench-w') {
        warmDelivered++;
      }
    };

    const url = `ws://127.0.0.1:${gw.port}/graphql`;
    const BATCH = 100;
    for (let start = 0; start < S; start += BATCH) {
      const batch: Promise<void>[] = [];
      for (let i = start; i < Math.min(S, start + BATCH); i++) {
        batch.push(
          new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`subscriber ${i} did not connect in 10 s`)), 10_000);
            const client = createClient({
              url,
              webSocketImpl: WebSocket,
              retryAttempts: 0,
              lazy: true,
              on: {
                connected: () => {
                  clearTimeout(timer);
                  resolve();
                },
              },
            });
            clients.push(client);
            client.subscribe(
              { query: SUBSCRIPTION },
              {
                next: (value) => {
                  try {
                    onEvent(i, value.data as never);
                  } catch (error) {
                    // A bug here must show up, not silently end the subscription.
                    subscriberErrors++;
                    if (subscriberErrorSamples.length < 3) subscriberErrorSamples.push(`bench handler: ${describe(error)}`);
                  }
                },
                error: (error) => {
                  subscriberErrors++;
                  if (subscriberErrorSamples.length < 3) subscriberErrorSamples.push(describe(error));
                  clearTimeout(timer);
                  reject(error instanceof Error ? error : new Error(describe(error)));
                },
                complete: () => undefined,
              },
            );
          }),
        );
      }
      await Promise.all(batch);
    }
    lap('connect');
    // After connecting, later subscriber errors (e.g. overflow) are counted, not thrown.

    // ---- probes: every subscription is live once each client has seen one -------
    let probe = 0;
    const probeDeadline = performance.now() + 30_000;
    while (probeSubscribers < S) {
      if (performance.now() > probeDeadline) throw new Error(`only ${probeSubscribers}/${S} subscriptions live after 30 s`);
      const body = jobBody(o.templates, 'queued', idBase + 9_000_000 + probe, `bench-p-${probe}`, { created: Date.now(), started: Date.now(), completed: Date.now() });
      probe++;
      await post(agent, gw.base, sign(o.secret, body), randomUUID());
      const until = performance.now() + 250;
      while (probeSubscribers < S && performance.now() < until) await sleep(10);
    }
    const rssSubscribed = gw.rssBytes();
    lap('probe');

    // ---- warm-up (JIT, sockets), not measured --------------------------------
    const warmBodies = buildBodies(o.templates, { tag: 'w', count: W, ratePerSec: o.ratePerSec, firstJobId: idBase + 8_000_000 }, Date.now(), o.secret);
    const warmT0 = performance.now() + 50;
    const warmSends: Promise<JsonResponse>[] = [];
    await sendOnSchedule(warmBodies, o.ratePerSec, warmT0, (_k, body) => warmSends.push(post(agent, gw.base, body, randomUUID())), warmT0 + o.warmupSec * 1000 + 30_000);
    await Promise.all(warmSends);
    // Until every warm-up event arrived, or none did for 1 s (an out-of-order one may never come), at most 20 s.
    const warmUntil = performance.now() + 20_000;
    let lastWarm = -1;
    let lastWarmChange = performance.now();
    while (warmDelivered < W * S && performance.now() < warmUntil && performance.now() - lastWarmChange < 1000) {
      await sleep(20);
      if (warmDelivered !== lastWarm) {
        lastWarm = warmDelivered;
        lastWarmChange = performance.now();
      }
    }
    await sleep(200);
    lap('warmup');

    // ---- measured run ------------------------------------------------------
    const bodies = buildBodies(o.templates, { tag: 'm', count: N, ratePerSec: o.ratePerSec, firstJobId: idBase }, Date.now() + 200, o.secret);
    const sendLag = new Float64Array(N);
    const ack = new Float64Array(N).fill(Number.NaN);
    // Fresh sockets: none left idle near the server's keep-alive timeout by the warm-up.
    agent.destroy();
    agent = newAgent();
    let webhookErrors = 0;
    let webhookRetries = 0;
    let settled = 0;
    const webhookErrorReasons: Record<string, number> = {};
    const sends: Promise<void>[] = [];
    const t0 = performance.now() + 200;
    const gap = 1000 / o.ratePerSec;
    intendedOf = (seq) => t0 + seq * gap;
    const gwCpu0 = gw.cpuMs();
    const loadCpu0 = process.cpuUsage();
    if (o.statsEveryMs) gw.resetStats();
    const statsFrom = gw.stats.length;
    const progress = o.onProgress
      ? setInterval(() => o.onProgress!({ elapsedSec: Math.round((performance.now() - t0) / 1000), sent: sends.length, delivered }), 1000)
      : undefined;
    await sendOnSchedule(
      bodies, o.ratePerSec, t0,
      (k, body, intended) => {
        sendLag[k] = performance.now() - intended;
        sends.push(
          post(agent, gw.base, body, randomUUID(), intended).then((r) => {
            settled++;
            if (r.status >= 200 && r.status < 300) ack[k] = performance.now() - intended;
            if (r.retried) webhookRetries++;
            if (r.status !== 202 || r.published < 1) {
              webhookErrors++;
              const reason = r.status === 0 ? (r.error ?? 'network') : r.status !== 202 ? `HTTP ${r.status}` : 'published=0';
              webhookErrorReasons[reason] = (webhookErrorReasons[reason] ?? 0) + 1;
            }
          }),
        );
      },
      t0 + o.durationSec * 1000 + 60_000,
    );
    const lastIntended = t0 + (N - 1) * gap;
    // Wait for every expected event, for at most drainMs after the last scheduled send.
    const drainUntil = lastIntended + o.drainMs;
    while (delivered < S * N && performance.now() < drainUntil) await sleep(10);
    clearInterval(progress);
    const gatewayStats = gw.stats.slice(statsFrom);
    const gwCpu1 = gw.cpuMs();
    const loadCpu1 = process.cpuUsage(loadCpu0);
    const windowEnd = Math.max(lastReceipt, lastIntended);
    const windowMs = windowEnd - t0;
    lap('measure+drain');
    // Every POST settles by its 10 s deadline; the cap only guards against a bug.
    await Promise.race([Promise.all(sends), sleep(DELIVERY_TIMEOUT_MS + 2000)]);
    // Snapshot now: POSTs cut off by the gateway's shutdown below must not count.
    const errorsAtEnd = webhookErrors;
    const reasonsAtEnd = { ...webhookErrorReasons };
    const unsettled = N - settled;
    if (unsettled > 0) reasonsAtEnd.unanswered = unsettled;
    await sleep(200);
    const rssAfter = gw.rssBytes();
    const gatewayExit = gw.exited();
    lap('settle');

    const expected = S * N;
    return {
      subscribers: S,
      ratePerSec: o.ratePerSec,
      durationSec: o.durationSec,
      webhooksSent: N,
      webhookErrors: errorsAtEnd + unsettled,
      webhookErrorReasons: reasonsAtEnd,
      webhookRetries,
      expected,
      delivered,
      lost: expected - delivered,
      duplicates,
      wrongTransition,
      subscriberErrors,
      subscriberErrorSamples,
      gatewayExited: gatewayExit ? `code ${gatewayExit.code} signal ${gatewayExit.signal}: ${gatewayExit.stderr.slice(-2000)}` : null,
      latencyMs: roundSummary(summarize(latencies.subarray(0, delivered))),
      latencySamples: latencies.slice(0, delivered),
      webhookAckMs: roundSummary(summarize(ack.filter((x) => !Number.isNaN(x)))),
      sendLagMs: roundSummary(summarize(sendLag)),
      eventsPerSec: windowMs > 0 ? round((delivered / windowMs) * 1000, 0) : null,
      gatewayRssMb: { before: mb(rssBefore), subscribed: mb(rssSubscribed), after: mb(rssAfter) },
      gatewayCpuPct: gwCpu0 !== null && gwCpu1 !== null && windowMs > 0 ? round(((gwCpu1 - gwCpu0) / windowMs) * 100, 0) : null,
      loadCpuPct: windowMs > 0 ? round(((loadCpu1.user + loadCpu1.system) / 1000 / windowMs) * 100, 0) : null,
      windowMs: round(windowMs, 0)!,
      phaseMs,
      gatewayStats,
    };
  } finally {
    await Promise.race([Promise.allSettled(clients.map((c) => c.dispose())), sleep(5000)]);
    agent.destroy();
    await gw.stop();
  }
}

async function historyOpen(base: string): Promise<void> {
  const until = performance.now() + 120_000;
  while (performance.now() < until) {
    const body = (await (await fetch(`${base}/readyz`)).json()) as { history?: { state?: string } };
    if (!body.history || body.history.state === 'ok' || body.history.state === 'off') return;
    await sleep(200);
  }
  throw new Error('the gateway history did not open within 120 s');
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (Array.isArray(error)) return error.map((e) => (e as { message?: string }).message ?? JSON.stringify(e)).join('; ');
  const ev = error as { code?: number; reason?: string } | null;
  if (ev && typeof ev.code === 'number') return `socket closed ${ev.code} ${ev.reason ?? ''}`.trim();
  return JSON.stringify(error);
}

function roundSummary(s: Summary): Summary {
  return { count: s.count, p50: round(s.p50), p90: round(s.p90), p99: round(s.p99), max: round(s.max), mean: round(s.mean) };
}
