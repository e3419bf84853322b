/**
 * Scenario 5: upstream economy. D dashboards each want state no older than
 * `periodSec` (10 s). Three sides run at the same time, each against its own
 * GitHub + GitLab simulator pair (same seeds, same autoplay interval, so the
 * same live scenario of pipelines starting and finishing):
 *
 * - switchyard: a gateway (fresh child process, polling on at its default
 *   interval, webhooks from its simulators, freshnessSeconds = periodSec); each
 *   dashboard POSTs the dashboard query to it every period. With its webhooks
 *   current, the gateway serves job lists from live state and polls at twice
 *   the interval as the reconcile (test/integration/live-jobs-economy.test.ts
 *   asserts the ratio in miniature);
 * - direct: each dashboard polls the REST APIs itself every period (plain GETs);
 * - direct-etag: the same, but every dashboard keeps the ETag of each URL and
 *   sends If-None-Match (only the GitHub simulator answers 304).
 *
 * Requests are counted in each pair's simulator request logs over a measured
 * window after a warm-up, and extrapolated to one hour.
 */
import { performance } from 'node:perf_hooks';
import type { GatewayChild } from '../lib/gateway-child.ts';
import { countsSince, createSimPair, DASHBOARD_QUERY, GH_TOKEN, GL_TOKEN, logPosition, startCiGateway, type SimPair, type UpstreamCounts } from '../lib/ci-sims.ts';
import { round, sleep } from '../lib/stats.ts';

export type EconomySideKind = 'switchyard' | 'direct' | 'direct-etag';

export interface EconomySide {
  side: EconomySideKind;
  /** Upstream requests the side's simulators received in the measured window. */
  upstream: UpstreamCounts;
  requestsPerHour: number;
  /** Requests that count against a rate limit: everything but 304s. */
  rateLimitedPerHour: number;
  notModifiedShare: number | null;
  /** Dashboard refreshes that started in the window, and those that failed (anywhere in the run). */
  refreshes: number;
  failedRefreshes: number;
  firstFailure: string | null;
}

export interface EconomyResult {
  dashboards: number;
  periodSec: number;
  warmupSec: number;
  windowSec: number;
  sides: EconomySide[];
  /** direct ÷ switchyard requests per hour, and direct-etag ÷ switchyard. */
  ratio: number | null;
  ratioEtag: number | null;
  /** Same, counting only requests that cost rate limit (all but 304s). */
  rateLimitedRatio: number | null;
  rateLimitedRatioEtag: number | null;
  /**
   * The direct side without its GitLab bridges and runner-details requests (a
   * dashboard that leaves out trigger jobs and runner tags), from its routes.
   */
  directMinimal: { requestsPerHour: number; ratio: number | null };
  /** Webhooks the switchyard side's simulators delivered in the window (pushes, not upstream requests). */
  webhooksInWindow: { github: number; gitlab: number };
  /** Autoplay transitions per simulator: one per second while running. */
  autoplayIntervalMs: number;
  /** Whether the gateway's first poll cycle had finished before the dashboards started (it is left out). */
  firstPollBeforeStart: boolean;
}

export interface EconomyOptions {
  dashboards: number;
  periodSec: number;
  warmupSec: number;
  windowSec: number;
  gatewayCpu?: number;
  log?: (line: string) => void;
}

const AUTOPLAY_MS = 1000;
/** Pipelines a dashboard shows (as in the dashboard query). */
const SHOWN = 20;

type Json = Record<string, unknown>;

interface DashboardStats {
  starts: number[];
  failures: number;
  firstFailure: string | null;
}

/** What a dashboard knows after discovering its repositories and projects once. */
interface Directory {
  repos: string[];
  projects: { id: number; path: string }[];
}

/** One dashboard polling the REST APIs itself; with `etags`, each URL is asked conditionally. */
class DirectDashboard {
  private readonly etags = new Map<string, { etag: string; body: unknown }>();

  constructor(private readonly pair: SimPair, private readonly dir: Directory, private readonly useEtags: boolean) {}

  private async get(url: string, headers: Record<string, string>): Promise<unknown> {
    const cached = this.useEtags ? this.etags.get(url) : undefined;
    const res = await fetch(url, {
      headers: { accept: 'application/json', ...headers, ...(cached ? { 'if-none-match': cached.etag } : {}) },
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status === 304 && cached) {
      await res.arrayBuffer();
      return cached.body;
    }
    if (!res.ok) throw new Error(`GET ${url.replace(/^http:\/\/[^/]+/, '')}: ${res.status}`);
    const body = (await res.json()) as unknown;
    const etag = res.headers.get('etag');
    if (this.useEtags && etag) this.etags.set(url, { etag, body });
    return body;
  }

  private gh(path: string) {
    return this.get(`${this.pair.gh.url}${path}`, { authorization: `token ${GH_TOKEN}`, 'x-github-api-version': '2022-11-28' });
  }

  private gl(path: string) {
    return this.get(`${this.pair.gl.url}${path}`, { 'private-token': GL_TOKEN });
  }

  /**
   * The same data as the dashboard query's answer: the newest pipelines of both
   * backends; the jobs of each (for GitLab also its trigger jobs, which the
   * gateway shows as jobs and GitLab lists apart as bridges); both runner
   * lists, and for GitLab each runner's details (list items carry no tags).
   */
  async refresh(): Promise<void> {
    const org = this.pair.gh.world.org;
    const group = encodeURIComponent(this.pair.gl.world.group);
    const [runs, pipelines, , glRunners] = await Promise.all([
      Promise.all(this.dir.repos.map((repo) =>
        this.gh(`/repos/${org}/${repo}/actions/runs?per_page=${SHOWN}`).then((b) =>
          (b as { workflow_runs: Json[] }).workflow_runs.map((r) => ({ at: String(r.created_at), jobs: [`gh:/repos/${org}/${repo}/actions/runs/${String(r.id)}/jobs?per_page=100`] }))))),
      Promise.all(this.dir.projects.map((p) =>
        this.gl(`/projects/${p.id}/pipelines?per_page=${SHOWN}`).then((b) =>
          (b as Json[]).map((x) => {
            const base = `gl:/projects/${p.id}/pipelines/${String(x.id)}`;
            return { at: String(x.created_at), jobs: [`${base}/jobs?per_page=100`, `${base}/bridges?per_page=100`] };
          })))),
      this.gh(`/orgs/${org}/actions/runners?per_page=100`),
      this.gl(`/groups/${group}/runners?per_page=100`),
    ]);
    const newest = [...runs.flat(), ...pipelines.flat()].sort((a, b) => Date.parse(b.at) - Date.parse(a.at)).slice(0, SHOWN);
    await Promise.all([
      ...newest.flatMap((p) => p.jobs).map((u) => (u.startsWith('gh:') ? this.gh(u.slice(3)) : this.gl(u.slice(3)))),
      ...(glRunners as Json[]).map((r) => this.gl(`/runners/${String(r.id)}`)),
    ]);
  }
}

async function discover(pair: SimPair): Promise<Directory> {
  const repos = (await (await fetch(`${pair.gh.url}/orgs/${pair.gh.world.org}/repos?per_page=100`, { headers: { authorization: `token ${GH_TOKEN}` } })).json()) as Json[];
  const projects = (await (await fetch(`${pair.gl.url}/groups/${encodeURIComponent(pair.gl.world.group)}/projects?per_page=100`, { headers: { 'private-token': GL_TOKEN } })).json()) as Json[];
  return { repos: repos.map((r) => String(r.name)), projects: projects.map((p) => ({ id: Number(p.id), path: String(p.path_with_namespace) })) };
}

/** Waits (at most `timeoutMs`) until every backend of the gateway reports a finished poll cycle. */
async function firstPollDone(base: string, timeoutMs: number): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  for (let i = 0; i < 1000 && performance.now() < until; i++) {
    try {
      const res = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
        body: JSON.stringify({ query: '{ backends { health { lastPollAt } } }' }),
        signal: AbortSignal.timeout(5000),
      });
      const body = (await res.json()) as { data?: { backends: { health: { lastPollAt: string | null } }[] } };
      if (body.data?.backends.length && body.data.backends.every((b) => b.health.lastPollAt)) return true;
    } catch {
      // not ready yet
    }
    await sleep(100);
  }
  return false;
}

async function gatewayRefresh(base: string): Promise<void> {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query: DASHBOARD_QUERY }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { data?: { pipelines?: { nodes: unknown[] } }; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(`GraphQL: ${body.errors[0]!.message}`);
  if (!res.ok || !body.data?.pipelines?.nodes.length) throw new Error(`gateway answered ${res.status} without pipelines`);
}

/**
 * Runs `refresh` for D dashboards, dashboard i first at t0 + i·period/D and then
 * every period, until `endAt` (performance.now() ms). Bounded: at most
 * ceil(run / period) + 1 refreshes per dashboard.
 */
async function drive(dashboards: number, periodMs: number, t0: number, endAt: number, refresh: (i: number) => Promise<void>, stats: DashboardStats): Promise<void> {
  const maxPer = Math.ceil((endAt - t0) / periodMs) + 1;
  await Promise.all(Array.from({ length: dashboards }, async (_, i) => {
    for (let k = 0; k < maxPer; k++) {
      const at = t0 + (i * periodMs) / dashboards + k * periodMs;
      if (at >= endAt) return;
      const wait = at - performance.now();
      if (wait > 0) await sleep(wait);
      stats.starts.push(performance.now());
      try {
        await refresh(i);
      } catch (error) {
        stats.failures++;
        stats.firstFailure ??= error instanceof Error ? error.message : String(error);
      }
    }
  }));
}

export async function runUpstreamEconomy(o: EconomyOptions): Promise<EconomyResult> {
  const log = o.log ?? (() => undefined);
  const pairs = { switchyard: createSimPair(), direct: createSimPair(), 'direct-etag': createSimPair() } as const;
  const kinds = Object.keys(pairs) as EconomySideKind[];
  for (const k of kinds) await pairs[k].start();
  let gw: GatewayChild | null = null;
  try {
    gw = await startCiGateway(pairs.switchyard, { cpu: o.gatewayCpu, polling: true, config: { freshnessSeconds: o.periodSec } });
    pairs.switchyard.hookTo(gw.base);
    // The first poll cycle reads everything once (every run is new to it): a start-up cost, left out of the window.
    const firstPoll = await firstPollDone(gw.base, 15_000);
    const dirs = { direct: await discover(pairs.direct), 'direct-etag': await discover(pairs['direct-etag']) };
    const dash = {
      direct: Array.from({ length: o.dashboards }, () => new DirectDashboard(pairs.direct, dirs.direct, false)),
      'direct-etag': Array.from({ length: o.dashboards }, () => new DirectDashboard(pairs['direct-etag'], dirs['direct-etag'], true)),
    };
    const stats: Record<EconomySideKind, DashboardStats> = {
      switchyard: { starts: [], failures: 0, firstFailure: null },
      direct: { starts: [], failures: 0, firstFailure: null },
      'direct-etag': { starts: [], failures: 0, firstFailure: null },
    };
    for (const k of kinds) pairs[k].autoplay(AUTOPLAY_MS);

    const periodMs = o.periodSec * 1000;
    const start = performance.now();
    const windowStart = start + o.warmupSec * 1000;
    const endAt = windowStart + o.windowSec * 1000;
    log(`economy: ${o.dashboards} dashboards per side every ${o.periodSec} s, ${o.warmupSec} s warm-up + ${o.windowSec} s measured`);
    const base = gw.base;
    const driving = Promise.all([
      drive(o.dashboards, periodMs, start, endAt, () => gatewayRefresh(base), stats.switchyard),
      drive(o.dashboards, periodMs, start, endAt, (i) => dash.direct[i]!.refresh(), stats.direct),
      drive(o.dashboards, periodMs, start, endAt, (i) => dash['direct-etag'][i]!.refresh(), stats['direct-etag']),
    ]);
    await sleep(windowStart - performance.now());
    const from = Object.fromEntries(kinds.map((k) => [k, logPosition(pairs[k])])) as Record<EconomySideKind, { gh: number; gl: number }>;
    const hooks0 = { github: pairs.switchyard.gh.deliveries.length, gitlab: pairs.switchyard.gl.deliveries.length };
    await sleep(endAt - performance.now());
    const counted = Object.fromEntries(kinds.map((k) => [k, countsSince(pairs[k], from[k])])) as Record<EconomySideKind, UpstreamCounts>;
    const webhooksInWindow = { github: pairs.switchyard.gh.deliveries.length - hooks0.github, gitlab: pairs.switchyard.gl.deliveries.length - hooks0.gitlab };
    for (const k of kinds) pairs[k].stopAutoplay();
    await driving; // the last refreshes finish (each is bounded by a 10 s timeout)

    const perHour = (n: number) => Math.round((n * 3600) / o.windowSec);
    const sides: EconomySide[] = kinds.map((k) => {
      const c = counted[k];
      return {
        side: k,
        upstream: c,
        requestsPerHour: perHour(c.total),
        rateLimitedPerHour: perHour(c.total - c.notModified),
        notModifiedShare: c.total ? round(c.notModified / c.total, 3) : null,
        refreshes: stats[k].starts.filter((t) => t >= windowStart && t < endAt).length,
        failedRefreshes: stats[k].failures,
        firstFailure: stats[k].firstFailure,
      };
    });
    const sw = sides[0]!;
    const ratio = (a: number, b: number) => (b > 0 ? round(a / b, 1) : null);
    const directRoutes = sides[1]!.upstream.byRoute;
    const extras = (directRoutes['gl GET /api/v4/projects/:project/pipelines/:id/bridges'] ?? 0) + (directRoutes['gl GET /api/v4/runners/:id'] ?? 0);
    const minimalPerHour = perHour(sides[1]!.upstream.total - extras);
    return {
      dashboards: o.dashboards, periodSec: o.periodSec, warmupSec: o.warmupSec, windowSec: o.windowSec, sides,
      ratio: ratio(sides[1]!.requestsPerHour, sw.requestsPerHour),
      ratioEtag: ratio(sides[2]!.requestsPerHour, sw.requestsPerHour),
      rateLimitedRatio: ratio(sides[1]!.rateLimitedPerHour, sw.rateLimitedPerHour),
      rateLimitedRatioEtag: ratio(sides[2]!.rateLimitedPerHour, sw.rateLimitedPerHour),
      directMinimal: { requestsPerHour: minimalPerHour, ratio: ratio(minimalPerHour, sw.requestsPerHour) },
      webhooksInWindow,
      autoplayIntervalMs: AUTOPLAY_MS,
      firstPollBeforeStart: firstPoll,
    };
  } finally {
    for (const k of kinds) pairs[k].stopAutoplay();
    await gw?.stop();
    for (const k of kinds) await pairs[k].stop();
  }
}
