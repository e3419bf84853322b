/**
 * A GitHub + GitLab simulator pair for the query-load and upstream-economy
 * scenarios, the gateway config that points at it, and counting of the REST
 * requests the pair received (from the simulators' own request logs).
 */
import { fileURLToPath } from 'node:url';
import { createGithubSimulator, type GithubSimulator } from '../../adapters/github/simulator/index.ts';
import { createGitlabSimulator, type GitlabSimulator } from '../../adapters/gitlab/simulator/index.ts';
import { startGatewayChild, type GatewayChild } from './gateway-child.ts';

export const GH_TOKEN = 'ghp_bench_ci_token';
export const GH_SECRET = 'bench-ci-github-secret';
export const GL_TOKEN = 'glpat-bench-ci-token-0123';
export const GL_HOOK_TOKEN = 'bench-ci-gitlab-hook-token';

export const CI_GATEWAY_ENTRY = fileURLToPath(new URL('./ci-gateway-process.ts', import.meta.url));

/**
 * The dashboard query of both scenarios: the newest pipelines across every
 * backend with their jobs and each job's runner, plus the runner list.
 */
export const DASHBOARD_QUERY =
  'query Dashboard { pipelines(first: 20) { nodes { id name number status branch commitSha createdAt project { fullName } backend { name provider } ' +
  'jobs { nodes { id name status runner { name state } } } } } runners { nodes { id name state labels backend { name } } } }';

export interface SimPair {
  readonly gh: GithubSimulator;
  readonly gl: GitlabSimulator;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Both simulators' request logs emptied. */
  reset(): void;
  counts(): UpstreamCounts;
  /** Sends webhooks from both simulators to this gateway (`/webhooks/gh`, `/webhooks/gl`); null stops them. */
  hookTo(base: string | null): void;
  autoplay(intervalMs: number): void;
  stopAutoplay(): void;
}

export interface UpstreamCounts {
  total: number;
  github: number;
  gitlab: number;
  /** GitHub answers 304 Not Modified (conditional requests that cost no rate limit). */
  notModified: number;
  /** Requests answered with an error status (or hung). */
  errors: number;
  byRoute: Record<string, number>;
}

/** Route shape of a logged request, ids and names folded. */
export function routeShape(provider: 'gh' | 'gl', method: string, path: string): string {
  const p = path.split('?')[0]!
    .replace(/\/repos\/[^/]+\/[^/]+/, '/repos/:repo')
    .replace(/\/projects\/[^/]+/, '/projects/:project')
    .replace(/\/groups\/[^/]+/, '/groups/:group')
    .replace(/\/orgs\/[^/]+/, '/orgs/:org')
    .replace(/\/\d+/g, '/:id');
  return `${provider} ${method} ${p}`;
}

/** Seeds are fixed, so two pairs created alike start with the same world and, under autoplay, change the same way. */
export function createSimPair(opts: { history?: number } = {}): SimPair {
  const gh = createGithubSimulator({ token: GH_TOKEN, seed: 7, history: opts.history ?? 5 });
  const gl = createGitlabSimulator({ token: GL_TOKEN, seed: 11, history: opts.history ?? 5 });
  return {
    gh,
    gl,
    async start() {
      await gh.start();
      await gl.start();
    },
    async stop() {
      await Promise.allSettled([gh.stop(), gl.stop()]);
    },
    reset() {
      gh.resetRequests();
      gl.resetRequests();
    },
    counts() {
      return tally(gh.requests, gl.requests);
    },
    hookTo(base) {
      gh.setWebhook(base ? { url: `${base}/webhooks/gh`, secret: GH_SECRET } : null);
      gl.setWebhook(base ? { url: `${base}/webhooks/gl`, token: GL_HOOK_TOKEN } : null);
    },
    autoplay(intervalMs) {
      gh.autoplay({ intervalMs });
      gl.autoplay({ intervalMs });
    },
    stopAutoplay() {
      gh.stopAutoplay();
      gl.stopAutoplay();
    },
  };
}

type Log = ReadonlyArray<{ method: string; path: string; status: number }>;

function tally(ghLog: Log, glLog: Log): UpstreamCounts {
  const byRoute: Record<string, number> = {};
  let notModified = 0;
  let errors = 0;
  for (const [provider, log] of [['gh', ghLog], ['gl', glLog]] as const) {
    for (const r of log) {
      const shape = routeShape(provider, r.method, r.path);
      byRoute[shape] = (byRoute[shape] ?? 0) + 1;
      if (r.status === 304) notModified++;
      else if (r.status === 0 || r.status >= 400) errors++;
    }
  }
  return { total: ghLog.length + glLog.length, github: ghLog.length, gitlab: glLog.length, notModified, errors, byRoute };
}

/** Requests logged since `from` (a logPosition() taken earlier; the logs only grow between resets). */
export function countsSince(pair: SimPair, from: { gh: number; gl: number }): UpstreamCounts {
  return tally(pair.gh.requests.slice(from.gh), pair.gl.requests.slice(from.gl));
}

/** Sum of several counts. */
export function mergeCounts(list: readonly UpstreamCounts[]): UpstreamCounts {
  const out: UpstreamCounts = { total: 0, github: 0, gitlab: 0, notModified: 0, errors: 0, byRoute: {} };
  for (const c of list) {
    out.total += c.total;
    out.github += c.github;
    out.gitlab += c.gitlab;
    out.notModified += c.notModified;
    out.errors += c.errors;
    for (const [k, v] of Object.entries(c.byRoute)) out.byRoute[k] = (out.byRoute[k] ?? 0) + v;
  }
  return out;
}

export const logPosition = (pair: SimPair) => ({ gh: pair.gh.requests.length, gl: pair.gl.requests.length });

/** Gateway backends for a pair: `gh` (org octo-org, its runners) and `gl` (group platform, group runners), both with webhooks. */
export function gatewayBackends(pair: SimPair): Record<string, unknown>[] {
  return [
    {
      name: 'gh', provider: 'github', url: pair.gh.url, token: { value: GH_TOKEN }, webhookSecret: { value: GH_SECRET },
      organizations: [pair.gh.world.org], runners: { organizations: [pair.gh.world.org] },
    },
    {
      name: 'gl', provider: 'gitlab', url: pair.gl.url, token: { value: GL_TOKEN }, webhookToken: { value: GL_HOOK_TOKEN },
      groups: [pair.gl.world.group], runners: { scope: 'groups' },
    },
  ];
}

/**
 * Every bench caller is the same anonymous identity, so the schema's per-identity
 * @rateLimit (600/min on Query.pipelines and Query.runners) is raised out of the way.
 */
export const NO_FIELD_RATE_LIMITS = {
  fields: {
    'Query.pipelines': { max: 100_000_000, window: '1m' },
    'Query.runners': { max: 100_000_000, window: '1m' },
    'Query.backends': { max: 100_000_000, window: '1m' },
  },
};

/** Starts bench/lib/ci-gateway-process.ts over this pair, pinned to `cpu` when given. */
export function startCiGateway(pair: SimPair, o: { cpu?: number; config?: Record<string, unknown>; polling?: boolean }): Promise<GatewayChild> {
  return startGatewayChild({
    entry: CI_GATEWAY_ENTRY,
    simUrl: pair.gh.url,
    token: GH_TOKEN,
    webhookSecret: GH_SECRET,
    cpu: o.cpu,
    config: { rateLimit: NO_FIELD_RATE_LIMITS, ...o.config, backends: gatewayBackends(pair), benchPolling: o.polling === true },
  });
}
