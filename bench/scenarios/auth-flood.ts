/**
 * Scenario: authentication flood. A valid API-key user queries at a steady
 * pace from 127.0.0.1 while, from 127.0.0.2 (a second loopback address, so the
 * gateway sees another client host), an attacker sends well-formed bogus
 * `sy_` keys, each new (so no cache helps) at `floodPerSec`. Each costs one
 * scrypt unless refused first. Reports the valid user's latency idle and under
 * the flood, and their p99 ratio (goal: at most 2).
 *
 * Rows: `limits-on` (the defaults: per-address failure limit, scrypt cap,
 * negative cache) and `failure-limit-off` (maxFailures 1,000,000: only the
 * scrypt cap protects the others).
 *
 * Standalone: `node --import tsx bench/scenarios/auth-flood.ts [--quick]`.
 */
import crypto from 'node:crypto';
import { Agent, request } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createGithubSimulator } from '../../adapters/github/simulator/index.ts';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { killAllChildren, startGatewayChild } from '../lib/gateway-child.ts';
import { round, sleep, summarize, type Summary } from '../lib/stats.ts';

const TOKEN = 'ghp_bench_token';
// No @rateLimit on it: the figure is authentication's cost, not the per-identity rate limit.
const QUERY = JSON.stringify({ query: '{ __typename }' });

export interface AuthFloodRow {
  variant: 'limits-on' | 'failure-limit-off';
  idleMs: Summary;
  floodMs: Summary;
  /** p99 under flood ÷ p99 idle. */
  p99Ratio: number | null;
  /** Flood answers by HTTP status (401 verified and refused, 429 address refused, 503 verification queue full). */
  floodStatuses: Record<string, number>;
  floodSent: number;
  validErrors: number;
  /** The valid user's failed requests by HTTP status (0 = no answer). */
  validErrorStatuses: Record<string, number>;
  /** limits-on: ms from the flood's start to its first 429 (the failure limit tripped). */
  tripMs: number | null;
  gatewayCpuPctIdle: number | null;
  gatewayCpuPctFlood: number | null;
}

export interface AuthFloodOptions {
  phaseSec: number;
  validPerSec: number;
  floodPerSec: number;
  /** Most flood requests in flight at once (past it the flood skips a beat rather than queueing in the bench). */
  floodInFlight: number;
  serverCpu?: number;
  log?: (line: string) => void;
}

function post(agent: Agent, base: string, localAddress: string, authorization: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(`${base}/graphql`, {
      method: 'POST', agent, localAddress,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(QUERY), authorization },
      timeout: 30_000,
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end(QUERY);
  });
}

/** Fires `task` `perSec` times a second for `sec` seconds (open loop), at most `inFlight` at once. */
async function paced(perSec: number, sec: number, inFlight: number, task: () => Promise<void>, stop?: () => boolean): Promise<void> {
  const pending = new Set<Promise<void>>();
  const start = performance.now();
  for (let i = 0; ; i++) {
    const at = start + (i * 1000) / perSec;
    if (at - start >= sec * 1000 || stop?.()) break;
    const wait = at - performance.now();
    if (wait > 0) await sleep(wait);
    if (pending.size >= inFlight) continue;
    const p = task().finally(() => pending.delete(p));
    pending.add(p);
  }
  await Promise.all(pending);
}

async function runVariant(variant: AuthFloodRow['variant'], o: AuthFloodOptions, simUrl: string): Promise<AuthFloodRow> {
  const valid = await createApiKey('dashboard');
  const auditFile = join(mkdtempSync(join(tmpdir(), 'switchyard-bench-audit-')), 'audit.jsonl');
  const gw = await startGatewayChild({
    simUrl, token: TOKEN, webhookSecret: 'bench-webhook-secret', cpu: o.serverCpu,
    config: {
      // The audit file is on: its writes share libuv's threadpool with scrypt, as in production.
      audit: { file: auditFile },
      auth: {
        mode: 'required',
        apiKeys: [{ id: 'dashboard', hash: valid.hash, scopes: [{ backends: ['*'] }] }],
        ...(variant === 'failure-limit-off' ? { failureLimit: { maxFailures: 1_000_000 } } : {}),
      },
    },
  });
  const validAgent = new Agent({ keepAlive: true, maxSockets: 8 });
  const floodAgent = new Agent({ keepAlive: true, maxSockets: o.floodInFlight });
  try {
    let validErrors = 0;
    const validErrorStatuses: Record<string, number> = {};
    const measureValid = async (): Promise<number[]> => {
      const latencies: number[] = [];
      await paced(o.validPerSec, o.phaseSec, 8, async () => {
        const t = performance.now();
        const status = await post(validAgent, gw.base, '127.0.0.1', `Bearer ${valid.key}`);
        if (status === 200) latencies.push(performance.now() - t);
        else {
          validErrors++;
          validErrorStatuses[status] = (validErrorStatuses[status] ?? 0) + 1;
        }
      });
      return latencies;
    };
    // Warm-up: the valid key's one scrypt, JIT, keep-alive sockets.
    await paced(o.validPerSec, 1, 8, async () => void (await post(validAgent, gw.base, '127.0.0.1', `Bearer ${valid.key}`)));
    validErrors = 0;

    const cpu0 = gw.cpuMs();
    let t0 = performance.now();
    const idle = await measureValid();
    const cpu1 = gw.cpuMs();
    const idleWindow = performance.now() - t0;

    const floodStatuses: Record<string, number> = {};
    let floodSent = 0;
    let flooding = true;
    const flood = paced(o.floodPerSec, o.phaseSec + 40, o.floodInFlight, async () => {
      floodSent++;
      const bogus = `sy_dashboard_${crypto.randomBytes(32).toString('base64url')}`;
      const status = await post(floodAgent, gw.base, '127.0.0.2', `Bearer ${bogus}`);
      floodStatuses[status] = (floodStatuses[status] ?? 0) + 1;
    }, () => !flooding);
    // Measure the steady state: with the failure limit on, from the flood's first 429 (the limit tripped;
    // until then the address costs at most maxFailures + maxQueued scrypts); else after one second.
    const floodStart = performance.now();
    while (variant === 'limits-on' && !floodStatuses[429] && performance.now() - floodStart < 30_000) await sleep(50);
    await sleep(variant === 'limits-on' ? 200 : 1000);
    const tripMs = variant === 'limits-on' && floodStatuses[429] ? round(performance.now() - floodStart, 0) : null;
    const cpu2 = gw.cpuMs();
    t0 = performance.now();
    const underFlood = await measureValid();
    const cpu3 = gw.cpuMs();
    const floodWindow = performance.now() - t0;
    flooding = false;
    await flood;

    const idleMs = summarize(idle);
    const floodMs = summarize(underFlood);
    const cpuPct = (a: number | null, b: number | null, ms: number) => (a === null || b === null ? null : round(((b - a) / ms) * 100, 1));
    return {
      variant, idleMs, floodMs,
      p99Ratio: idleMs.p99 && floodMs.p99 ? round(floodMs.p99 / idleMs.p99) : null,
      floodStatuses, floodSent, validErrors, validErrorStatuses, tripMs,
      gatewayCpuPctIdle: cpuPct(cpu0, cpu1, idleWindow),
      gatewayCpuPctFlood: cpuPct(cpu2, cpu3, floodWindow),
    };
  } finally {
    validAgent.destroy();
    floodAgent.destroy();
    await gw.stop();
  }
}

export async function runAuthFlood(o: AuthFloodOptions): Promise<AuthFloodRow[]> {
  const sim = createGithubSimulator({ token: TOKEN, seed: 7, repositories: ['api'], history: 1 });
  await sim.start();
  try {
    const rows: AuthFloodRow[] = [];
    for (const variant of ['limits-on', 'failure-limit-off'] as const) {
      o.log?.(`auth flood: ${variant}`);
      rows.push(await runVariant(variant, o, sim.url));
    }
    return rows;
  } finally {
    await sim.stop();
  }
}

export function authFloodTable(rows: AuthFloodRow[]): string {
  const f = (v: number | null) => (v === null ? '–' : String(round(v)));
  return [
    '| variant | idle p50 / p99 ms | flood p50 / p99 ms | p99 ratio | valid samples idle / flood | flood sent | flood answers | limit tripped after ms | gateway CPU % idle / flood |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.variant} | ${f(r.idleMs.p50)} / ${f(r.idleMs.p99)} | ${f(r.floodMs.p50)} / ${f(r.floodMs.p99)} | **${f(r.p99Ratio)}** | ${r.idleMs.count} / ${r.floodMs.count} | ${r.floodSent} | ${JSON.stringify(r.floodStatuses)} | ${f(r.tripMs)} | ${f(r.gatewayCpuPctIdle)} / ${f(r.gatewayCpuPctFlood)} |`),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  try {
    const rows = await runAuthFlood({ phaseSec: quick ? 4 : 10, validPerSec: 100, floodPerSec: 200, floodInFlight: 64, serverCpu: 0, log: (l) => process.stderr.write(`${l}\n`) });
    console.log(authFloodTable(rows));
    for (const r of rows) if (r.validErrors) console.log(`- ${r.variant}: ${r.validErrors} valid requests failed: ${JSON.stringify(r.validErrorStatuses)}`);
  } finally {
    killAllChildren();
  }
}
