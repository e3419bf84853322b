/**
 * The REST v4 surface: routing under /api/v4, PRIVATE-TOKEN / Bearer auth,
 * offset pagination (X-Total, X-Page, X-Next-Page, Link ...), keyset
 * pagination on the project jobs listing, RateLimit-* headers and fault
 * injection, answering the way GitLab does (doc/api/rest/_index.md,
 * doc/user/gitlab_com/rate_limits.md).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  faultHeaders, injectFault, type FaultScope, type SimFault as Fault, type SimRequestRecord as RequestRecord,
} from '../../../sim-kit/sim-faults.ts';
import * as P from './payloads.ts';
import type { UrlBase } from './payloads.ts';
import { COMPLETED, STATUSES, type SimJob, type SimPipeline, type SimProject, type SimRunner, type Status, type WorldEvent } from './world-entities.ts';
import type { World } from './world.ts';
import { actionReads, actionWrites, SimHttpError, type ActionContext } from './rest-actions.ts';
import type { SimJobLogs } from './job-logs.ts';

export type { Fault, RequestRecord };

export interface CredentialRecord {
  readonly method: string;
  readonly path: string;
  readonly credential: 'read' | 'write' | 'other' | 'none';
}

export interface RestContext extends FaultScope {
  readonly world: World;
  readonly base: () => UrlBase;
  readonly token: string | undefined;
  /** When set, only this token may write (POST): the read token gets 403, as a token without the `api` scope or role would. */
  readonly writeToken?: string | undefined;
  readonly now: () => Date;
  /** Which credential each request carried (never the token itself): tests prove reads never use the write token. */
  readonly credential?: (record: CredentialRecord) => void;
  /** Delivers the webhooks an action's transition causes. */
  readonly emit?: (events: readonly WorldEvent[]) => void;
  /** The job traces; without it every build's trace is empty. */
  readonly logs?: SimJobLogs;
}

/** gitlab.com: authenticated API traffic, 2,000 requests per minute per user. */
export const RATE_LIMIT = 2000;
const PREFIX = '/api/v4';
const STATUS_SET: ReadonlySet<string> = new Set(STATUSES);

type Query = URLSearchParams;
interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

class HttpError extends Error {
  constructor(readonly status: number, readonly body: unknown) {
    super(typeof body === 'object' && body !== null ? JSON.stringify(body) : String(body));
  }
}

const notFound = (what: string): never => {
  throw new HttpError(404, { message: `404 ${what}` });
};
const badParam = (name: string): never => {
  throw new HttpError(400, { error: `${name} does not have a valid value` });
};

export function createRestHandler(ctx: RestContext): (req: IncomingMessage, res: ServerResponse) => void {
  let observed = 0;
  let windowEnd = 0;
  const rateHeaders = (): Record<string, string> => {
    const nowSec = Math.floor(ctx.now().getTime() / 1000);
    if (nowSec >= windowEnd) {
      windowEnd = nowSec + 60;
      observed = 0;
    }
    return {
      'ratelimit-name': 'throttle_authenticated_api',
      'ratelimit-limit': String(RATE_LIMIT),
      'ratelimit-observed': String(observed),
      'ratelimit-remaining': String(Math.max(0, RATE_LIMIT - observed)),
      'ratelimit-reset': String(windowEnd),
      'ratelimit-resettime': new Date(windowEnd * 1000).toUTCString(),
    };
  };

  return (req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const send = (status: number, body: unknown, extra: Record<string, string> = {}): void => {
      ctx.record({ method, path, status });
      // A Buffer (a job trace) goes out byte for byte, never through a string.
      const text = body === undefined ? '' : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      res.writeHead(status, {
        'content-type': typeof body === 'string' || Buffer.isBuffer(body) ? 'text/plain' : 'application/json',
        'cache-control': 'max-age=0, private, must-revalidate',
        'x-request-id': `01${Math.random().toString(36).slice(2, 14).toUpperCase()}`,
        'x-gitlab-meta': '{"correlation_id":"sim","version":"1"}',
        ...extra,
        'content-length': String(Buffer.byteLength(text)),
      });
      res.end(method === 'HEAD' ? undefined : text);
    };
    const fault = injectFault(ctx, method, path, res);
    // A request body is read only for a POST that gets routed; any other answer drains it.
    if (fault) req.resume();
    if (fault === 'held') return;
    if (fault) {
      send(fault.status, fault.body ?? defaultFaultBody(fault.status), faultHeaders(fault, rateHeaders()));
      return;
    }

    const presented = req.headers['private-token'] ?? /^bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    ctx.credential?.({
      method, path,
      credential: presented === undefined ? 'none' : presented === ctx.token ? 'read' : presented === ctx.writeToken ? 'write' : 'other',
    });
    if (ctx.token !== undefined || ctx.writeToken !== undefined) {
      const known = presented !== undefined && (presented === ctx.token || presented === ctx.writeToken);
      if (!known) {
        req.resume();
        send(401, { message: '401 Unauthorized' });
        return;
      }
    }

    const url = new URL(path, 'http://sim.invalid');
    const answer = (compute: () => Reply | null): void => {
      let reply: Reply;
      try {
        reply = compute() ?? { status: 404, body: { error: '404 Not Found' } };
      } catch (err) {
        if (err instanceof HttpError || err instanceof SimHttpError) reply = { status: err.status, body: err.body };
        else throw err;
      }
      rateHeaders();
      observed++;
      send(reply.status, reply.body, { ...rateHeaders(), ...reply.headers });
    };
    if (method === 'POST' && url.pathname.startsWith(`${PREFIX}/`)) {
      if (ctx.writeToken !== undefined && presented !== ctx.writeToken) {
        req.resume();
        send(403, { message: '403 Forbidden' }, rateHeaders());
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body: Record<string, unknown> = {};
        const text = Buffer.concat(chunks).toString('utf8');
        if (text.trim() !== '') {
          try {
            const parsed = JSON.parse(text) as unknown;
            if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
          } catch {
            send(400, { error: 'The provided content-type \'application/json\' is not supported.' }, rateHeaders());
            return;
          }
        }
        answer(() => routeWrite(ctx, url.pathname, url.searchParams, body));
      });
      return;
    }
    req.resume();
    if (method !== 'GET' && method !== 'HEAD') {
      send(404, { error: '404 Not Found' }, rateHeaders());
      return;
    }
    if (!url.pathname.startsWith(`${PREFIX}/`)) {
      send(404, { error: '404 Not Found' });
      return;
    }
    answer(() => route(ctx, url.pathname, url.searchParams));
  };
}

function defaultFaultBody(status: number): unknown {
  switch (status) {
    case 429: return 'Retry later\n';
    case 401: return { message: '401 Unauthorized' };
    case 403: return { message: '403 Forbidden' };
    case 500: return { message: '500 Internal Server Error' };
    case 502: return { message: '502 Bad Gateway' };
    case 503: return { message: '503 Service Unavailable' };
    default: return { message: `${status} Error` };
  }
}

function route(ctx: RestContext, pathname: string, q: Query): Reply | null {
  const { world } = ctx;
  const base = ctx.base();
  // Segments are decoded one by one, so `platform%2Fbackend` stays one segment.
  const parts = pathname.slice(PREFIX.length).split('/').filter(Boolean).map(decodeURIComponent);
  const [a, b, c, d, e] = parts;
  const origin = new URL(base.api).origin;
  const page = (items: unknown[]) => offsetPage(origin, pathname, q, items);

  if (a === 'projects') {
    if (parts.length === 1) {
      return page(world.projects.map((p) => P.project(base, world, p)));
    }
    const project = findProject(world, b ?? '');
    if (parts.length === 2) return { status: 200, body: P.project(base, world, project) };
    const actionRead = actionReads(actionContext(ctx), project, parts, q);
    if (actionRead) return actionRead;
    if (c === 'pipelines') {
      if (parts.length === 3) return page(listPipelines(world, project, q).map((p) => P.pipelineListItem(base, world, p)));
      if (d === 'latest' && parts.length === 4) {
        const ref = q.get('ref') ?? project.defaultBranch;
        const latest = world.pipelinesOf(project.id).find((p) => p.parent === null && p.ref === ref);
        if (!latest) throw new HttpError(403, { message: '403 Forbidden' });
        return { status: 200, body: P.pipelineDetail(base, world, latest) };
      }
      const pipeline = findPipeline(world, project, d ?? '');
      if (parts.length === 4) return { status: 200, body: P.pipelineDetail(base, world, pipeline) };
      if (parts.length === 5 && e === 'jobs') {
        const includeRetried = q.get('include_retried') === 'true';
        const jobs = world.jobsOf(pipeline.id).filter((j) => j.kind === 'build' && (includeRetried || !j.retried));
        return page(filterScope(jobs, q).sort((x, y) => y.id - x.id).map((j) => P.job(base, world, j)));
      }
      if (parts.length === 5 && e === 'bridges') {
        const bridges = world.latestJobsOf(pipeline.id).filter((j) => j.kind === 'bridge');
        return page(filterScope(bridges, q).sort((x, y) => y.id - x.id).map((j) => P.bridge(base, world, j)));
      }
      return null;
    }
    if (c === 'jobs') {
      if (parts.length === 3) {
        const jobs = [...world.jobs.values()].filter((j) => j.projectId === project.id && j.kind === 'build');
        const sorted = filterScope(jobs, q).sort((x, y) => y.id - x.id);
        if (q.get('pagination') === 'keyset') return keysetPage(origin, pathname, q, sorted, (j) => P.job(base, world, j));
        return page(sorted.map((j) => P.job(base, world, j)));
      }
      if (parts.length === 4 || (parts.length === 5 && e === 'trace')) {
        // `find_build!`: builds of this project only, so a trigger job's trace is 404 too.
        const job = /^\d+$/.test(d ?? '') ? world.jobs.get(Number(d)) : undefined;
        if (!job || job.projectId !== project.id || job.kind !== 'build') return notFound('Not found');
        if (parts.length === 5) return traceReply(ctx, job);
        return { status: 200, body: P.job(base, world, job) };
      }
      return null;
    }
    if (c === 'runners' && parts.length === 3) {
      const runners = world.runners.filter((r) => world.runnerServes(r, project.id));
      return page(filterRunners(runners, q).map((r) => P.runnerListItem(world, r)));
    }
    return null;
  }

  if (a === 'groups' && b !== undefined) {
    if (b !== world.group && b !== String(world.groupId)) return notFound('Group Not Found');
    if (parts.length === 2) {
      return {
        status: 200,
        body: {
          id: world.groupId, name: world.group, path: world.group, full_name: world.group, full_path: world.group,
          description: '', visibility: 'private', parent_id: null, web_url: `${base.web}/groups/${world.group}`, avatar_url: null,
        },
      };
    }
    if (parts.length === 3 && c === 'projects') {
      // No subgroups in the simulated world, so include_subgroups changes nothing.
      return page(world.projects.map((p) => P.project(base, world, p)));
    }
    if (parts.length === 3 && c === 'runners') {
      const runners = world.runners.filter((r) => r.type !== 'project_type');
      return page(filterRunners(runners, q).map((r) => P.runnerListItem(world, r)));
    }
    return null;
  }

  if (a === 'runners') {
    if (parts.length === 1) {
      // Runners owned by the user: group and project runners (instance runners need /runners/all).
      const runners = world.runners.filter((r) => r.type !== 'instance_type');
      return page(filterRunners(runners, q).map((r) => P.runnerListItem(world, r)));
    }
    if (parts.length === 2 && b === 'all') return page(filterRunners(world.runners, q).map((r) => P.runnerListItem(world, r)));
    const runner = /^\d+$/.test(b ?? '') ? world.runner(Number(b)) : undefined;
    if (!runner) return notFound('Runner Not Found');
    if (parts.length === 2) return { status: 200, body: P.runnerDetail(base, world, runner) };
    if (parts.length === 3 && c === 'jobs') {
      const status = q.get('status');
      if (status && !['running', 'success', 'failed', 'canceled'].includes(status)) badParam('status');
      const sort = q.get('sort') ?? 'desc';
      const jobs = [...world.jobs.values()]
        .filter((j) => j.runnerId === runner.id && (!status || j.status === status))
        .sort((x, y) => (sort === 'asc' ? x.id - y.id : y.id - x.id));
      return page(jobs.map((j) => P.runnerJob(base, world, j)));
    }
    return null;
  }
  return null;
}

/**
 * `GET /projects/:id/jobs/:job_id/trace` (lib/api/ci/jobs.rb): the whole trace as text/plain, no
 * ranges; a build without a trace (not started, erased) answers 200 with an empty body
 * (`build.trace.raw || ''`), only an unknown job 404.
 */
function traceReply(ctx: RestContext, job: SimJob): Reply {
  ctx.logs?.forgetExcept((id) => ctx.world.jobs.has(id));
  const bytes = ctx.logs?.trace(job, ctx.now().getTime()) ?? Buffer.alloc(0);
  return { status: 200, body: bytes, headers: { 'content-disposition': `infile; filename="${job.id}.log"` } };
}

function actionContext(ctx: RestContext): ActionContext {
  return { world: ctx.world, base: ctx.base(), emit: (events) => ctx.emit?.(events) };
}

/** POST /api/v4/projects/:id/...: the actions (rest-actions.ts). */
function routeWrite(ctx: RestContext, pathname: string, q: Query, body: Record<string, unknown>): Reply | null {
  const parts = pathname.slice(PREFIX.length).split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] !== 'projects' || parts.length < 3) return null;
  return actionWrites(actionContext(ctx), findProject(ctx.world, parts[1] ?? ''), parts, q, body);
}

function findProject(world: World, id: string): SimProject {
  const p = /^\d+$/.test(id) ? world.project(Number(id)) : world.projectByPath(id.includes('/') ? id : '\0');
  return p ?? notFound('Project Not Found');
}

function findPipeline(world: World, project: SimProject, id: string): SimPipeline {
  const p = /^\d+$/.test(id) ? world.pipelines.get(Number(id)) : undefined;
  return p && p.projectId === project.id ? p : notFound('Not found');
}

function scopes(q: Query): string[] {
  return [...q.getAll('scope[]'), ...q.getAll('scope')].flatMap((s) => s.split(',')).filter(Boolean);
}

function filterScope(jobs: SimJob[], q: Query): SimJob[] {
  const wanted = scopes(q);
  for (const s of wanted) if (!STATUS_SET.has(s)) badParam('scope');
  return wanted.length === 0 ? jobs : jobs.filter((j) => wanted.includes(j.status));
}

function filterRunners(runners: SimRunner[], q: Query): SimRunner[] {
  let out = runners;
  const type = q.get('type');
  if (type) {
    if (!['instance_type', 'group_type', 'project_type'].includes(type)) badParam('type');
    out = out.filter((r) => r.type === type);
  }
  const status = q.get('status');
  if (status) {
    if (!['online', 'offline', 'stale', 'never_contacted', 'active', 'paused'].includes(status)) badParam('status');
    out = out.filter((r) => {
      if (status === 'active') return !r.paused;
      if (status === 'paused') return r.paused;
      if (status === 'online') return r.online && !r.stale && !r.neverContacted;
      // "offline" may also return stale runners (doc/api/runners.md).
      if (status === 'offline') return !r.online && !r.neverContacted;
      if (status === 'stale') return r.stale;
      return r.neverContacted;
    });
  }
  const paused = q.get('paused');
  if (paused === 'true' || paused === 'false') out = out.filter((r) => r.paused === (paused === 'true'));
  const tags = (q.get('tag_list') ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  if (tags.length > 0) out = out.filter((r) => tags.every((t) => r.tags.includes(t)));
  return out;
}

function listPipelines(world: World, project: SimProject, q: Query): SimPipeline[] {
  const source = q.get('source');
  // Child pipelines are listed only with source=parent_pipeline (GitLab 17.0+).
  let out = world.pipelinesOf(project.id).filter((p) => (source ? p.source === source : p.source !== 'parent_pipeline'));
  const scope = q.get('scope');
  if (scope) {
    if (!['running', 'pending', 'finished', 'branches', 'tags'].includes(scope)) badParam('scope');
    out = out.filter((p) =>
      scope === 'finished' ? COMPLETED.has(p.status) : scope === 'branches' ? !p.tag : scope === 'tags' ? p.tag : p.status === scope);
  }
  const status = q.get('status');
  if (status) {
    if (!STATUS_SET.has(status)) badParam('status');
    out = out.filter((p) => p.status === (status as Status));
  }
  const ref = q.get('ref');
  if (ref) out = out.filter((p) => p.ref === ref);
  const sha = q.get('sha');
  if (sha) out = out.filter((p) => p.sha === sha);
  const username = q.get('username');
  if (username) out = out.filter((p) => p.user.username === username);
  const name = q.get('name');
  if (name) out = out.filter((p) => p.name === name);
  const time = (key: string, field: 'createdAt' | 'updatedAt', after: boolean) => {
    const v = q.get(key);
    if (!v) return;
    const t = Date.parse(v);
    if (Number.isNaN(t)) badParam(key);
    out = out.filter((p) => (after ? Date.parse(p[field]) >= t : Date.parse(p[field]) <= t));
  };
  time('created_after', 'createdAt', true);
  time('created_before', 'createdAt', false);
  time('updated_after', 'updatedAt', true);
  time('updated_before', 'updatedAt', false);
  const orderBy = q.get('order_by') ?? 'id';
  if (!['id', 'status', 'ref', 'updated_at', 'user_id'].includes(orderBy)) badParam('order_by');
  const sort = q.get('sort') ?? 'desc';
  if (sort !== 'asc' && sort !== 'desc') badParam('sort');
  const key = (p: SimPipeline): string | number =>
    orderBy === 'status' ? p.status : orderBy === 'ref' ? p.ref : orderBy === 'updated_at' ? Date.parse(p.updatedAt) : orderBy === 'user_id' ? p.user.id : p.id;
  const dir = sort === 'asc' ? 1 : -1;
  return [...out].sort((x, y) => {
    const kx = key(x);
    const ky = key(y);
    return (kx < ky ? -1 : kx > ky ? 1 : x.id - y.id) * dir;
  });
}

function pageParams(q: Query): { perPage: number; page: number } {
  const rawPer = Number(q.get('per_page') ?? 20);
  const rawPage = Number(q.get('page') ?? 1);
  const perPage = Number.isFinite(rawPer) && rawPer >= 1 ? Math.min(100, Math.floor(rawPer)) : 20;
  const page = Number.isFinite(rawPage) && rawPage >= 1 ? Math.floor(rawPage) : 1;
  return { perPage, page };
}

/** Offset pagination with GitLab's headers; Link in GitLab's order: prev, next, first, last. */
export function offsetPage(origin: string, pathname: string, q: Query, items: unknown[]): Reply {
  const { perPage, page } = pageParams(q);
  const total = items.length;
  const totalPages = Math.max(1, Math.ceil(total / perPage));
  const link = (p: number, rel: string): string => {
    const params = new URLSearchParams(q);
    params.set('page', String(p));
    params.set('per_page', String(perPage));
    return `<${origin}${pathname}?${params.toString()}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page > 1) links.push(link(Math.min(page - 1, totalPages), 'prev'));
  if (page < totalPages) links.push(link(page + 1, 'next'));
  links.push(link(1, 'first'), link(totalPages, 'last'));
  return {
    status: 200,
    body: items.slice((page - 1) * perPage, page * perPage),
    headers: {
      link: links.join(', '),
      'x-page': String(page),
      'x-per-page': String(perPage),
      'x-total': String(total),
      'x-total-pages': String(totalPages),
      'x-next-page': page < totalPages ? String(page + 1) : '',
      'x-prev-page': page > 1 ? String(Math.min(page - 1, totalPages)) : '',
    },
  };
}

/**
 * Keyset pagination (`pagination=keyset&order_by=id&sort=desc`): only a
 * `Link rel="next"` (with an opaque `cursor`) while more items exist; no totals.
 */
function keysetPage(origin: string, pathname: string, q: Query, sorted: SimJob[], render: (j: SimJob) => unknown): Reply {
  if ((q.get('order_by') ?? 'id') !== 'id' || (q.get('sort') ?? 'desc') !== 'desc') {
    throw new HttpError(405, { message: '405 Method Not Allowed' });
  }
  const { perPage } = pageParams(q);
  const cursor = q.get('cursor');
  let before = Infinity;
  if (cursor) {
    try {
      const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { id?: unknown };
      if (typeof parsed.id !== 'number') throw new Error('bad cursor');
      before = parsed.id;
    } catch {
      badParam('cursor');
    }
  }
  const rest = sorted.filter((j) => j.id < before);
  const slice = rest.slice(0, perPage);
  const headers: Record<string, string> = { 'x-per-page': String(perPage) };
  const last = slice[slice.length - 1];
  if (last && rest.length > perPage) {
    const next = Buffer.from(JSON.stringify({ id: last.id, _kd: 'n' })).toString('base64url');
    const params = new URLSearchParams(q);
    params.delete('page');
    params.set('cursor', next);
    params.set('order_by', 'id');
    params.set('sort', 'desc');
    params.set('per_page', String(perPage));
    headers.link = `<${origin}${pathname}?${params.toString()}>; rel="next"`;
    headers['x-next-cursor'] = next;
  }
  return { status: 200, body: slice.map(render), headers };
}
