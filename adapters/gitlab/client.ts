import { RateLimitWait } from '../../src/adapter-kit/rate-limit-wait.ts';
import { ConcurrencyLimit } from '../../src/adapter-kit/concurrency-limit.ts';
import { SharedRequests } from '../../src/adapter-kit/shared-requests.ts';
import type { RateLimitReporter } from '../../src/adapter-contract.ts';
import { ErrorCode, UpstreamError } from '../../src/errors.ts';
import { toUpstreamError, waitFromHeaders } from './errors.ts';

/**
 * The only place that talks HTTP to GitLab (plain fetch: GitLab REST is a
 * handful of GETs, and we need the raw headers — RateLimit-*, X-Next-Page,
 * Link for keyset — which gitbeaker hides or reshapes). Every request:
 * - authenticates with `PRIVATE-TOKEN` and times out (AbortSignal.timeout);
 * - reports RateLimit-Remaining/-Reset to the core (success and failure are
 *   counted by the core's policy, once per operation);
 * - is cancelled by the read's AbortSignal, also while queued for a slot;
 * - is not sent at all while a rate-limit wait is in force (after a 429, or
 *   when RateLimit-Remaining reached 0 until RateLimit-Reset): it fails fast
 *   with UPSTREAM_RATE_LIMITED and the remaining wait;
 * - fails only with UpstreamError (no token, no query string in messages).
 * Identical GETs in flight at once share one request, cancelled only when
 * every read waiting for it was.
 */
export type ParamValue = string | number | boolean | undefined | readonly string[];
export type Params = Readonly<Record<string, ParamValue>>;

export interface GitlabResponse<T> {
  readonly data: T;
  readonly headers: Headers;
  /** Offset pagination: X-Next-Page (empty on the last page). */
  readonly nextPage: number | null;
  /** Keyset (and offset) pagination: Link rel="next" as path+query relative to the API base. */
  readonly nextLink: string | null;
}

export interface ClientStats {
  requests: number;
  errors: number;
  /** Bytes of raw bodies read by `getBytes` (job traces): what re-reading whole traces costs. */
  bytesRead: number;
}

export interface GitlabClientOptions {
  readonly backend: string;
  readonly baseUrl: string;
  readonly token: string | undefined;
  readonly timeoutMs: number;
  readonly health: RateLimitReporter;
  readonly now: () => Date;
  readonly log?: { warn(obj: object, msg?: string): void; debug(obj: object, msg?: string): void };
  readonly concurrency?: number;
  readonly fetch?: typeof fetch;
}

export function buildQuery(params: Params): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v as readonly string[]) q.append(k, x);
    else q.append(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** `rel="next"` target of a Link header. */
export function nextLinkOf(link: string | null): string | null {
  if (!link) return null;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part.trim());
    if (m) return m[1]!;
  }
  return null;
}

export class GitlabClient {
  readonly stats: ClientStats = { requests: 0, errors: 0, bytesRead: 0 };
  rateLimit: { remaining: number | null; resetAt: Date | null } = { remaining: null, resetAt: null };
  /** The wait a 429 asked for: no request until it ends. */
  private readonly rateLimitWait: RateLimitWait;
  private readonly inFlight = new SharedRequests<GitlabResponse<unknown>>();
  private readonly disposed = new AbortController();
  private readonly base: URL;
  /** At most `concurrency` (default 8) requests at a time. */
  private readonly limit: ConcurrencyLimit;

  constructor(private readonly opts: GitlabClientOptions) {
    this.limit = new ConcurrencyLimit(opts.concurrency ?? 8);
    this.rateLimitWait = new RateLimitWait(opts.backend, 'GitLab', opts.now);
    this.base = new URL(opts.baseUrl.replace(/\/+$/, '') + '/');
  }

  get baseUrl(): string {
    return this.opts.baseUrl;
  }

  /** Ms until requests may be sent again (0: now). */
  waitMs(): number {
    return Math.max(this.rateLimitWait.remainingMs(), this.resetWaitMs());
  }

  /** With no requests left in the window, ms until it resets (0 otherwise). */
  private resetWaitMs(): number {
    const { remaining, resetAt } = this.rateLimit;
    return remaining === 0 && resetAt ? Math.max(0, resetAt.getTime() - this.opts.now().getTime()) : 0;
  }

  /** GET `path` (relative to the API base, e.g. `/projects/42/pipelines`). */
  get<T>(path: string, params: Params = {}, signal?: AbortSignal): Promise<GitlabResponse<T>> {
    const rel = path + buildQuery(params);
    return this.inFlight.join(rel, (shared) => this.limit.run(() => this.send(rel, path, shared), shared), signal) as Promise<GitlabResponse<T>>;
  }

  /** Follows a `nextLink` returned by an earlier response. */
  getLink<T>(link: string, displayPath: string, signal?: AbortSignal): Promise<GitlabResponse<T>> {
    const read = signal ?? new AbortController().signal;
    return this.limit.run(() => this.send(link, displayPath, read), read) as Promise<GitlabResponse<T>>;
  }

  /**
   * GET `path` as raw bytes (the text/plain job trace): the same token, limits, rate-limit
   * handling and errors as `get`, never shared with another read (each tail wants its own
   * bytes, and one tail per job is the core's job). Counts the bytes in `stats.bytesRead`.
   */
  async getBytes(path: string, signal: AbortSignal): Promise<Buffer> {
    // Any type: the route sets its own text/plain, and a narrower Accept only risks a 406 from content negotiation.
    const { body } = await this.limit.run(() => this.exchange(path, path, signal, '*/*'), signal);
    this.stats.bytesRead += body.length;
    return body;
  }

  /** Offset pagination: all pages (per_page=100) following X-Next-Page, at most `maxPages`. */
  async getAllPages<Item>(path: string, params: Params = {}, maxPages = 20, signal?: AbortSignal): Promise<Item[]> {
    const items: Item[] = [];
    let page = 1;
    for (let n = 0; n < maxPages; n++) {
      const res = await this.get<unknown>(path, { per_page: 100, ...params, page }, signal);
      if (Array.isArray(res.data)) items.push(...(res.data as Item[]));
      if (res.nextPage === null) return items;
      page = res.nextPage;
    }
    this.opts.log?.warn({ path, maxPages }, 'GitLab list truncated at the page limit');
    return items;
  }

  dispose(): void {
    this.disposed.abort();
  }

  private async send(rel: string, displayPath: string, signal: AbortSignal): Promise<GitlabResponse<unknown>> {
    const { res, body, nowMs } = await this.exchange(rel, displayPath, signal, 'application/json');
    let data: unknown;
    try {
      data = body.length === 0 ? null : JSON.parse(body.toString('utf8'));
    } catch {
      throw this.fail({ status: res.status, headers: res.headers, reason: 'response is not JSON', timedOut: false, displayPath, nowMs, badBody: true });
    }
    const next = res.headers.get('x-next-page');
    const nextPage = next !== null && /^\d+$/.test(next.trim()) ? Number(next.trim()) : null;
    return { data, headers: res.headers, nextPage, nextLink: this.relative(nextLinkOf(res.headers.get('link'))) };
  }

  /**
   * One GET with every rule of the class doc, answering the successful response and its body as
   * raw bytes (never decoded here: a job trace is served as is). Failures are UpstreamErrors.
   */
  private async exchange(rel: string, displayPath: string, signal: AbortSignal, accept: string): Promise<{ res: Response; body: Buffer; nowMs: number }> {
    const method = 'GET';
    const nowMs = this.opts.now().getTime();
    this.rateLimitWait.check(method, displayPath, this.resetWaitMs());
    const url = this.resolve(rel);
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    this.stats.requests++;
    let res: Response;
    try {
      res = await (this.opts.fetch ?? fetch)(url, {
        method,
        headers: { accept, 'user-agent': 'switchyard', ...(this.opts.token ? { 'private-token': this.opts.token } : {}) },
        signal: AbortSignal.any([timeout, this.disposed.signal, signal]),
        redirect: 'error',
      });
    } catch (raw) {
      // Cancelled by the read (its deadline, shutdown): that is the read's answer, not the upstream's.
      signal.throwIfAborted();
      throw this.fail({ status: undefined, headers: undefined, reason: reasonOf(raw), timedOut: timeout.aborted, displayPath, nowMs });
    }
    this.observeRateLimit(res.headers);
    let body: Buffer;
    try {
      body = Buffer.from(await res.arrayBuffer());
    } catch (raw) {
      signal.throwIfAborted();
      throw this.fail({ status: undefined, headers: res.headers, reason: reasonOf(raw), timedOut: timeout.aborted, displayPath, nowMs });
    }
    if (!res.ok) {
      if (res.status === 429) {
        this.rateLimitWait.extend(waitFromHeaders(res.headers, this.opts.now().getTime()) ?? 60_000);
      }
      throw this.fail({ status: res.status, headers: res.headers, reason: messageOf(body.toString('utf8')) ?? `HTTP ${res.status}`, timedOut: false, displayPath, nowMs });
    }
    return { res, body, nowMs };
  }

  private fail(f: { status: number | undefined; headers: Headers | undefined; reason: string; timedOut: boolean; displayPath: string; nowMs: number; badBody?: boolean }): UpstreamError {
    const error = f.badBody
      ? new UpstreamError(this.opts.backend, ErrorCode.UpstreamBadResponse, `GET ${f.displayPath} answered ${f.status}: ${f.reason}`, { status: f.status, method: 'GET', path: f.displayPath })
      : toUpstreamError({
          backend: this.opts.backend, method: 'GET', path: f.displayPath, status: f.status, headers: f.headers,
          reason: this.redact(f.reason), timedOut: f.timedOut, nowMs: this.opts.now().getTime(),
        });
    this.stats.errors++;
    this.opts.log?.debug({ path: f.displayPath, status: f.status, code: error.code }, 'GitLab request failed');
    return error;
  }

  private redact(text: string): string {
    const token = this.opts.token;
    return token ? text.split(token).join('[redacted]') : text;
  }

  private resolve(rel: string): string {
    return new URL(rel.replace(/^\/+/, ''), this.base).toString();
  }

  /** A Link target on our own API base, as a path+query relative to it; null otherwise. */
  private relative(link: string | null): string | null {
    if (!link) return null;
    let u: URL;
    try {
      u = new URL(link, this.base);
    } catch {
      return null;
    }
    // Never follow a link elsewhere (the token would go with it).
    if (u.origin !== this.base.origin || !u.pathname.startsWith(this.base.pathname)) return null;
    return `/${u.pathname.slice(this.base.pathname.length)}${u.search}`;
  }

  private observeRateLimit(headers: Headers): void {
    const remaining = headers.get('ratelimit-remaining');
    const reset = headers.get('ratelimit-reset');
    if (remaining === null && reset === null) return;
    const r = Number(remaining);
    const t = Number(reset);
    this.rateLimit = {
      remaining: remaining !== null && remaining.trim() !== '' && Number.isFinite(r) ? r : null,
      resetAt: reset !== null && reset.trim() !== '' && Number.isFinite(t) ? new Date(t * 1000) : null,
    };
    this.opts.health.rateLimit(this.rateLimit.remaining, this.rateLimit.resetAt);
  }
}

function messageOf(text: string): string | null {
  try {
    const body = JSON.parse(text) as unknown;
    if (body && typeof body === 'object') {
      const m = (body as Record<string, unknown>).message ?? (body as Record<string, unknown>).error;
      if (typeof m === 'string') return m;
      if (m !== undefined) return JSON.stringify(m);
    }
  } catch {
    // plain text body (e.g. "Retry later")
  }
  return text.trim() ? text : null;
}

function reasonOf(raw: unknown): string {
  const e = raw instanceof Error ? raw : new Error(String(raw));
  const cause = e.cause instanceof Error ? e.cause : undefined;
  return cause?.message ?? e.message;
}

/** Encodes a project/group id or path for a URL segment (`a/b` → `a%2Fb`). */
export function seg(id: string | number): string {
  return encodeURIComponent(String(id));
}
