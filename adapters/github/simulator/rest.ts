/**
 * The REST surface: routing, auth, ETag/304, rate-limit headers, pagination
 * and fault injection, answering the way api.github.com does.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  faultHeaders, injectFault, type FaultScope, type SimFault as Fault, type SimRequestRecord as RequestRecord,
} from '../../../sim-kit/sim-faults.ts';
import * as P from './payloads.ts';
import type { UrlBase } from './payloads.ts';
import { routeActionsGet, routeActionsPost } from './rest-actions.ts';
import { SimRefusal, type ActionWorld } from './world-actions.ts';
import type { SimRun, WorldEvent } from './world-entities.ts';
import type { World } from './world.ts';

export type { Fault, RequestRecord };

/** Which configured credential a request carried (never the credential itself). */
/** `other`: a token the simulator was not configured with (answered 401). */
export type Credential = 'read' | 'write' | 'other' | 'none';

export interface CredentialRecord {
  readonly method: string;
  readonly path: string;
  readonly credential: Credential;
}

export interface RestContext extends FaultScope {
  readonly world: ActionWorld;
  readonly base: () => UrlBase;
  readonly token: string | undefined;
  /** When set, write endpoints need this token; the read token gets 403 there, as a token without actions:write does. */
  readonly writeToken?: string | undefined;
  readonly now: () => Date;
  /** Sends the webhooks an action causes. */
  readonly emit: (events: readonly WorldEvent[]) => Promise<void>;
  /** Which credential each request carried. */
  readonly noteCredential: (r: CredentialRecord) => void;
  /** Dispatch without `return_run_details`, as older GitHub Enterprise Server. */
  readonly legacyDispatch?: boolean;
  /** `GET .../actions/jobs/{job_id}/logs` (job-logs.ts): a 302 to the blob host, or 404; null: the generic 404. */
  readonly jobLogs?: (repo: string, jobId: string) => Reply | null;
}

const DOCS = 'https://docs.github.com/rest';
const SUPPORTED_API_VERSIONS = new Set(['2022-11-28', '2026-03-10']);
const RATE_LIMIT = 5000;
const RUN_STATUSES = new Set(['queued', 'in_progress', 'completed', 'requested', 'waiting', 'pending', 'action_required']);

type Query = URLSearchParams;
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export function createRestHandler(ctx: RestContext): (req: IncomingMessage, res: ServerResponse) => void {
  // Primary rate limit window: 5000 per hour, counted only for 200s (304s are free).
  let used = 0;
  let resetAt = 0;
  const rateHeaders = (): Record<string, string> => {
    const nowSec = Math.floor(ctx.now().getTime() / 1000);
    if (nowSec >= resetAt) {
      resetAt = nowSec + 3600;
      used = 0;
    }
    return {
      'x-ratelimit-limit': String(RATE_LIMIT),
      'x-ratelimit-remaining': String(Math.max(0, RATE_LIMIT - used)),
      'x-ratelimit-reset': String(resetAt),
      'x-ratelimit-used': String(used),
      'x-ratelimit-resource': 'core',
    };
  };

  return (req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const send = (status: number, body: unknown, extra: Record<string, string> = {}): void => {
      ctx.record({ method, path, status });
      const text = body === undefined ? '' : JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'x-github-api-version-selected': '2022-11-28',
        'x-github-media-type': 'github.v3; format=json',
        'x-github-request-id': randomBytes(8).toString('hex').toUpperCase(),
        ...extra,
        ...(text ? { 'content-length': String(Buffer.byteLength(text)) } : {}),
      });
      res.end(text);
    };
    // Drain any request body so keep-alive connections stay usable (POST bodies are read below).
    if (method !== 'POST') req.resume();

    const fault = injectFault(ctx, method, path, res);
    if (fault === 'held') return;
    if (fault) {
      send(fault.status, fault.body ?? { message: defaultMessage(fault.status), documentation_url: DOCS, status: String(fault.status) }, faultHeaders(fault, rateHeaders()));
      return;
    }

    const auth = /^(?:token|bearer)\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const credential: Credential = auth === undefined ? 'none'
      : auth === ctx.token ? 'read' : auth === ctx.writeToken ? 'write' : 'other';
    ctx.noteCredential({ method, path, credential });
    if (credential === 'other' || (credential === 'none' && ctx.token !== undefined)) {
      send(401, { message: 'Bad credentials', documentation_url: DOCS, status: '401' });
      return;
    }

    const apiVersion = req.headers['x-github-api-version'];
    if (typeof apiVersion === 'string' && !SUPPORTED_API_VERSIONS.has(apiVersion)) {
      send(400, {
        message: `API version ${apiVersion} is not supported.`,
        documentation_url: 'https://docs.github.com/rest/about-the-rest-api/api-versions',
        status: '400',
      });
      return;
    }

    const url = new URL(path, 'http://sim.invalid');
    if (method === 'POST') {
      if (ctx.writeToken !== undefined && credential !== 'write') {
        // What GitHub answers a token that lacks actions:write (or deployments) for the repository.
        send(credential === 'none' ? 401 : 403, {
          message: credential === 'none' ? 'Requires authentication' : 'Resource not accessible by integration',
          documentation_url: DOCS, status: credential === 'none' ? '401' : '403',
        }, rateHeaders());
        return;
      }
      readJson(req).then(
        (body) => {
          const r = body === null
            ? { status: 400, body: { message: 'Problems parsing JSON', documentation_url: DOCS, status: '400' } }
            : answerPost(ctx, url.pathname, body);
          send(r.status, r.body, rateHeaders());
        },
      ).catch((err: unknown) => {
        send(500, { message: `Simulator error: ${String(err)}`, documentation_url: DOCS, status: '500' });
      });
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      send(404, P.notFound(), rateHeaders());
      return;
    }

    let reply: Reply;
    try {
      reply = route(ctx, url.pathname, url.searchParams) ?? { status: 404, body: P.notFound() };
    } catch (err) {
      if (!(err instanceof HttpError) && !(err instanceof SimRefusal)) throw err;
      reply = { status: err.status, body: { message: err.message, documentation_url: DOCS, status: String(err.status) } };
    }

    // /rate_limit never counts against the primary limit.
    const counts = url.pathname !== '/rate_limit';
    if (reply.status !== 200) {
      send(reply.status, reply.body, { ...rateHeaders(), ...reply.headers });
      return;
    }
    // /rate_limit reflects live counters, so build it before hashing.
    if (url.pathname === '/rate_limit') reply.body = rateLimitBody(rateHeaders());
    const text = JSON.stringify(reply.body);
    const etag = `"${createHash('sha1').update(text).digest('hex')}"`;
    const cacheHeaders = {
      etag,
      'cache-control': 'private, max-age=60, s-maxage=60',
      vary: 'Accept, Authorization, Cookie, X-GitHub-OTP',
    };
    if (matchesEtag(req.headers['if-none-match'], etag)) {
      // A 304 is free: the rate limit is not decremented.
      send(304, undefined, { ...rateHeaders(), ...cacheHeaders, ...reply.headers });
      return;
    }
    if (counts) {
      rateHeaders(); // roll the window first if it expired
      used++;
    }
    send(200, method === 'HEAD' ? undefined : reply.body, { ...rateHeaders(), ...cacheHeaders, ...reply.headers });
  };
}

function defaultMessage(status: number): string {
  switch (status) {
    case 403: return 'API rate limit exceeded';
    case 429: return 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.';
    case 500: return 'Server Error';
    case 502: return 'Server Error';
    case 503: return 'Service Unavailable';
    default: return 'Error';
  }
}

/** If-None-Match may list several tags and may use weak `W/` forms. */
function matchesEtag(header: string | string[] | undefined, etag: string): boolean {
  if (!header) return false;
  const values = (Array.isArray(header) ? header.join(',') : header).split(',').map((v) => v.trim().replace(/^W\//, ''));
  return values.includes('*') || values.includes(etag);
}

function rateLimitBody(h: Record<string, string>): unknown {
  const core = {
    limit: Number(h['x-ratelimit-limit']),
    remaining: Number(h['x-ratelimit-remaining']),
    reset: Number(h['x-ratelimit-reset']),
    used: Number(h['x-ratelimit-used']),
  };
  const other = (limit: number) => ({ limit, remaining: limit, reset: core.reset, used: 0 });
  return {
    resources: {
      core,
      graphql: other(5000),
      search: other(30),
      code_search: other(10),
      integration_manifest: other(5000),
      actions_runner_registration: other(10000),
      scim: other(15000),
    },
    rate: core,
  };
}

function route(ctx: RestContext, pathname: string, q: Query): Reply | null {
  const { world } = ctx;
  const base = ctx.base();
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const [a, b, c, d, e, f, g, h] = parts;

  if (a === 'rate_limit' && parts.length === 1) return { status: 200, body: null };

  if (a === 'orgs' && b === world.org) {
    if (parts.length === 3 && c === 'repos') {
      const items = world.repos.map((r) => P.repositoryListItem(base, world, r));
      return paginateArray(base, pathname, q, items);
    }
    if (c === 'actions' && d === 'runners') {
      const runners = world.runners.filter((r) => r.scope === 'org');
      if (parts.length === 4) return runnerList(base, pathname, q, runners);
      if (parts.length === 5) {
        const r = runners.find((x) => String(x.id) === e);
        return r ? { status: 200, body: P.runner(r) } : null;
      }
    }
    return null;
  }

  if (a !== 'repos' || b !== world.org || !c) return null;
  const repo = world.repo(c);
  if (!repo) return null;
  if (parts.length === 3) return { status: 200, body: P.repositoryRest(base, world, repo) };
  if (d === 'contents') return routeActionsGet({ world, base, emit: ctx.emit }, repo.name, parts.slice(3), q);
  if (d !== 'actions') return null;
  const actionsReply = routeActionsGet({ world, base, emit: ctx.emit }, repo.name, parts.slice(3), q);
  if (actionsReply) return actionsReply;

  if (e === 'runs') {
    if (parts.length === 5) return listRuns(ctx, pathname, q, world.runsOf(repo.name));
    const run = f !== undefined ? world.runs.get(Number(f)) : undefined;
    if (!run || run.repo !== repo.name || !/^\d+$/.test(f ?? '')) return null;
    if (parts.length === 6) return { status: 200, body: P.workflowRun(base, world, run) };
    if (parts.length === 7 && g === 'jobs') {
      const filter = q.get('filter') ?? 'latest';
      if (filter !== 'latest' && filter !== 'all') throw new HttpError(422, `Invalid filter: ${filter}`);
      // `latest` hides the jobs of earlier attempts (job ids are per attempt).
      const jobs = world.jobsOf(run.id).filter((j) => filter === 'all' || (j.runAttempt ?? run.runAttempt) === run.runAttempt);
      return paginateEnvelope(base, pathname, q, 'jobs', jobs.map((j) => P.job(base, world, j)));
    }
    if (g === 'attempts' && (parts.length === 8 || (parts.length === 9 && parts[8] === 'jobs'))) {
      const n = /^\d+$/.test(h ?? '') ? Number(h) : NaN;
      const attempt = n === run.runAttempt ? run : run.previousAttempts?.find((x) => x.runAttempt === n);
      if (!attempt) return null;
      if (parts.length === 8) return { status: 200, body: P.workflowRun(base, world, { ...run, ...attempt }) };
      const jobs = world.jobsOf(run.id).filter((j) => (j.runAttempt ?? run.runAttempt) === n);
      return paginateEnvelope(base, pathname, q, 'jobs', jobs.map((j) => P.job(base, world, j)));
    }
    return null;
  }
  if (e === 'jobs' && parts.length === 7 && g === 'logs') return ctx.jobLogs?.(repo.name, f ?? '') ?? null;
  if (e === 'jobs' && parts.length === 6) {
    const job = /^\d+$/.test(f ?? '') ? world.jobs.get(Number(f)) : undefined;
    return job && job.repo === repo.name ? { status: 200, body: P.job(base, world, job) } : null;
  }
  if (e === 'runners') {
    // The repo listing holds only repo-level runners, not the org's (as on GitHub).
    const runners = world.runners.filter((r) => r.scope !== 'org' && r.scope.repo === repo.name);
    if (parts.length === 5) return runnerList(base, pathname, q, runners);
    if (parts.length === 6) {
      const r = runners.find((x) => String(x.id) === f);
      return r ? { status: 200, body: P.runner(r) } : null;
    }
  }
  return null;
}

function runnerList(base: UrlBase, pathname: string, q: Query, runners: ReturnType<World['runnersFor']>): Reply {
  const name = q.get('name');
  const filtered = name ? runners.filter((r) => r.name === name) : runners;
  return paginateEnvelope(base, pathname, q, 'runners', filtered.map((r) => P.runner(r)));
}

function listRuns(ctx: RestContext, pathname: string, q: Query, runs: SimRun[]): Reply {
  let out = runs;
  const branch = q.get('branch');
  if (branch) out = out.filter((r) => r.branch === branch);
  const event = q.get('event');
  if (event) out = out.filter((r) => r.event === event);
  const status = q.get('status');
  if (status) {
    // `status` takes a status or a conclusion value.
    out = RUN_STATUSES.has(status) ? out.filter((r) => r.status === status) : out.filter((r) => r.conclusion === status);
  }
  const headSha = q.get('head_sha');
  if (headSha) out = out.filter((r) => r.sha === headSha);
  const actor = q.get('actor');
  if (actor) out = out.filter((r) => r.actor.login === actor);
  const checkSuite = q.get('check_suite_id');
  if (checkSuite) out = out.filter((r) => String(r.checkSuiteId) === checkSuite);
  const created = q.get('created');
  if (created) {
    const range = parseCreated(created);
    out = out.filter((r) => {
      const t = Date.parse(r.createdAt);
      return t >= range.from && t <= range.to;
    });
  }
  const base = ctx.base();
  const excludePrs = q.get('exclude_pull_requests') === 'true';
  const items = out.map((r) => {
    const o = P.workflowRun(base, ctx.world, r);
    return excludePrs ? { ...o, pull_requests: [] } : o;
  });
  return paginateEnvelope(base, pathname, q, 'workflow_runs', items);
}

/**
 * GitHub search date syntax: `>=D`, `<=D`, `>D`, `<D`, `D..D` (either side
 * may be `*`), or a bare `D` (that whole day when D has no time part).
 */
export function parseCreated(value: string): { from: number; to: number } {
  const parse = (s: string, end: boolean): number => {
    if (s === '*') return end ? Infinity : -Infinity;
    const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(s);
    const t = Date.parse(dateOnly ? `${s}T00:00:00Z` : s);
    if (Number.isNaN(t)) throw new HttpError(422, `Invalid created date: ${value}`);
    return dateOnly && end ? t + 86_400_000 - 1 : t;
  };
  const v = value.trim();
  if (v.includes('..')) {
    const [from = '*', to = '*'] = v.split('..');
    return { from: parse(from, false), to: parse(to, true) };
  }
  if (v.startsWith('>=')) return { from: parse(v.slice(2), false), to: Infinity };
  if (v.startsWith('<=')) return { from: -Infinity, to: parse(v.slice(2), true) };
  if (v.startsWith('>')) return { from: parse(v.slice(1), true) + 1, to: Infinity };
  if (v.startsWith('<')) return { from: -Infinity, to: parse(v.slice(1), false) - 1 };
  return { from: parse(v, false), to: parse(v, true) };
}

function pageParams(q: Query): { perPage: number; page: number } {
  const rawPer = Number(q.get('per_page') ?? 30);
  const rawPage = Number(q.get('page') ?? 1);
  const perPage = Number.isFinite(rawPer) && rawPer >= 1 ? Math.min(100, Math.floor(rawPer)) : 30;
  const page = Number.isFinite(rawPage) && rawPage >= 1 ? Math.floor(rawPage) : 1;
  return { perPage, page };
}

/** RFC 8288 Link header in GitHub's order: prev, next, last, first. */
export function linkHeader(base: UrlBase, pathname: string, q: Query, page: number, lastPage: number): string | undefined {
  if (lastPage <= 1) return undefined;
  const link = (p: number, rel: string): string => {
    const params = new URLSearchParams(q);
    params.set('page', String(p));
    return `<${base.api}${pathname}?${params.toString()}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page > 1) links.push(link(Math.min(page - 1, lastPage), 'prev'));
  if (page < lastPage) links.push(link(page + 1, 'next'), link(lastPage, 'last'));
  if (page > 1) links.push(link(1, 'first'));
  return links.join(', ');
}

function paginate<T>(base: UrlBase, pathname: string, q: Query, items: T[]): { slice: T[]; headers: Record<string, string> } {
  const { perPage, page } = pageParams(q);
  const lastPage = Math.max(1, Math.ceil(items.length / perPage));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  const link = linkHeader(base, pathname, q, page, lastPage);
  return { slice, headers: link ? { link } : {} };
}

function paginateEnvelope(base: UrlBase, pathname: string, q: Query, key: string, items: unknown[]): Reply {
  const { slice, headers } = paginate(base, pathname, q, items);
  return { status: 200, body: { total_count: items.length, [key]: slice }, headers };
}

function paginateArray(base: UrlBase, pathname: string, q: Query, items: unknown[]): Reply {
  const { slice, headers } = paginate(base, pathname, q, items);
  return { status: 200, body: slice, headers };
}

/** The JSON object of a request body; {} when empty, null when it does not parse. */
function readJson(req: IncomingMessage): Promise<Record<string, unknown> | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve({});
      try {
        const v: unknown = JSON.parse(text);
        resolve(v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null);
      } catch {
        resolve(null);
      }
    });
  });
}

function answerPost(ctx: RestContext, pathname: string, body: Record<string, unknown>): Reply {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const [a, b, c] = parts;
  const repo = a === 'repos' && b === ctx.world.org && c ? ctx.world.repo(c) : undefined;
  try {
    const reply = repo ? routeActionsPost({ world: ctx.world, base: ctx.base(), emit: ctx.emit, legacyDispatch: ctx.legacyDispatch === true }, repo.name, parts.slice(3), body) : null;
    return reply ?? { status: 404, body: P.notFound() };
  } catch (err) {
    if (!(err instanceof SimRefusal)) throw err;
    return { status: err.status, body: { message: err.message, documentation_url: DOCS, status: String(err.status) } };
  }
}
