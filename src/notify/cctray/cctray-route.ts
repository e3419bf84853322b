import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AuditLog } from '../../audit/audit-log.ts';
import { isAuthError, type AuthError, type Identity } from '../../auth/types.ts';
import type { BackendRegistry } from '../../backend-registry.ts';
import type { HistoryReads } from '../../history/history-reads.ts';
import type { GatewayAuthentication } from '../../server/authentication.ts';
import type { GatewayRoute } from '../../server/gateway-plugin.ts';
import { auditIdentity } from '../../plugins/use-audit.ts';
import type { LiveState } from '../../state/live-state.ts';
import { credentialOf } from './cctray-credential.ts';
import { buildCctrayEntries, type FeedRun } from './cctray-entries.ts';
import { historyFinishedRuns } from './cctray-history.ts';
import { createProjectResolver } from './cctray-projects.ts';
import { CctrayQueryError, parseCctrayQuery } from './cctray-query.ts';
import { renderCctrayXml } from './cctray-xml.ts';

export const CCTRAY_PATHS: readonly string[] = ['/cc.xml', '/cctray.xml'];
/** How long a built feed is served again to the same scope and query. */
const FEED_TTL_MS = 2000;
const MAX_CACHED_FEEDS = 200;

export interface CctrayRouteDeps {
  readonly state: LiveState;
  readonly registry: BackendRegistry;
  /** The durable history: verdicts the live state no longer holds; null or disabled = live state only. */
  readonly history: HistoryReads | null;
  readonly authentication: GatewayAuthentication;
  /** Every read is audited, as GraphQL reads are (failed authentications are, by the authenticator). */
  readonly audit: AuditLog;
  readonly log: Logger;
  readonly now: () => Date;
}

/** Build monitors prompt for a user and password on Basic; API clients read the Bearer challenge. */
const CHALLENGES = ['Basic realm="switchyard", charset="UTF-8"', 'Bearer realm="switchyard"'];

function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

function sendAuthRefusal(res: ServerResponse, error: AuthError): void {
  sendText(res, error.status, `${error.message}\n`, {
    ...(error.status === 401 ? { 'www-authenticate': CHALLENGES } : {}),
    ...(error.retryAfterSeconds !== undefined ? { 'retry-after': String(error.retryAfterSeconds) } : {}),
  });
}

/** Whether `If-None-Match` names this entity tag (weak comparison, RFC 9110 §13.1.2). */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === bare);
}

/**
 * `GET /cc.xml` (and `/cctray.xml`): every pipeline the caller may see as a CCTray feed
 * (cctray.org/v1), for build monitors. Authenticated like /graphql (Bearer, X-Api-Key) and
 * with HTTP Basic (password = API key); scoped by the caller's grants; filtered by query
 * parameters (cctray-query.ts). The body is built from the live state (and the history for
 * verdicts it no longer holds); its ETag lets a monitor polling every few seconds get 304.
 */
export function createCctrayRoute(deps: CctrayRouteDeps): GatewayRoute {
  const nowMs = () => deps.now().getTime();
  const finishedRuns = historyFinishedRuns(deps.history, deps.log, nowMs);
  const projects = createProjectResolver(deps.state, deps.registry, deps.log, nowMs);

  async function feedFor(identity: Identity, url: URL): Promise<{ xml: string; projects: number }> {
    const visible = (name: string) => deps.registry.get(name) !== undefined && identity.scope.allowsBackend(name);
    const filter = parseCctrayQuery(url.searchParams, visible);
    const backends = deps.registry.all().map((b) => b.name).filter(visible);
    const wanted = new Set(filter.backends ?? backends);
    const fromHistory = (await finishedRuns.latest(deps.registry.all().map((b) => b.name))).filter((r) => wanted.has(r.backend));
    const runs = new Map<string, FeedRun>();
    for (const run of fromHistory) runs.set(`${run.backend}\u0000${run.nativeId}`, run);
    // The live state wins over the history: it is the newer observation of the same pipeline. One pass over the state.
    for (const run of deps.state.all('Pipeline')) {
      if (wanted.has(run.backend)) runs.set(`${run.backend}\u0000${run.nativeId}`, run);
    }
    await projects.ensure([...runs.values()]);
    const entries = buildCctrayEntries({
      runs: runs.values(),
      projectOf: (backend, id) => deps.state.get('Project', backend, id) ?? null,
      allowed: (backend, id, fullName) => identity.scope.allowsProject(backend, [fullName, id]),
      filter,
    });
    return { xml: renderCctrayXml(entries), projects: entries.length };
  }

  /**
   * Many monitors poll the same feed every few seconds and a large live state takes a while to
   * walk: a feed built for a scope and query serves the same again for `FEED_TTL_MS` (concurrent
   * requests share one build). Keyed by the scope's canonical key: equal keys see the same.
   */
  const built = new Map<string, { at: number; feed: Promise<{ xml: string; projects: number }> }>();
  function cachedFeed(identity: Identity, url: URL): Promise<{ xml: string; projects: number }> {
    const key = `${identity.scope.key}\u0000${url.search}`;
    const now = nowMs();
    const hit = built.get(key);
    if (hit && now - hit.at < FEED_TTL_MS) return hit.feed;
    for (const [k, v] of built) if (now - v.at >= FEED_TTL_MS || built.size >= MAX_CACHED_FEEDS) built.delete(k);
    const feed = feedFor(identity, url);
    built.set(key, { at: now, feed });
    feed.catch(() => built.delete(key));
    return feed;
  }

  function audit(identity: Identity, url: URL, status: number, projects: number | null, startedAt: number): void {
    try {
      deps.audit.append({ kind: 'feed', identity: auditIdentity(identity), path: url.pathname, query: url.search.slice(0, 500), status, projects, durationMs: Date.now() - startedAt });
    } catch (error) {
      deps.log.error({ err: error }, 'audit append failed');
    }
  }

  return {
    handles: (pathname) => CCTRAY_PATHS.includes(pathname),
    async handle(req: IncomingMessage, res: ServerResponse, url: URL) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'cc.xml answers GET and HEAD\n', { allow: 'GET, HEAD' });
      const startedAt = Date.now();
      const identity = await deps.authentication.credential(credentialOf(req), { transport: 'http', remoteAddress: req.socket.remoteAddress ?? null });
      if (isAuthError(identity)) return sendAuthRefusal(res, identity);
      let feed: { xml: string; projects: number };
      try {
        feed = await cachedFeed(identity, url);
      } catch (error) {
        if (!(error instanceof CctrayQueryError)) throw error;
        audit(identity, url, 400, null, startedAt);
        return sendText(res, 400, `${error.message}\n`);
      }
      const { xml } = feed;
      // The tag is the body's: it changes when anything shown changes. `private`: the body depends on the caller's scope.
      const etag = `"${createHash('sha256').update(xml).digest('base64url').slice(0, 27)}"`;
      const headers = { etag, 'cache-control': 'private, no-cache', vary: 'Authorization, X-Api-Key' };
      const unchanged = matchesEtag(req.headers['if-none-match'], etag);
      audit(identity, url, unchanged ? 304 : 200, feed.projects, startedAt);
      if (unchanged) {
        res.writeHead(304, headers);
        return void res.end();
      }
      res.writeHead(200, { ...headers, 'content-type': 'application/xml; charset=utf-8', 'content-length': Buffer.byteLength(xml) });
      res.end(req.method === 'HEAD' ? undefined : xml);
    },
  };
}
