/**
 * §6 row 9, capacity: one gateway receives signed `workflow_job` webhooks at a
 * fixed rate for the whole run while subscribers are added step by step
 * (500 → 4,000). For each step: p50/p99 latency from the scheduled send time,
 * the gateway's event-loop delay and RSS, and how many new subscriptions it
 * refused (load shedding) or cut. The knee is the last step whose p99 stayed
 * within the bound. What must not happen: a crash, an OOM, an event lost by a
 * subscriber the gateway accepted and never cut.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { GithubSimulator } from '../../adapters/github/simulator/index.ts';
import { startGatewayChild } from '../lib/gateway-child.ts';
import { subscribeLean } from '../lib/lean-subscriber.ts';
import { mb, round, sleep, summarize, type Summary } from '../lib/stats.ts';
import type { JobTemplates } from '../lib/webhook-templates.ts';
import { buildBodies, post, sendOnSchedule, SUBSCRIPTION } from './webhook-latency.ts';

export interface CapacityOptions {
  sim: GithubSimulator;
  token: string;
  secret: string;
  templates: JobTemplates;
  ratePerSec: number;
  /** Subscriber totals, one step each, ascending. */
  steps: number[];
  stepSec: number;
  /** p99 bound that defines the knee, ms. */
  p99BoundMs: number;
  gatewayCpu?: number;
  cellIndex: number;
}

export interface CapacityStep {
  subscribers: number;
  /** Subscribers the gateway accepted and that were still live at the end of the step. */
  live: number;
  /** New subscriptions refused in this step, by close code or error text. */
  refused: Record<string, number>;
  /** Subscriptions ended later by the gateway (overflow, close), by reason. */
  cut: Record<string, number>;
  latencyMs: Summary;
  eventLoopDelayP99Ms: number | null;
  gatewayRssMb: number | null;
  gatewayCpuPct: number | null;
}

export interface CapacityResult {
  ratePerSec: number;
  stepSec: number;
  steps: CapacityStep[];
  /** Last step whose p99 stayed within the bound (null if none did). */
  kneeSubscribers: number | null;
  /** Events never received by a subscriber that was live, never cut, during their whole window. */
  lostByLive: number;
  duplicates: number;
  /** Webhooks not answered 202 with an event published (timeouts under overload, errors). */
  webhookFailures: number;
  gatewayExited: string | null;
}

interface Subscriber {
  /** Index into the receipt arrays. */
  readonly index: number;
  live: boolean;
  endedAt: number;
  dispose(): void;
}

const reasonOf = (error: unknown): string => {
  const e = error as { code?: number; message?: string; extensions?: { code?: string } }[] | { code?: number; reason?: string } | Error;
  if (Array.isArray(e)) return e[0]?.extensions?.code ?? e[0]?.message?.slice(0, 60) ?? 'error';
  if (e instanceof Error) return e.message.slice(0, 60);
  return typeof e?.code === 'number' ? `close ${e.code}` : JSON.stringify(e).slice(0, 60);
};

export async function runCapacity(o: CapacityOptions): Promise<CapacityResult> {
  const maxSubs = o.steps[o.steps.length - 1]!;
  const totalSec = o.steps.length * o.stepSec;
  const N = Math.round(o.ratePerSec * totalSec);
  const gap = 1000 / o.ratePerSec;
  const gw = await startGatewayChild({
    simUrl: o.sim.url, token: o.token, webhookSecret: o.secret, cpu: o.gatewayCpu, statsEveryMs: 1000,
    config: { limits: { maxConnectionsPerIdentity: 1_000_000 } },
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const subscribers: Subscriber[] = [];
  // One bit per (subscriber, webhook): received.
  const seen = new Uint8Array(maxSubs * N);
  const latencies: number[][] = o.steps.map(() => []);
  let duplicates = 0;
  let lastReceipt = 0;
  // Smallest webhook seq each subscriber received: from there on it must receive every one.
  const firstSeq = new Int32Array(maxSubs).fill(-1);
  const t0 = performance.now() + 1000;
  const stepOf = (seq: number) => Math.min(o.steps.length - 1, Math.floor((seq * gap) / (o.stepSec * 1000)));
  const url = `ws://127.0.0.1:${gw.port}/graphql`;
  const refused: Record<string, number>[] = o.steps.map(() => ({}));
  const cut: Record<string, number>[] = o.steps.map(() => ({}));
  let currentStep = 0;
  const count = (into: Record<string, number>, key: string) => (into[key] = (into[key] ?? 0) + 1);

  function addSubscriber(): Promise<void> {
    const index = subscribers.length;
    return new Promise<void>((resolve) => {
      const sub: Subscriber = { index, live: false, endedAt: Number.POSITIVE_INFINITY, dispose: () => undefined };
      subscribers.push(sub);
      let settled = false;
      const settle = () => {
        if (!settled) {
          settled = true;
          resolve();
        }
      };
      const handle = subscribeLean<{ jobUpdated?: { job?: { name?: string } } }>(url, SUBSCRIPTION, undefined, {
        connected: () => {
          sub.live = true;
          settle();
        },
        next: (data) => {
          const t = performance.now();
          const name = data?.jobUpdated?.job?.name ?? '';
          if (!name.startsWith('bench-m-')) return;
          const seq = Number(name.slice('bench-m-'.length));
          const at = index * N + seq;
          if (seen[at]) {
            duplicates++;
            return;
          }
          seen[at] = 1;
          lastReceipt = t;
          if (firstSeq[index] === -1 || seq < firstSeq[index]!) firstSeq[index] = seq;
          latencies[stepOf(seq)]!.push(t - (t0 + seq * gap));
        },
        error: (error) => {
          // Refused: ended before its first event (at connect or subscribe); cut: ended later.
          if (sub.endedAt === Number.POSITIVE_INFINITY) count((firstSeq[index] === -1 ? refused : cut)[currentStep]!, reasonOf(error));
          sub.live = false;
          sub.endedAt = Math.min(sub.endedAt, performance.now());
          settle();
        },
      });
      sub.dispose = () => handle.dispose();
    });
  }

  try {
    const bodies = buildBodies(o.templates, { tag: 'm', count: N, ratePerSec: o.ratePerSec, firstJobId: 950_000_000_000 + o.cellIndex * 10_000_000 }, Date.now() + 1000, o.secret);
    const sends: Promise<unknown>[] = [];
    // Webhooks answered 202 with an event published: only these can be judged lost.
    const published = new Uint8Array(N);
    let webhookFailures = 0;
    const sender = sendOnSchedule(bodies, o.ratePerSec, t0, (k, body, intended) => sends.push(post(agent, gw.base, body, randomUUID(), intended).then((r) => {
      if (r.status === 202 && r.published >= 1) published[k] = 1;
      else webhookFailures++;
    })), t0 + totalSec * 1000 + 60_000);
    const steps: CapacityStep[] = [];
    for (const [i, target] of o.steps.entries()) {
      currentStep = i;
      const stepStart = t0 + i * o.stepSec * 1000;
      while (performance.now() < stepStart) await sleep(5);
      const cpu0 = gw.cpuMs();
      // Add this step's subscribers, 100 at a time, while events flow.
      while (subscribers.length < target) {
        const batch = Array.from({ length: Math.min(100, target - subscribers.length) }, () => addSubscriber());
        await Promise.race([Promise.all(batch), sleep(10_000)]);
      }
      const stepEnd = stepStart + o.stepSec * 1000;
      while (performance.now() < stepEnd) await sleep(20);
      const cpu1 = gw.cpuMs();
      const lastStats = gw.stats[gw.stats.length - 1];
      steps.push({
        subscribers: target,
        live: subscribers.filter((s) => s.live).length,
        refused: refused[i]!, cut: cut[i]!,
        latencyMs: summarize([]),
        eventLoopDelayP99Ms: lastStats ? Math.max(...gw.stats.slice(-o.stepSec).map((s) => s.interval.p99)) : null,
        gatewayRssMb: mb(gw.rssBytes()),
        gatewayCpuPct: cpu0 !== null && cpu1 !== null ? round(((cpu1 - cpu0) / (o.stepSec * 1000)) * 100, 0) : null,
      });
      if (gw.exited()) break;
    }
    await sender;
    await Promise.race([Promise.all(sends), sleep(12_000)]);
    // Stragglers: until nothing arrived for 2 s, at most 30 s.
    const drainUntil = performance.now() + 30_000;
    while (performance.now() < drainUntil && performance.now() - lastReceipt < 2000) await sleep(50);
    for (const [i, step] of steps.entries()) step.latencyMs = roundSummary(summarize(latencies[i]!));
    // Lost: a subscriber never cut must receive every webhook from the first one it saw
    // (webhooks may overtake each other by a few, so the first 10 after it are not judged).
    let lostByLive = 0;
    for (const sub of subscribers) {
      const first = firstSeq[sub.index]!;
      if (!sub.live || sub.endedAt !== Number.POSITIVE_INFINITY || first < 0) continue;
      for (let seq = first + 10; seq < N; seq++) if (published[seq] && !seen[sub.index * N + seq]) lostByLive++;
    }
    const knee = steps.filter((s) => (s.latencyMs.p99 ?? Infinity) <= o.p99BoundMs).map((s) => s.subscribers).pop() ?? null;
    const exited = gw.exited();
    return {
      ratePerSec: o.ratePerSec, stepSec: o.stepSec, steps, kneeSubscribers: knee, lostByLive, duplicates, webhookFailures,
      gatewayExited: exited ? `code ${exited.code} signal ${exited.signal}: ${exited.stderr.slice(-1000)}` : null,
    };
  } finally {
    for (const s of subscribers) s.dispose();
    agent.destroy();
    await gw.stop();
  }
}

function roundSummary(s: Summary): Summary {
  return { count: s.count, p50: round(s.p50), p90: round(s.p90), p99: round(s.p99), max: round(s.max), mean: round(s.mean) };
}
