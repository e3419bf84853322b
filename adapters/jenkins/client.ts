import { ConcurrencyLimit } from '../../src/adapter-kit/concurrency-limit.ts';
import { SharedRequests } from '../../src/adapter-kit/shared-requests.ts';
import { RateLimitWait } from '../../src/adapter-kit/rate-limit-wait.ts';
import { parseRetryAfterMs } from '../../src/adapter-kit/upstream-errors.ts';
import { ErrorCode, UpstreamError, type UpstreamErrorCode } from '../../src/errors.ts';
import { RequestBudget } from './budget.ts';
import { asRecord, str } from './fields.ts';

/**
 * The only place that talks HTTP to Jenkins. Every request:
 * - authenticates with HTTP Basic `user:apiToken` (a token, not a password);
 * - times out (AbortSignal.timeout) and is cancelled on dispose and by the
 *   read's AbortSignal, also while queued for a slot;
 * - counts no health: the core's policy counts each operation once;
 * - takes a token from the backend's request budget;
 * - fails only with UpstreamError, whose message names the method and the path
 *   (never the query string, the host's userinfo or the credentials).
 *
 * CSRF: Jenkins ≥ 2.96 exempts API-token requests from the crumb
 * (ApiCrumbExclusion), so none is sent up front. Only when Jenkins answers 403
 * with a crumb complaint does the client fetch `/crumbIssuer/api/json`, keep
 * the crumb and the session cookie it is bound to, and retry once.
 * Identical GETs in flight at the same time share one request, cancelled only
 * when every read waiting for it was.
 */
export interface ClientStats {
  requests: number;
  errors: number;
  crumbFetches: number;
}

export interface JenkinsClientOptions {
  readonly backend: string;
  /** Jenkins root, without a trailing slash. */
  readonly baseUrl: string;
  readonly user: string;
  readonly apiToken: string;
  readonly timeoutMs: number;
  readonly requestsPerMinute: number;
  readonly now: () => Date;
  readonly log?: { debug(obj: object, msg?: string): void };
  readonly concurrency?: number;
  /** For tests. */
  readonly fetch?: typeof fetch;
}

/** A raw answer: its body bytes and headers. */
export interface RawAnswer {
  readonly bytes: Buffer;
  readonly headers: Headers;
}

interface Crumb {
  readonly field: string;
  readonly value: string;
  readonly cookie: string | null;
}

const CRUMB_COMPLAINT = /crumb/i;

export class JenkinsClient {
  readonly stats: ClientStats = { requests: 0, errors: 0, crumbFetches: 0 };
  readonly budget: RequestBudget;
  private readonly authorization: string;
  private crumb: Crumb | null = null;
  private readonly inFlight = new SharedRequests<unknown>();
  private readonly disposed = new AbortController();
  /** At most `concurrency` (default 8) requests at a time. */
  private readonly limit: ConcurrencyLimit;
  /** Set by a 429 (or a 503 with Retry-After): nothing is sent until it ends. */
  private readonly rateLimitWait: RateLimitWait;

  constructor(private readonly opts: JenkinsClientOptions) {
    this.limit = new ConcurrencyLimit(opts.concurrency ?? 8);
    this.rateLimitWait = new RateLimitWait(opts.backend, 'Jenkins', opts.now);
    this.authorization = `Basic ${Buffer.from(`${opts.user}:${opts.apiToken}`, 'utf8').toString('base64')}`;
    this.budget = new RequestBudget(opts.requestsPerMinute, opts.now);
  }

  get baseUrl(): string {
    return this.opts.baseUrl;
  }

  /**
   * GET `<root><path>` as JSON. `path` is like `/job/a/job/b/api/json`; `tree`
   * is a `tree=` expression (see tree.ts); `params` are other query parameters
   * (wfapi's `since`, `fullStages`). Neither appears in error messages.
   */
  getJson<T = unknown>(path: string, tree?: string, params?: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<T> {
    const search = new URLSearchParams(params);
    const query = [tree ? `tree=${encodeURIComponent(tree)}` : '', search.toString()].filter(Boolean).join('&');
    const key = `${path}?${query}`;
    return this.inFlight.join(key, (shared) => this.limit.run(() => this.send('GET', path, query, shared), shared), signal) as Promise<T>;
  }

  /** POST (no body); sends a crumb only if Jenkins asks for one. */
  post<T = unknown>(path: string, signal?: AbortSignal): Promise<T> {
    const read = signal ?? new AbortController().signal;
    return this.limit.run(() => this.send('POST', path, '', read), read) as Promise<T>;
  }

  /**
   * GET `<root><path>` as raw bytes with the answer's headers (console logs: never decoded,
   * never shared between reads, since each tail reads its own offset). Errors as for getJson.
   */
  getBytes(path: string, params: Readonly<Record<string, string>>, signal: AbortSignal): Promise<RawAnswer> {
    const query = new URLSearchParams(params).toString();
    return this.limit.run(async () => {
      const res = await this.exchange('GET', path, query, signal, 'text/plain');
      const body = await res.arrayBuffer().catch(() => null);
      if (body === null) {
        signal.throwIfAborted();
        throw this.fail('GET', path, res.status, 'body could not be read');
      }
      return { bytes: Buffer.from(body), headers: res.headers };
    }, signal);
  }

  dispose(): void {
    this.disposed.abort();
    this.crumb = null;
  }

  private async send(method: 'GET' | 'POST', path: string, query: string, signal: AbortSignal): Promise<unknown> {
    const res = await this.exchange(method, path, query, signal, 'application/json');
    const text = await res.text().catch(() => null);
    if (text === null) throw this.fail(method, path, res.status, 'body could not be read');
    if (text.length === 0) return null;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      this.stats.errors++;
      throw new UpstreamError(this.opts.backend, ErrorCode.UpstreamBadResponse, `${method} ${path} answered non-JSON`, { status: res.status, method, path });
    }
  }

  /** One request, a crumb fetched and the request retried once if Jenkins asks; a successful answer, body unread. */
  private async exchange(method: 'GET' | 'POST', path: string, query: string, signal: AbortSignal, accept: string, retried = false): Promise<Response> {
    const url = `${this.opts.baseUrl}${path}${query ? `?${query}` : ''}`;
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const headers: Record<string, string> = { authorization: this.authorization, accept };
    if (this.crumb) {
      headers[this.crumb.field.toLowerCase()] = this.crumb.value;
      if (this.crumb.cookie) headers.cookie = this.crumb.cookie;
    }
    this.rateLimitWait.check(method, path);
    this.stats.requests++;
    this.budget.take();
    let res: Response;
    try {
      res = await (this.opts.fetch ?? fetch)(url, { method, headers, signal: AbortSignal.any([timeout, this.disposed.signal, signal]) });
    } catch (error) {
      // Cancelled by the read (its deadline, shutdown): that is the read's answer, not the upstream's.
      signal.throwIfAborted();
      throw this.fail(method, path, undefined, timeout.aborted ? 'timed out' : transportReason(error), timeout.aborted);
    }
    if (res.status === 403 && !retried) {
      const body = await res.text().catch(() => '');
      if (CRUMB_COMPLAINT.test(body)) {
        await this.fetchCrumb(signal);
        return this.exchange(method, path, query, signal, accept, true);
      }
      throw this.fail(method, path, 403, firstLine(body));
    }
    if (!res.ok) {
      const body = await res.text().catch(() => '');
      const retryAfterMs = parseRetryAfterMs(res.headers.get('retry-after'), this.opts.now().getTime());
      const error = this.fail(method, path, res.status, firstLine(body) || `HTTP ${res.status}`, false, retryAfterMs);
      if (error.code === ErrorCode.UpstreamRateLimited && error.details.retryAfterMs !== undefined) this.rateLimitWait.extend(error.details.retryAfterMs);
      throw error;
    }
    return res;
  }

  private async fetchCrumb(signal: AbortSignal): Promise<void> {
    this.stats.crumbFetches++;
    this.crumb = null;
    const path = '/crumbIssuer/api/json';
    this.rateLimitWait.check('GET', path);
    this.stats.requests++;
    this.budget.take();
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    let res: Response;
    try {
      res = await (this.opts.fetch ?? fetch)(`${this.opts.baseUrl}${path}`, {
        headers: { authorization: this.authorization, accept: 'application/json' },
        signal: AbortSignal.any([timeout, this.disposed.signal, signal]),
      });
    } catch (error) {
      signal.throwIfAborted();
      throw this.fail('GET', path, undefined, timeout.aborted ? 'timed out' : transportReason(error), timeout.aborted);
    }
    if (!res.ok) throw this.fail('GET', path, res.status, `HTTP ${res.status}`);
    const body = asRecord(await res.json().catch(() => null));
    const value = str(body?.crumb);
    if (!value) throw this.fail('GET', path, res.status, 'no crumb in the answer');
    // The default crumb is bound to the HTTP session: keep its cookie.
    const setCookie = res.headers.get('set-cookie');
    const cookie = setCookie ? setCookie.split(/,(?=\s*[A-Za-z0-9_.-]+=)/).map((c) => c.split(';')[0]!.trim()).join('; ') : null;
    this.crumb = { field: str(body?.crumbRequestField) ?? 'Jenkins-Crumb', value, cookie };
  }

  private fail(method: string, path: string, status: number | undefined, reason: string, timedOut = false, retryAfterMs: number | null = null): UpstreamError {
    const error = toUpstreamError(this.opts.backend, method, path, status, reason, timedOut, retryAfterMs);
    this.stats.errors++;
    this.opts.log?.debug({ method, path, status, code: error.code }, 'Jenkins request failed');
    return error;
  }
}

function firstLine(text: string): string {
  // Jenkins error pages are HTML; keep a short, tag-free hint.
  const plain = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return plain.length > 160 ? `${plain.slice(0, 157)}...` : plain;
}

/** The network cause of a failed fetch (ECONNREFUSED, …), for messages that name it. */
export function transportReason(error: unknown): string {
  const e = error instanceof Error ? error : null;
  const inner = e?.cause instanceof Error ? e.cause : null;
  const code = (inner as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : (inner ?? e)?.message ?? 'request failed';
}

/** Wait after a 429 that names none. */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;

/**
 * Maps a failed request; messages carry the method and path only. A 429 waits
 * for its Retry-After (seconds or HTTP date; else 60 s); a 503 with Retry-After
 * (a proxy or a Jenkins quieting down) waits as asked too.
 */
export function toUpstreamError(
  backend: string, method: string, path: string, status: number | undefined, reason: string, timedOut: boolean, retryAfterMs: number | null = null,
): UpstreamError {
  const where = `${method} ${path}`;
  const details = { status, method, path };
  const make = (code: UpstreamErrorCode, message: string) => new UpstreamError(backend, code, message, details);
  if (timedOut) return make(ErrorCode.UpstreamTimeout, `${where} timed out`);
  if (status === undefined) return make(ErrorCode.UpstreamUnavailable, `${where} failed: ${reason}`);
  if (status === 401) return make(ErrorCode.UpstreamUnauthorized, `${where} rejected the credentials (401)`);
  if (status === 403) return make(ErrorCode.UpstreamUnauthorized, `${where} forbidden (403)${reason ? `: ${reason}` : ''}`);
  if (status === 429 || (status === 503 && retryAfterMs !== null)) {
    const wait = retryAfterMs ?? DEFAULT_RATE_LIMIT_WAIT_MS;
    return new UpstreamError(backend, ErrorCode.UpstreamRateLimited, `${where} rate limited (${status}; retry in ${Math.ceil(wait / 1000)}s)`, { ...details, retryAfterMs: wait });
  }
  if (status >= 500) return make(ErrorCode.UpstreamUnavailable, `${where} answered ${status}`);
  return make(ErrorCode.UpstreamBadResponse, `${where} answered ${status}`);
}

/** 404 handling is the kit's; re-exported for this adapter's modules. */
export { isNotFound, nullOn404 } from '../../src/adapter-kit/upstream-errors.ts';
