import { RateLimitWait } from '../../src/adapter-kit/rate-limit-wait.ts';
import { Octokit } from '@octokit/rest';
import { ConcurrencyLimit } from '../../src/adapter-kit/concurrency-limit.ts';
import { SharedRequests } from '../../src/adapter-kit/shared-requests.ts';
import type { RateLimitReporter } from '../../src/adapter-contract.ts';
import { ErrorCode, UpstreamError } from '../../src/errors.ts';
import { toUpstreamError } from './errors.ts';

/**
 * The only place that talks HTTP to GitHub. Every request:
 * - pins the REST version and times out (AbortSignal.timeout);
 * - is conditional when we hold an ETag for the same route+params, so an
 *   unchanged resource costs a 304 that GitHub does not count against the
 *   primary rate limit (Octokit throws a RequestError(304); we serve the cache);
 * - reports x-ratelimit-* to the core (success and failure are counted by the
 *   core's policy, once per operation);
 * - is cancelled by the read's AbortSignal, also while queued for a slot;
 * - fails only with UpstreamError (no token, no query strings in messages).
 * Identical GETs in flight at the same time share one request, cancelled only
 * when every read waiting for it was.
 */
export const GITHUB_API_VERSION = '2022-11-28';

export type Params = Readonly<Record<string, string | number | boolean | undefined>>;

export interface GithubResponse<T> {
  readonly data: T;
  readonly notModified: boolean;
  /** rel="next" was present. */
  readonly hasNextPage: boolean;
}

export interface ClientStats {
  requests: number;
  notModified: number;
  errors: number;
}

export interface GithubClientOptions {
  readonly backend: string;
  readonly baseUrl: string;
  readonly token: string | undefined;
  readonly timeoutMs: number;
  readonly health: RateLimitReporter;
  readonly now: () => Date;
  readonly log?: { warn(obj: object, msg?: string): void; debug(obj: object, msg?: string): void };
  /** Max concurrent requests (GitHub's secondary limit is 100 shared). */
  readonly concurrency?: number;
  /** Max ETag cache entries (least recently used are dropped). */
  readonly cacheEntries?: number;
  /** For tests and simulators. */
  readonly fetch?: typeof fetch;
}

interface CacheEntry {
  readonly etag: string;
  readonly data: unknown;
  readonly hasNextPage: boolean;
}

interface OctokitLikeError {
  status?: number;
  message?: string;
  response?: { status: number; headers: Record<string, string | number | undefined>; data?: unknown };
  cause?: unknown;
}

const noop = () => {};

export class GithubClient {
  readonly stats: ClientStats = { requests: 0, notModified: 0, errors: 0 };
  /** Last seen primary rate-limit window (null until GitHub tells us). */
  rateLimit: { remaining: number | null; resetAt: Date | null } = { remaining: null, resetAt: null };

  private readonly octokit: Octokit;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new SharedRequests<GithubResponse<unknown>>();
  private readonly disposed = new AbortController();
  /** At most `concurrency` (default 8) requests at a time. */
  private readonly limit: ConcurrencyLimit;
  /** Set by a rate-limit answer: nothing is sent until it ends. */
  private readonly rateLimitWait: RateLimitWait;

  constructor(private readonly opts: GithubClientOptions) {
    this.limit = new ConcurrencyLimit(opts.concurrency ?? 8);
    this.rateLimitWait = new RateLimitWait(opts.backend, 'GitHub', opts.now);
    this.octokit = new Octokit({
      baseUrl: opts.baseUrl,
      ...(opts.token ? { auth: opts.token } : {}),
      userAgent: 'switchyard',
      // Octokit's own logging would duplicate ours; errors surface as UpstreamError.
      log: { debug: noop, info: noop, warn: noop, error: noop },
      request: opts.fetch ? { fetch: opts.fetch } : {},
    });
  }

  /** GET `route` (an Octokit route such as `GET /repos/{owner}/{repo}`). */
  get<T>(route: string, params: Params = {}, signal?: AbortSignal): Promise<GithubResponse<T>> {
    const key = cacheKey(route, params);
    return this.inFlight.join(key, (shared) => this.limit.run(() => this.send(route, params, key, shared), shared), signal) as Promise<GithubResponse<T>>;
  }

  /**
   * All pages of a list endpoint (per_page=100), each page conditional.
   * `notModified` is true when every page was a 304.
   */
  async getAllPages<Item>(
    route: string,
    params: Params,
    pick: (page: unknown) => readonly Item[],
    maxPages = 10,
    signal?: AbortSignal,
  ): Promise<{ items: Item[]; notModified: boolean }> {
    const items: Item[] = [];
    let notModified = true;
    for (let page = 1; page <= maxPages; page++) {
      const res = await this.get<unknown>(route, { per_page: 100, ...params, page }, signal);
      items.push(...pick(res.data));
      notModified &&= res.notModified;
      if (!res.hasNextPage) break;
      if (page === maxPages) this.opts.log?.warn({ route, maxPages }, 'GitHub list truncated at the page limit');
    }
    return { items, notModified };
  }

  dispose(): void {
    this.disposed.abort();
    this.cache.clear();
  }

  /**
   * GET `route` without following its redirect: the `Location` GitHub answers, resolved against
   * the API URL (job logs: a signed URL on another host, valid about a minute). Never cached or
   * shared, since every answer is a fresh URL. The token goes to GitHub only: following the
   * URL is the caller's, without it.
   */
  redirectOf(route: string, params: Params, signal: AbortSignal): Promise<URL> {
    return this.limit.run(async () => {
      const [method = 'GET', template = route] = route.split(' ', 2);
      const path = expandPath(template, params);
      const res = await this.exchange(route, params, {}, 'manual', signal);
      const location = res?.headers.location;
      if (res && res.status >= 300 && res.status < 400 && typeof location === 'string' && location) return new URL(location, `${this.opts.baseUrl}/`);
      // A 200 (the log itself, or an HTML page) or a redirect without a target: not what GitHub documents.
      this.stats.errors++;
      const status = res?.status;
      throw new UpstreamError(this.opts.backend, ErrorCode.UpstreamBadResponse, `${method} ${path} answered ${String(status)} without a redirect`, { ...(status === undefined ? {} : { status }), method, path });
    }, signal);
  }

  private async send(route: string, params: Params, key: string, signal: AbortSignal): Promise<GithubResponse<unknown>> {
    const cached = this.cache.get(key);
    const res = await this.exchange(route, params, cached ? { 'if-none-match': cached.etag } : {}, undefined, signal);
    if (!res) {
      this.stats.notModified++;
      this.touch(key, cached!);
      return { data: cached!.data, notModified: true, hasNextPage: cached!.hasNextPage };
    }
    const headers = res.headers as Record<string, string | number | undefined>;
    const hasNextPage = /rel="next"/.test(String(headers.link ?? ''));
    const etag = headers.etag;
    if (typeof etag === 'string' && etag) this.remember(key, { etag, data: res.data, hasNextPage });
    else this.cache.delete(key);
    return { data: res.data, notModified: false, hasNextPage };
  }

  /**
   * One request through Octokit: version pinned, timed out, cancelled by `signal`, rate limits
   * observed. Null for a 304 to a conditional request; any other failure is an UpstreamError.
   */
  private async exchange(
    route: string,
    params: Params,
    headers: Readonly<Record<string, string>>,
    redirect: RequestRedirect | undefined,
    signal: AbortSignal,
  ): Promise<{ status: number; data: unknown; headers: Record<string, string | number | undefined> } | null> {
    const [method = 'GET', template = route] = route.split(' ', 2);
    const path = expandPath(template, params);
    this.rateLimitWait.check(method, path);
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    this.stats.requests++;
    try {
      const res = await this.octokit.request(route, {
        ...params,
        headers: { 'x-github-api-version': GITHUB_API_VERSION, ...headers },
        request: { signal: AbortSignal.any([timeout, this.disposed.signal, signal]), ...(redirect ? { redirect } : {}) },
      });
      const resHeaders = res.headers as Record<string, string | number | undefined>;
      this.observeRateLimit(resHeaders);
      return { status: res.status, data: res.data, headers: resHeaders };
    } catch (raw) {
      // Cancelled by the read (its deadline, shutdown): that is the read's answer, not the upstream's.
      signal.throwIfAborted();
      const e = raw as OctokitLikeError;
      const status = e.response?.status;
      const resHeaders = e.response?.headers ?? {};
      this.observeRateLimit(resHeaders);
      if (status === 304 && headers['if-none-match'] !== undefined) return null;
      const error = toUpstreamError({
        backend: this.opts.backend,
        method,
        path,
        status,
        headers: resHeaders,
        reason: reasonOf(e),
        timedOut: timeout.aborted,
        nowMs: this.opts.now().getTime(),
      });
      this.stats.errors++;
      if (error.code === ErrorCode.UpstreamRateLimited && error.details.retryAfterMs !== undefined) this.rateLimitWait.extend(error.details.retryAfterMs);
      this.opts.log?.debug({ method, path, status, code: error.code }, 'GitHub request failed');
      throw error;
    }
  }

  private observeRateLimit(headers: Readonly<Record<string, string | number | undefined>>): void {
    const remaining = headers['x-ratelimit-remaining'];
    const reset = headers['x-ratelimit-reset'];
    if (remaining === undefined && reset === undefined) return;
    const r = Number(remaining);
    const t = Number(reset);
    this.rateLimit = {
      remaining: remaining !== undefined && Number.isFinite(r) ? r : null,
      resetAt: reset !== undefined && Number.isFinite(t) ? new Date(t * 1000) : null,
    };
    this.opts.health.rateLimit(this.rateLimit.remaining, this.rateLimit.resetAt);
  }

  private remember(key: string, entry: CacheEntry): void {
    this.cache.delete(key);
    this.cache.set(key, entry);
    const max = this.opts.cacheEntries ?? 5000;
    while (this.cache.size > max) {
      const oldest = this.cache.keys().next();
      if (oldest.done) break;
      this.cache.delete(oldest.value);
    }
  }

  private touch(key: string, entry: CacheEntry): void {
    this.cache.delete(key);
    this.cache.set(key, entry);
  }
}

function cacheKey(route: string, params: Params): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${route} ${JSON.stringify(entries)}`;
}

/** `/repos/{owner}/{repo}` → `/repos/o/r`: for messages; never includes the query. */
function expandPath(template: string, params: Params): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(String(params[name] ?? `{${name}}`)));
}

function reasonOf(e: OctokitLikeError): string {
  const data = e.response?.data;
  if (data && typeof data === 'object' && 'message' in data && typeof data.message === 'string') return data.message;
  if (e.response) return `HTTP ${e.response.status}`;
  // Transport failure: Octokit puts the fetch error in `cause`.
  const cause = e.cause instanceof Error ? e.cause : undefined;
  const inner = cause?.cause instanceof Error ? cause.cause : undefined;
  return (inner ?? cause)?.message ?? e.message ?? 'request failed';
}

export function isUpstreamRateLimited(error: unknown): error is UpstreamError {
  return error instanceof UpstreamError && error.code === ErrorCode.UpstreamRateLimited;
}
