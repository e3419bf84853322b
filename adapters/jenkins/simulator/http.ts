/**
 * The HTTP surface: routing over Jenkins' URL space (`/job/a/job/b/5/…`),
 * HTTP Basic API-token auth, the CSRF crumb, `tree=`/`depth=` on every
 * `api/json`, the wfapi endpoints, Jetty-style error pages, `X-Jenkins`
 * headers, fault injection and a precise request log.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  faultHeaders, injectFault, type FaultScope, type SimFault as Fault, type SimRequestRecord as RequestRecord,
} from '../../../sim-kit/sim-faults.ts';
import type { BuildConsoles } from './console-log.ts';
import * as X from './exports.ts';
import { byDepth, byTree, ExportNode, parseTree, serialize, TreeSyntaxError, type Pruner } from './tree.ts';
import {
  buildUrl, fullName as fullNameOf, isJob,
  type InputSpec, type PhaseEvent, type SimBuild, type SimContainer, type SimItem, type SimJob, type SimParamValue, type SimQueueItem,
} from './world-entities.ts';
import { defaultParams } from './world-lifecycle.ts';
import type { World } from './world.ts';

export type { Fault, RequestRecord };

export interface HttpContext extends FaultScope {
  readonly world: World;
  /** Jenkins root URL with trailing slash. */
  readonly root: () => string;
  readonly user: string | undefined;
  readonly apiToken: string | undefined;
  /** More accounts (each with its API token and what the authorization strategy grants it). */
  readonly users?: readonly SimUser[];
  /** Records who each request authenticated as (null: anonymous). */
  readonly recordAuth?: (r: AuthRecord) => void;
  /**
   * The controller keeps no HTTP session between requests (e.g. a load balancer without
   * stickiness): a crumb is bound to a session the next request does not find, so it never validates.
   */
  readonly forgetSessions?: () => boolean;
  /** true: POSTs without API-token auth need a crumb; 'always': even token-authenticated ones (Jenkins < 2.96). */
  readonly requireCrumb: boolean | 'always';
  readonly sessionId: string;
  /** A build transition caused over HTTP (stop, input abort); the host sends its notifications. */
  readonly emit: (events: readonly PhaseEvent[]) => void;
  /** The stage view's `JobExt.maxRunsPerJob` system property (default 10). */
  readonly maxRunsPerJob?: number;
  /** Build consoles (progressiveText, consoleText). */
  readonly consoles: BuildConsoles;
}

/** A Jenkins account: its API token and the permissions the authorization strategy grants it. */
export interface SimUser {
  readonly name: string;
  readonly apiToken: string;
  /** Overall/Read and Job/Read are implied. 'admin' is Overall/Administer (everything, any input). */
  readonly permissions: readonly ('build' | 'cancel' | 'admin')[];
}

export interface AuthRecord {
  readonly method: string;
  readonly path: string;
  readonly user: string | null;
  readonly crumb: boolean;
  /** Set when authentication failed (`user` is then the claimed name, or null for anonymous). */
  readonly refused?: 'anonymous' | 'invalid-token';
}

type Permission = 'build' | 'cancel';
const PERMISSION = {
  build: { title: 'Job/Build', id: 'hudson.model.Item.Build' },
  cancel: { title: 'Job/Cancel', id: 'hudson.model.Item.Cancel' },
} as const;

/** Who a request is, for the endpoints that check permissions. */
interface Caller {
  readonly name: string | null;
  readonly permissions: readonly ('build' | 'cancel' | 'admin')[];
}

interface Reply {
  status: number;
  body: string | Buffer;
  type?: string;
  headers?: Record<string, string>;
}

const JSON_TYPE = 'application/json;charset=utf-8';
const HTML_TYPE = 'text/html;charset=utf-8';
const PERMALINKS = new Set([
  'lastBuild', 'lastCompletedBuild', 'lastFailedBuild', 'lastStableBuild', 'lastSuccessfulBuild',
  'lastUnstableBuild', 'lastUnsuccessfulBuild', 'firstBuild',
]);

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/** Jetty's error page, which is what Jenkins answers for unknown URLs. */
export function errorPage(status: number, uri: string, message: string): string {
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>\n<title>Error ${status} ${esc(message)}</title>\n</head>\n<body>\n<h2>HTTP ERROR ${status} ${esc(message)}</h2>\n<table>\n<tr><th>URI:</th><td>${esc(uri)}</td></tr>\n<tr><th>STATUS:</th><td>${status}</td></tr>\n<tr><th>MESSAGE:</th><td>${esc(message)}</td></tr>\n<tr><th>SERVLET:</th><td>Stapler</td></tr>\n</table>\n<hr/><a href="https://jetty.org/">Powered by Jetty:// 12.0.16</a><hr/>\n\n</body>\n</html>\n`;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function crumbFor(sessionId: string, session: string): string {
  return createHash('sha256').update(`${sessionId}:${session}`).digest('hex');
}

export function createHttpHandler(ctx: HttpContext): (req: IncomingMessage, res: ServerResponse) => void {
  let sessions = 0;
  const cookieName = `JSESSIONID.${ctx.sessionId}`;
  const baseHeaders = (): Record<string, string> => ({
    'x-jenkins': X.JENKINS_VERSION,
    'x-jenkins-session': ctx.sessionId,
    'x-hudson': '1.395',
    'x-content-type-options': 'nosniff',
  });

  return (req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const send = (r: Reply): void => {
      ctx.record({ method, path, status: r.status });
      res.writeHead(r.status, {
        ...baseHeaders(),
        'content-type': r.type ?? JSON_TYPE,
        'content-length': String(Buffer.byteLength(r.body)),
        ...(r.headers ?? {}),
      });
      res.end(method === 'HEAD' ? undefined : r.body);
    };
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', () => res.destroy());

    const handle = (form: URLSearchParams): void => {
      const fault = injectFault(ctx, method, path, res);
      if (fault === 'held') return;
      if (fault) {
        const headers = faultHeaders(fault);
        const body = fault.body === undefined ? errorPage(fault.status, path, defaultMessage(fault.status))
          : typeof fault.body === 'string' ? fault.body : JSON.stringify(fault.body);
        send({ status: fault.status, body, type: typeof fault.body === 'object' ? JSON_TYPE : HTML_TYPE, headers });
        return;
      }

      const url = new URL(path, 'http://sim.invalid');
      try {
        // ---- authentication (HTTP Basic with an API token) ----
        let tokenAuth = false;
        let caller: Caller = { name: null, permissions: ['admin'] };
        if (ctx.apiToken !== undefined || (ctx.users?.length ?? 0) > 0) {
          const auth = req.headers.authorization ?? '';
          const m = /^Basic\s+(\S+)$/i.exec(auth);
          if (!m) {
            ctx.recordAuth?.({ method, path, user: null, crumb: false, refused: 'anonymous' });
            // Anonymous lacks Overall/Read: Jenkins answers 403, not 401.
            throw new HttpError(403, 'Forbidden', {
              'x-you-are-authenticated-as': 'anonymous',
              'x-you-are-in-group-disabled': 'JENKINS-39402: use -Dhudson.security.AccessDeniedException2.REPORT_GROUP_HEADERS=true or use /whoAmI to diagnose',
              'x-required-permission': 'hudson.model.Hudson.Read',
              'x-permission-implied-by': 'hudson.model.Hudson.Administer',
            });
          }
          const decoded = Buffer.from(m[1] ?? '', 'base64').toString('utf8');
          const colon = decoded.indexOf(':');
          const user = colon >= 0 ? decoded.slice(0, colon) : decoded;
          const token = colon >= 0 ? decoded.slice(colon + 1) : '';
          const account = [
            ...(ctx.apiToken !== undefined ? [{ name: ctx.user ?? user, apiToken: ctx.apiToken, permissions: ['admin'] as const }] : []),
            ...(ctx.users ?? []),
          ].find((u) => safeEqual(user, u.name) && safeEqual(token, u.apiToken));
          if (!account) {
            ctx.recordAuth?.({ method, path, user, crumb: false, refused: 'invalid-token' });
            throw new HttpError(401, `Invalid password/token for user: ${user}`, { 'www-authenticate': 'Basic realm="Jenkins"' });
          }
          tokenAuth = true;
          caller = { name: account.name, permissions: account.permissions };
        }

        // ---- CSRF crumb (session-bound, like DefaultCrumbIssuer) ----
        const cookies = parseCookies(req.headers.cookie);
        let session = cookies[cookieName];
        const setCookie: Record<string, string> = {};
        const ensureSession = (): string => {
          if (!session) {
            session = `node0${createHash('sha1').update(`${ctx.sessionId}:${++sessions}`).digest('hex').slice(0, 24)}${sessions}`;
            setCookie['set-cookie'] = `${cookieName}=${session}; Path=/; HttpOnly`;
          }
          return session;
        };
        const sentCrumb = headerValue(req.headers['jenkins-crumb']) ?? url.searchParams.get('.crumb') ?? '';
        ctx.recordAuth?.({ method, path, user: caller.name, crumb: sentCrumb !== '' });
        if (method === 'POST' && ctx.requireCrumb && (!tokenAuth || ctx.requireCrumb === 'always')) {
          const known = session !== undefined && !(ctx.forgetSessions?.() ?? false);
          if (!known || !safeEqual(sentCrumb, crumbFor(ctx.sessionId, session!))) {
            throw new HttpError(403, 'No valid crumb was included in the request');
          }
        }

        const reply = route(ctx, method, url, ensureSession, caller, form);
        send({ ...reply, headers: { ...(reply.headers ?? {}), ...setCookie } });
      } catch (err) {
        if (err instanceof HttpError) {
          send({ status: err.status, body: errorPage(err.status, url.pathname, err.message), type: HTML_TYPE, headers: err.headers });
          return;
        }
        if (err instanceof TreeSyntaxError) {
          send({ status: 400, body: errorPage(400, url.pathname, err.message), type: HTML_TYPE });
          return;
        }
        if (err instanceof FailureError) {
          // hudson.model.Failure: AbstractModelObject/error.jelly, 400 with the message in X-Error.
          send({ status: 400, body: failurePage(err.message), type: HTML_TYPE, headers: { 'x-error': err.message } });
          return;
        }
        send({ status: 500, body: errorPage(500, url.pathname, 'Server Error'), type: HTML_TYPE });
      }
    };
  };
}

/** A user error Jenkins renders as its error page (hudson.model.Failure). */
class FailureError extends Error {}

function failurePage(message: string): string {
  const esc = message.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<!DOCTYPE html><html><head><title>Jenkins</title></head><body><div id="main-panel"><h1>Error</h1><p>${esc}</p></div></body></html>`;
}

/** AccessDeniedException3 as Jenkins renders it: 403 with the user and the missing permission. */
function requirePermission(caller: Caller, permission: Permission): void {
  if (caller.permissions.includes('admin') || caller.permissions.includes(permission)) return;
  const p = PERMISSION[permission];
  throw new HttpError(403, `${caller.name ?? 'anonymous'} is missing the ${p.title} permission`, {
    'x-you-are-authenticated-as': caller.name ?? 'anonymous',
    'x-required-permission': p.id,
    'x-permission-implied-by': 'hudson.model.Hudson.Administer',
  });
}

function hasPermission(caller: Caller, permission: Permission): boolean {
  return caller.permissions.includes('admin') || caller.permissions.includes(permission);
}

/** InputStepExecution.canSettle: the submitter list (user ids, case-insensitive), or Job/Build when none; admins always. */
function canSettle(caller: Caller, submitter: string | undefined): boolean {
  if (submitter === undefined) return hasPermission(caller, 'build');
  if (caller.permissions.includes('admin')) return true;
  const me = (caller.name ?? '').toLowerCase();
  return submitter.split(',').some((s) => s.trim().toLowerCase() === me);
}

/**
 * Parameter values of buildWithParameters: each defined parameter from the query or the form
 * (the definition's default when absent); undefined names are dropped, as Jenkins does since SECURITY-170.
 */
function requestParams(job: SimJob, q: URLSearchParams, form: URLSearchParams): SimParamValue[] {
  return job.params.map((d) => {
    const raw = form.get(d.name) ?? q.get(d.name);
    if (raw === null) return defaultParams([d])[0]!;
    if (d.type === 'boolean') return { name: d.name, type: d.type, value: raw.toLowerCase() === 'true' || raw === 'on' };
    if (d.type === 'choice' && !(d.choices ?? []).includes(raw)) {
      throw new HttpError(400, `Illegal choice for parameter ${d.name}: ${raw}`);
    }
    return { name: d.name, type: d.type, value: raw };
  });
}

/** The `json` form field of an input submission: `{"parameter":[{"name":…,"value":…}]}`. */
function inputParams(spec: InputSpec | null, form: URLSearchParams): SimParamValue[] {
  const defs = spec?.parameters ?? [];
  const raw = form.get('json');
  let submitted: { name?: unknown; value?: unknown }[] = [];
  if (raw !== null) {
    try {
      const parsed = JSON.parse(raw) as { parameter?: unknown };
      const p = parsed.parameter;
      submitted = (Array.isArray(p) ? p : p === undefined ? [] : [p]) as { name?: unknown; value?: unknown }[];
    } catch {
      throw new HttpError(400, 'Failed to parse JSON:' + raw.slice(0, 40));
    }
  }
  return submitted.map((entry) => {
    const def = defs.find((d) => d.name === entry.name);
    if (!def) throw new HttpError(500, `No such parameter definition: ${String(entry.name)}`);
    const value = def.type === 'boolean' ? entry.value === true || entry.value === 'true' : String(entry.value ?? '');
    return { name: def.name, type: def.type, value };
  });
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

function defaultMessage(status: number): string {
  switch (status) {
    case 500: return 'Server Error';
    case 502: return 'Bad Gateway';
    case 503: return 'Service Unavailable';
    case 504: return 'Gateway Timeout';
    case 429: return 'Too Many Requests';
    default: return 'Error';
  }
}

const notFound = (): never => {
  throw new HttpError(404, 'Not Found');
};

function api(node: ExportNode, q: URLSearchParams): Reply {
  const tree = q.get('tree');
  let pruner: Pruner;
  if (tree !== null) pruner = byTree(parseTree(tree));
  else {
    const depth = Number(q.get('depth') ?? 0);
    pruner = byDepth(Number.isInteger(depth) && depth >= 0 ? depth : 0);
  }
  const body = serialize(node, pruner);
  return json(body, q);
}

function json(body: unknown, q: URLSearchParams): Reply {
  const pretty = q.get('pretty') === 'true';
  return { status: 200, body: pretty ? JSON.stringify(body, null, 2) : JSON.stringify(body) };
}

function html(title: string): Reply {
  return { status: 200, type: HTML_TYPE, body: `<!DOCTYPE html><html><head><title>${title} [Jenkins]</title></head><body></body></html>` };
}

function route(ctx: HttpContext, method: string, url: URL, ensureSession: () => string, caller: Caller, form: URLSearchParams): Reply {
  const { world } = ctx;
  const xctx: X.Ctx = { root: ctx.root(), world };
  const q = url.searchParams;
  // Jetty rejects an encoded '/' inside a path segment.
  if (/%2f/i.test(url.pathname.replace(/%25/gi, ''))) throw new HttpError(400, 'Ambiguous URI path separator');
  let segs: string[];
  try {
    segs = url.pathname.split('/').slice(1).map(decodeURIComponent);
  } catch {
    throw new HttpError(400, 'Bad Request');
  }
  if (segs[segs.length - 1] === '') segs.pop();
  const get = method === 'GET' || method === 'HEAD';
  const post = method === 'POST';
  const is = (...want: string[]): boolean => segs.length === want.length && want.every((w, i) => w === segs[i]);
  world.refreshQueue();

  if (segs.length === 0 && get) return html('Dashboard');
  if (is('api', 'json') && get) return api(X.rootNode(xctx), q);
  if (is('crumbIssuer', 'api', 'json') && get) {
    const session = ensureSession();
    return api(
      new ExportNode('hudson.security.csrf.DefaultCrumbIssuer')
        .set('crumb', crumbFor(ctx.sessionId, session))
        .set('crumbRequestField', 'Jenkins-Crumb'),
      q,
    );
  }
  if (is('queue', 'api', 'json') && get) return api(X.queueNode(xctx), q);
  if (segs[0] === 'queue' && segs[1] === 'item' && segs.length === 5 && segs[3] === 'api' && segs[4] === 'json' && get) {
    const item = /^\d+$/.test(segs[2] ?? '') ? world.queue.get(Number(segs[2])) : undefined;
    return item ? api(X.queueItem(xctx, item), q) : notFound();
  }
  if (is('queue', 'cancelItem') && post) {
    // Queue.doCancelItem: only items still waiting are found (a LeftItem is not); Job/Cancel needed.
    const id = Number(q.get('id'));
    const item = world.queue.get(id);
    if (!item || item.state === 'left') return notFound();
    requirePermission(caller, 'cancel');
    world.cancel(id);
    return { status: 204, body: '', type: HTML_TYPE };
  }
  if (is('computer', 'api', 'json') && get) return api(X.computerSet(xctx), q);
  if (segs[0] === 'computer' && segs.length === 4 && segs[2] === 'api' && segs[3] === 'json' && get) {
    const c = world.computers.find((x) => X.computerUrlName(x) === segs[1]);
    return c ? api(X.computer(xctx, c), q) : notFound();
  }
  if (segs[0] !== 'job') return notFound();

  // ---- /job/a/job/b/... ----
  let container: SimContainer = world.root;
  let target: SimItem | undefined;
  let i = 0;
  while (segs[i] === 'job' && segs[i + 1] !== undefined && (target === undefined || !isJob(target))) {
    const child: SimItem | undefined = container.children.get(segs[i + 1] ?? '');
    if (!child) return notFound();
    target = child;
    if (!isJob(child)) container = child;
    i += 2;
  }
  if (!target) return notFound();
  const rest = segs.slice(i);
  const restIs = (...want: string[]): boolean => rest.length === want.length && want.every((w, k) => w === rest[k]);
  if (rest.length === 0 && get) return html(target.displayName);
  if (restIs('api', 'json') && get) return api(X.item(xctx, target), q);
  if (!isJob(target)) return notFound();
  const job = target;
  const pipeline = job.kind === 'pipeline';

  if ((restIs('build') || restIs('buildWithParameters'))) {
    if (!post) throw new HttpError(405, 'Method Not Allowed');
    requirePermission(caller, 'build');
    if (restIs('buildWithParameters') && job.params.length === 0) {
      throw new HttpError(400, `${fullNameOf(job)} is not parameterized`);
    }
    const params = job.params.length > 0 ? requestParams(job, q, form) : undefined;
    // An identical item already waiting absorbs the request (Queue.schedule2: same task, same parameters).
    const same = (w: SimQueueItem): boolean => w.job === job && JSON.stringify(w.spec.params ?? null) === JSON.stringify(params ?? null);
    const existing = world.waiting().find(same);
    const who = caller.name ?? ctx.user;
    const cause = who !== undefined && who !== null
      ? { cls: 'hudson.model.Cause$UserIdCause', shortDescription: `Started by user ${who}`, userId: who, userName: who }
      : { cls: 'hudson.model.Cause$UserIdCause', shortDescription: 'Started by anonymous user', userName: 'anonymous' };
    const item = existing ?? world.enqueue(job, { causes: [cause], ...(params ? { params } : {}) });
    return { status: 201, body: '', type: HTML_TYPE, headers: { location: `${ctx.root()}queue/item/${item.id}/` } };
  }
  if (pipeline && (restIs('wfapi') || restIs('wfapi', 'describe')) && get) return json(X.jobWfapi(job), q);
  if (pipeline && restIs('wfapi', 'runs') && get) return json(wfRuns(xctx, job, q.get('since'), fullStages(q), ctx.maxRunsPerJob ?? 10), q);

  const [sel, ...tail] = rest;
  if (sel === undefined) return notFound();
  const build = selectBuild(job, sel);
  if (!build) return notFound();
  const tailIs = (...want: string[]): boolean => tail.length === want.length && want.every((w, k) => w === tail[k]);
  if (tail.length === 0 && get) return html(`${job.displayName} #${build.number}`);
  if (tailIs('api', 'json') && get) return api(X.build(xctx, build), q);
  if (tailIs('consoleText') && get) {
    ctx.consoles.countRequest(build);
    return { status: 200, type: 'text/plain;charset=utf-8', body: ctx.consoles.text(build, world.time()) };
  }
  if (tailIs('logText', 'progressiveText') && get) return progressiveText(ctx, build, q);
  if (tailIs('stop') && post) {
    // Executor.doStop / WorkflowRun.doStop: Job/Cancel; a finished build is left alone, and the answer is the same redirect.
    requirePermission(caller, 'cancel');
    ctx.emit(world.stop(build));
    return { status: 302, body: '', type: HTML_TYPE, headers: { location: `${ctx.root()}${buildUrl(build)}` } };
  }
  if (!pipeline) return notFound();
  if ((tailIs('term') || tailIs('kill')) && post) {
    // WorkflowRun.doTerm / doKill: void methods (200, empty), nothing done once the build finished.
    requirePermission(caller, 'cancel');
    ctx.emit(tail[0] === 'term' ? world.term(build) : world.kill(build));
    return { status: 200, body: '', type: HTML_TYPE };
  }
  if ((tailIs('wfapi') || tailIs('wfapi', 'describe')) && get) return json(X.runJson(xctx, build, fullStages(q)), q);
  if (tailIs('wfapi', 'pendingInputActions') && get) return json(X.pendingInputs(build), q);
  if (tailIs('wfapi', 'nextPendingInputAction') && get) return json(X.pendingInputs(build)[0] ?? null, q);
  const paused = build.stages.find((s) => s.status === 'PAUSED_PENDING_INPUT' && s.inputId !== null);
  const inputId = (): string | null => paused?.inputId ?? null;
  const submitter = paused?.inputSpec?.submitter;
  // InputStepExecution.preSubmissionCheck / preAbortCheck.
  const checkSubmit = (): void => {
    if (canSettle(caller, submitter)) return;
    throw new FailureError(submitter !== undefined ? `You need to be ${submitter} to submit this.` : 'You need to have Job/Build permissions to submit this.');
  };
  const checkAbort = (): void => {
    if (hasPermission(caller, 'cancel') || canSettle(caller, submitter)) return;
    throw new FailureError(submitter !== undefined ? `You need to be '${submitter}' (or have Job/Cancel permissions) to cancel this.` : 'You need to have Job/Cancel permissions to cancel this.');
  };
  const proceed = (params: SimParamValue[]): void => {
    world.approve(build, { approver: caller.name, params });
  };
  if (tailIs('wfapi', 'inputSubmit') && post) {
    if (!inputId() || q.get('inputId') !== inputId()) return notFound();
    checkSubmit();
    proceed(inputParams(paused?.inputSpec ?? null, form));
    return { status: 200, body: '', type: HTML_TYPE };
  }
  if (tail[0] === 'input' && tail.length === 3 && post) {
    // InputAction.getDynamic(id): a settled input is gone, so its URLs answer 404.
    if (!inputId() || tail[1] !== inputId()) return notFound();
    const ok = { status: 200, body: '', type: HTML_TYPE };
    switch (tail[2]) {
      case 'proceedEmpty':
        checkSubmit();
        proceed([]);
        return ok;
      case 'proceed':
        checkSubmit();
        proceed(inputParams(paused?.inputSpec ?? null, form));
        return ok;
      case 'abort':
        checkAbort();
        ctx.emit(world.abortInput(build));
        return ok;
      case 'submit':
        // The form's buttons: `proceed` present → proceed with `json`; otherwise abort; then back to the console.
        if (form.get('proceed') !== null) {
          checkSubmit();
          proceed(inputParams(paused?.inputSpec ?? null, form));
        } else {
          checkAbort();
          ctx.emit(world.abortInput(build));
        }
        return { status: 302, body: '', type: HTML_TYPE, headers: { location: `${ctx.root()}${buildUrl(build)}console` } };
      default:
        return notFound();
    }
  }
  if (tail[0] === 'execution' && tail[1] === 'node' && tail.length === 5 && tail[3] === 'wfapi' && tail[4] === 'describe' && get) {
    const id = tail[2];
    const stage = build.stages.find((s) => s.id === id);
    if (stage) return json(X.stageJson(xctx, build, stage, true), q);
    for (const s of build.stages) {
      const node = s.steps.find((n) => n.id === id);
      if (node) {
        const describe = X.stageJson(xctx, build, s, true);
        const flow = (describe.stageFlowNodes as Record<string, unknown>[]).find((n) => n.id === id);
        return json(flow, q);
      }
    }
    return notFound();
  }
  return notFound();
}

function selectBuild(job: SimJob, sel: string): SimBuild | undefined {
  if (/^\d+$/.test(sel)) return job.builds.find((b) => b.number === Number(sel));
  if (!PERMALINKS.has(sel)) return undefined;
  const newest = [...job.builds].reverse();
  const done = (b: SimBuild): boolean => !b.building;
  switch (sel) {
    case 'lastBuild': return newest[0];
    case 'firstBuild': return job.builds[0];
    case 'lastCompletedBuild': return newest.find(done);
    case 'lastFailedBuild': return newest.find((b) => done(b) && b.result === 'FAILURE');
    case 'lastStableBuild': return newest.find((b) => done(b) && b.result === 'SUCCESS');
    case 'lastSuccessfulBuild': return newest.find((b) => done(b) && (b.result === 'SUCCESS' || b.result === 'UNSTABLE'));
    case 'lastUnstableBuild': return newest.find((b) => done(b) && b.result === 'UNSTABLE');
    default: return newest.find((b) => done(b) && b.result !== 'SUCCESS');
  }
}

/**
 * JobAPI.doRuns (pipeline-stage-view 2.x, JobExt.create): newest first, at most
 * `maxRunsPerJob` runs (the plugin's system property, default 10; there is no
 * offset, so older runs are only reachable one by one); `since=<run name>`
 * stops at that run, inclusive (the name is the run's display name, `#N` by
 * default); `fullStages=true` keeps each stage's `stageFlowNodes`.
 */
function wfRuns(ctx: X.Ctx, job: SimJob, since: string | null, withNodes: boolean, maxRuns: number): unknown[] {
  const out: Record<string, unknown>[] = [];
  const stop = since?.trim() || null;
  for (const b of [...job.builds].reverse()) {
    if (out.length >= maxRuns) break;
    const run = X.runJson(ctx, b, withNodes);
    out.push(run);
    if (stop !== null && run.name === stop) break;
  }
  return out;
}

/** Stapler binds `@QueryParameter boolean` with Boolean.parseBoolean: only "true" (any case) is true. */
function fullStages(q: URLSearchParams): boolean {
  return (q.get('fullStages') ?? '').toLowerCase() === 'true';
}

/** AnnotatedLargeText.doProgressiveText: `start` as Long.parseLong reads it (anything else fails with 500). */
function progressiveText(ctx: HttpContext, build: SimBuild, q: URLSearchParams): Reply {
  const raw = q.get('start') ?? '0';
  if (!/^[+-]?[0-9]{1,18}$/.test(raw)) throw new HttpError(500, 'Server Error');
  ctx.consoles.countRequest(build);
  const answer = ctx.consoles.progressive(build, Math.max(0, Number(raw)), ctx.world.time());
  return {
    status: 200,
    type: 'text/plain;charset=utf-8',
    body: answer.body,
    headers: { 'x-text-size': String(answer.textSize), ...(answer.moreData ? { 'x-more-data': 'true' } : {}) },
  };
}
