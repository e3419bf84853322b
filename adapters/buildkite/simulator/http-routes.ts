/**
 * The routes of the REST v2 surface: organizations, pipelines, builds (org,
 * pipeline, and token-wide lists with filters), one build with its jobs, jobs,
 * job logs (JSON, raw text, HEAD for the size, Range for the tail), agents
 * (the list shows only connected and stopping ones), and the write actions.
 * Each answers Buildkite's messages for what it refuses.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { headerTimes } from './job-logs.ts';
import * as P from './payloads.ts';
import { type BuildState, type SimBuild, type SimCreator } from './world-entities.ts';
import { SimRefusal } from './world.ts';
import type { HttpContext, Scope } from './http.ts';
import { ACTORS } from './world-seed.ts';

export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export interface RouteInput {
  readonly ctx: HttpContext;
  readonly method: string;
  readonly url: URL;
  readonly body: unknown;
  readonly headers: IncomingHttpHeaders;
  /** Throws the 403 when the token lacks `scope`. */
  readonly allow: (scope: Scope) => void;
}

const BUILD_STATES = new Set(['creating', 'scheduled', 'running', 'passed', 'failing', 'failed', 'blocked', 'canceling', 'canceled', 'skipped', 'not_run', 'finished']);
const notFound = (what = 'Not Found'): never => {
  throw new SimRefusal(404, what);
};

export function routeRequest(r: RouteInput): Reply {
  const { ctx, method, url } = r;
  const parts = url.pathname.replace(/\/+$/, '').split('/').slice(1).map(decodeURIComponent);
  if (parts[0] !== 'v2') notFound();
  const [, top, org, kind, id, sub, number, sub2, jobId, action] = parts;
  const get = method === 'GET' || method === 'HEAD';

  if (top === 'builds' && parts.length === 2 && get) {
    r.allow('read_builds');
    return listBuilds(r, ctx.world.allBuilds());
  }
  if (top !== 'organizations') notFound();
  if (org === undefined) {
    return { status: 200, body: [orgJson(r)] };
  }
  if (org !== ctx.world.organization) notFound('No organization found');
  if (kind === undefined) return { status: 200, body: orgJson(r) };

  if (kind === 'pipelines') {
    if (id === undefined && get) {
      r.allow('read_pipelines');
      return paginate(r, ctx.world.pipelines, (p) => P.pipelineJson(ctx.base(), p, ctx.world));
    }
    const pipeline = ctx.world.pipeline(id ?? '') ?? notFound('No pipeline found');
    if (sub === undefined && get) {
      r.allow('read_pipelines');
      return { status: 200, body: P.pipelineJson(ctx.base(), pipeline, ctx.world) };
    }
    if (sub !== 'builds') notFound();
    if (number === undefined) {
      if (get) {
        r.allow('read_builds');
        return listBuilds(r, [...(ctx.world.builds.get(pipeline.slug) ?? [])].reverse());
      }
      if (method === 'POST') {
        r.allow('write_builds');
        return createBuild(r, pipeline.slug);
      }
      notFound();
    }
    const build = (/^\d+$/.test(number!) ? ctx.world.build(pipeline.slug, Number(number)) : undefined) ?? notFound('No build found');
    if (sub2 === undefined && get) {
      r.allow('read_builds');
      return { status: 200, body: buildBody(r, build) };
    }
    if (sub2 === 'cancel' && method === 'PUT' && jobId === undefined) {
      r.allow('write_builds');
      ctx.emit(ctx.world.cancel(build, actor(r)));
      return { status: 200, body: buildBody(r, build) };
    }
    if (sub2 === 'rebuild' && method === 'PUT' && jobId === undefined) {
      r.allow('write_builds');
      const made = ctx.world.rebuild(build, actor(r));
      ctx.emit(made.events);
      return { status: 200, body: buildBody(r, made.build) };
    }
    if (sub2 === 'jobs' && jobId !== undefined) {
      const found = ctx.world.job(jobId);
      if (!found || found.build !== build) notFound('No job found');
      return jobRoute(r, found!.build, found!.job.id, action, parts.length > 10);
    }
    notFound();
  }

  if (kind === 'builds' && id === undefined && get) {
    r.allow('read_builds');
    return listBuilds(r, ctx.world.allBuilds());
  }

  if (kind === 'jobs' && id !== undefined) {
    const found = ctx.world.job(id) ?? notFound('No job found');
    return jobRoute(r, found.build, found.job.id, sub, parts.length > 6);
  }

  if (kind === 'agents') {
    if (id === undefined && get) {
      r.allow('read_agents');
      const q = url.searchParams;
      // Only connected and stopping agents are listed (reference §1.3); others are fetched by id.
      const agents = ctx.world.agents.filter((a) => (a.connectionState === 'connected' || a.connectionState === 'stopping')
        && (!q.get('name') || a.name.includes(q.get('name')!)) && (!q.get('hostname') || a.hostname === q.get('hostname'))
        && (!q.get('version') || a.version === q.get('version')));
      return paginate(r, agents, (a) => P.agentJson(ctx.base(), a, ctx.world));
    }
    const agent = ctx.world.agent(id ?? '') ?? notFound('No agent found');
    if (sub === undefined && get) {
      r.allow('read_agents');
      return { status: 200, body: P.agentJson(ctx.base(), agent, ctx.world) };
    }
    notFound();
  }
  return notFound();
}

function orgJson(r: RouteInput): Record<string, unknown> {
  const b = r.ctx.base();
  return {
    id: '2f9b8d46-1f69-4d4e-8e53-5d0f0e0d1a01', graphql_id: 'T3JnYW5pemF0aW9uLS0tMmY5YjhkNDY=',
    url: `${b.api}/organizations/${b.org}`, web_url: `${b.web}/${b.org}`, name: b.org.toUpperCase(), slug: b.org,
    pipelines_url: `${b.api}/organizations/${b.org}/pipelines`, agents_url: `${b.api}/organizations/${b.org}/agents`,
    emojis_url: `${b.api}/organizations/${b.org}/emojis`, created_at: '2019-04-01T09:00:00.000Z',
  };
}

/** Who performed an action: a fixed person per simulator (the token's user). */
function actor(_r: RouteInput): SimCreator {
  return ACTORS[0]!;
}

function buildBody(r: RouteInput, build: SimBuild): Record<string, unknown> {
  const q = r.url.searchParams;
  return P.buildJson(r.ctx.base(), build, r.ctx.world, {
    jobs: q.get('exclude_jobs') === 'true' ? 'none' : q.get('include_retried_jobs') === 'true' ? 'all' : 'current',
    pipeline: q.get('exclude_pipeline') !== 'true',
  });
}

function jobRoute(r: RouteInput, build: SimBuild, id: string, action: string | undefined, deeper: boolean): Reply {
  const { ctx, method } = r;
  const job = ctx.world.job(id)!.job;
  const get = method === 'GET' || method === 'HEAD';
  if (deeper) notFound();
  if (action === undefined && get) {
    r.allow('read_builds');
    return { status: 200, body: P.jobJson(ctx.base(), build, job, ctx.world) };
  }
  if ((action === 'log' || action === 'log.txt') && get) {
    r.allow('read_build_logs');
    const nowMs = ctx.now().getTime();
    const bytes = ctx.logs.read(job, nowMs) ?? Buffer.alloc(0);
    const raw = action === 'log.txt' || /text\/plain/.test(String(r.headers.accept ?? ''));
    if (!raw) {
      const content = bytes.toString('utf8');
      const url = `${P.buildUrl(ctx.base(), build)}/jobs/${job.id}/log`;
      return { status: 200, body: { url, content, size: bytes.length, header_times: headerTimes(content) } };
    }
    const range = /^bytes=-(\d+)$/.exec(String(r.headers.range ?? ''));
    if (range && bytes.length > 0) {
      const n = Math.min(bytes.length, Number(range[1]));
      return {
        status: 206, body: bytes.subarray(bytes.length - n),
        headers: { 'content-range': `bytes ${bytes.length - n}-${bytes.length - 1}/${bytes.length}` },
      };
    }
    return { status: 200, body: bytes };
  }
  if (action === 'retry' && method === 'PUT') {
    r.allow('write_builds');
    const done = ctx.world.retry(build, job, actor(r));
    ctx.emit(done.events);
    return { status: 200, body: P.jobJson(ctx.base(), build, done.job, ctx.world) };
  }
  if (action === 'unblock' && method === 'PUT') {
    r.allow('write_builds');
    const body = (r.body ?? {}) as { unblocker?: unknown; fields?: unknown };
    const fields = body.fields && typeof body.fields === 'object' ? Object.fromEntries(Object.entries(body.fields).map(([k, v]) => [k, String(v)])) : null;
    const who = typeof body.unblocker === 'string' ? ACTORS.find((a) => a.id === body.unblocker || a.email === body.unblocker) ?? actor(r) : actor(r);
    // The job's type and state are judged first (world.unblock), the fields of a blocked block step after.
    const checked = job.type === 'manual' && job.state === 'blocked' ? ctx.world.checkFields(job, fields) : fields;
    ctx.emit(ctx.world.unblock(build, job, who, checked));
    return { status: 200, body: P.jobJson(ctx.base(), build, job, ctx.world) };
  }
  return notFound();
}

function createBuild(r: RouteInput, slug: string): Reply {
  const { ctx } = r;
  const body = (r.body ?? {}) as Record<string, unknown>;
  const errors: { field: string; code: string }[] = [];
  if (typeof body.commit !== 'string' || body.commit === '') errors.push({ field: 'commit', code: 'missing_field' });
  if (typeof body.branch !== 'string' || body.branch === '') errors.push({ field: 'branch', code: 'missing_field' });
  if (errors.length > 0) {
    throw new SimRefusal(422, `Validation failed: ${errors.map((e) => `${e.field[0]!.toUpperCase()}${e.field.slice(1)} can't be blank`).join(', ')}`, errors);
  }
  const strings = (v: unknown): Record<string, string> => (v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)])) : {});
  const made = ctx.world.createBuild(ctx.world.findPipeline(slug), {
    commit: body.commit === 'HEAD' ? ctx.world.random.hex(40) : String(body.commit),
    branch: String(body.branch),
    message: typeof body.message === 'string' ? body.message : '',
    env: strings(body.env),
    metaData: strings(body.meta_data),
    source: 'api',
    creator: actor(r),
  });
  ctx.emit(made.events);
  return { status: 201, body: buildBody(r, made.build) };
}

function listBuilds(r: RouteInput, newestFirst: readonly SimBuild[]): Reply {
  const q = r.url.searchParams;
  const states = [...q.getAll('state[]'), ...q.getAll('state')].flatMap((s) => s.split(',')).filter(Boolean);
  for (const s of states) {
    if (!BUILD_STATES.has(s)) throw new SimRefusal(422, `Invalid state: ${s}`);
  }
  const wanted = new Set<BuildState>(states.flatMap((s) => (s === 'finished' ? ['passed', 'failed', 'blocked', 'canceled'] : [s])) as BuildState[]);
  const branches = [...q.getAll('branch[]'), ...q.getAll('branch')];
  const commits = [...q.getAll('commit[]'), ...q.getAll('commit')];
  const time = (name: string): number | null => {
    const v = q.get(name);
    if (v === null) return null;
    const t = Date.parse(v);
    if (Number.isNaN(t)) throw new SimRefusal(422, `${name} must be a valid ISO 8601 date`);
    return t;
  };
  const createdFrom = time('created_from');
  const createdTo = time('created_to');
  const finishedFrom = time('finished_from');
  const metaFilters = [...q.entries()].flatMap(([k, v]) => {
    const m = /^meta_data\[(.+)\]$/.exec(k);
    return m ? [[m[1]!, v] as const] : [];
  });
  const creator = q.get('creator');
  const matches = newestFirst.filter((b) => {
    // A blocked build is `passed` + blocked in REST; `state=blocked` finds it too.
    if (wanted.size > 0 && !wanted.has(b.state) && !(b.blocked && wanted.has('blocked'))) return false;
    if (branches.length > 0 && !branches.some((p) => wildcard(p).test(b.branch))) return false;
    if (commits.length > 0 && !commits.some((c) => b.commit.startsWith(c))) return false;
    if (createdFrom !== null && b.createdAt < createdFrom) return false;
    if (createdTo !== null && b.createdAt >= createdTo) return false;
    if (finishedFrom !== null && (b.finishedAt === null || b.finishedAt < finishedFrom)) return false;
    if (creator !== null && b.creator?.id !== creator) return false;
    return metaFilters.every(([k, v]) => b.metaData[k] === v);
  });
  return paginate(r, matches, (b) => buildBody(r, b));
}

function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/** `page` (default 1) and `per_page` (default 30, at most 100); Link rel next/prev/first/last, no totals. */
function paginate<T>(r: RouteInput, items: readonly T[], render: (t: T) => unknown): Reply {
  const q = r.url.searchParams;
  const perPage = Math.min(100, Math.max(1, Number.parseInt(q.get('per_page') ?? '30', 10) || 30));
  const page = Math.max(1, Number.parseInt(q.get('page') ?? '1', 10) || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const link = (n: number, rel: string): string => {
    const u = new URL(`${r.ctx.base().api}${r.url.pathname.slice('/v2'.length)}`);
    for (const [k, v] of q) if (k !== 'page') u.searchParams.append(k, v);
    u.searchParams.set('page', String(n));
    return `<${u.toString()}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page > 1) links.push(link(Math.min(page - 1, last), 'prev'));
  if (page < last) links.push(link(page + 1, 'next'));
  if (page > 1) links.push(link(1, 'first'));
  if (page < last) links.push(link(last, 'last'));
  const body = items.slice((page - 1) * perPage, page * perPage).map(render);
  return { status: 200, body, headers: links.length > 0 ? { link: links.join(', ') } : {} };
}

