import { ConcurrencyLimit } from '../../src/adapter-kit/concurrency-limit.ts';
import { RateLimitWait } from '../../src/adapter-kit/rate-limit-wait.ts';
import { SharedRequests } from '../../src/adapter-kit/shared-requests.ts';
import { clipReason, httpFailureToUpstreamError, parseRetryAfterMs } from '../../src/adapter-kit/upstream-errors.ts';
import type { RateLimitReporter } from '../../src/adapter-contract.ts';
import { ErrorCode, UpstreamError } from '../../src/errors.ts';

/**
 * The only place that talks HTTP to Buildkite's REST API v2 (plain fetch).
 * Every request:
 * - authenticates with `Authorization: Bearer` and times out;
 * - reports the tighter of the organisation and per-user windows
 *   (`RateLimit-Remaining/-Reset`, `RateLimit-User-*`; Reset is SECONDS UNTIL
 *   the reset, not a Unix time) to the core;
 * - is not sent while a rate-limit wait is in force (after a 429, or with 0
 *   requests left until the window resets): it fails at once with
 *   UPSTREAM_RATE_LIMITED and the remaining wait;
 * - is cancelled by the read's AbortSignal, also while queued for a slot;
 * - fails only with UpstreamError naming the backend (no token, no query
 *   string in messages).
 * Paths are relative to `<url>/v2`, e.g. `/organizations/acme/pipelines/web/builds/3`.
 * Identical JSON GETs in flight at once share one request.
 */
export type ParamValue = string | number | boolean | undefined | readonly string[];
export type Params = Readonly<Record<string, ParamValue>>;

export interface JsonResponse {
  readonly data: unknown;
  readonly headers: Headers;
  /** Link rel="next" as a path+query relative to `<url>/v2`; null on the last page. */
  readonly nextLink: string | null;
}

export interface ClientStats {
  requests: number;
  errors: number;
}

export interface BuildkiteClientOptions {
  readonly backend: string;
  /** API root without `/v2` (config `url`). */
  readonly baseUrl: string;
  readonly token: string;
  readonly timeoutMs: number;
  readonly health: RateLimitReporter;
  readonly now: () => Date;
  readonly log?: { warn(obj: object, msg?: string): void; debug(obj: object, msg?: string): void };
  readonly concurrency?: number;
  readonly fetch?: typeof fetch;
}

/** Buildkite's 429 carries no Retry-After in the docs; its windows are per minute. */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;
export const PER_PAGE = 100;

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

/** The tighter window of the two Buildkite announces (organisation and per user). */
export function rateWindowOf(headers: Headers, nowMs: number): { remaining: number | null; resetAt: Date | null } | null {
  const read = (name: string): number | null => {
    const v = headers.get(name);
    if (v === null || v.trim() === '') return null;
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  };
  const windows = [
    { remaining: read('ratelimit-remaining'), reset: read('ratelimit-reset') },
    { remaining: read('ratelimit-user-remaining'), reset: read('ratelimit-user-reset') },
  ].filter((w) => w.remaining !== null || w.reset !== null);
  if (windows.length === 0) return null;
  windows.sort((a, b) => (a.remaining ?? Infinity) - (b.remaining ?? Infinity));
  const w = windows[0]!;
  return { remaining: w.remaining, resetAt: w.reset === null ? null : new Date(nowMs + Math.max(0, w.reset) * 1000) };
}

export class BuildkiteClient {
  readonly stats: ClientStats = { requests: 0, errors: 0 };
  rateLimit: { remaining: number | null; resetAt: Date | null } = { remaining: null, resetAt: null };
  private readonly rateLimitWait: RateLimitWait;
  private readonly inFlight = new SharedRequests<JsonResponse>();
  private readonly disposed = new AbortController();
  private readonly api: URL;
  private readonly limit: ConcurrencyLimit;

  constructor(private readonly opts: BuildkiteClientOptions) {
    this.limit = new ConcurrencyLimit(opts.concurrency ?? 6);
    this.rateLimitWait = new RateLimitWait(opts.backend, 'Buildkite', opts.now);
    this.api = new URL(`${opts.baseUrl.replace(/\/+$/, '')}/v2/`);
  }

  /** Ms until requests may be sent again (0: now). */
  waitMs(): number {
    return Math.max(this.rateLimitWait.remainingMs(), this.resetWaitMs());
  }

  private resetWaitMs(): number {
    const { remaining, resetAt } = this.rateLimit;
    return remaining !== null && remaining <= 0 && resetAt ? Math.max(0, resetAt.getTime() - this.opts.now().getTime()) : 0;
  }

  /** GET `path` (relative to `<url>/v2`) as parsed JSON. */
  async getJson(path: string, signal?: AbortSignal): Promise<unknown> {
    return (await this.get(path, {}, signal)).data;
  }

  /** GET `path` as text (a job log's `.txt`, `Accept: text/plain`), never shared with another read. */
  async getText(path: string, signal?: AbortSignal): Promise<string> {
    const read = signal ?? new AbortController().signal;
    const { body } = await this.limit.run(() => this.exchange(path, displayOf(path), read, 'text/plain'), read);
    return body.toString('utf8');
  }

  /** GET with query parameters, the response's headers and its next-page link. */
  get(path: string, params: Params = {}, signal?: AbortSignal): Promise<JsonResponse> {
    const rel = path + buildQuery(params);
    return this.inFlight.join(rel, (shared) => this.limit.run(() => this.sendJson(rel, shared), shared), signal);
  }

  /**
   * Every item of a paged listing (`per_page=100`), following Link `rel="next"`,
   * at most `maxPages` pages; `truncated` when more were left.
   */
  async getPaged(path: string, params: Params = {}, maxPages = 10, signal?: AbortSignal): Promise<{ items: unknown[]; truncated: boolean }> {
    const items: unknown[] = [];
    let res = await this.get(path, { per_page: PER_PAGE, ...params }, signal);
    for (let page = 1; ; page++) {
      if (Array.isArray(res.data)) items.push(...(res.data as unknown[]));
      if (res.nextLink === null) return { items, truncated: false };
      if (page >= maxPages) {
        this.opts.log?.warn({ path, maxPages }, 'Buildkite list truncated at the page limit');
        return { items, truncated: true };
      }
      res = await this.get(res.nextLink, {}, signal);
    }
  }

  dispose(): void {
    this.disposed.abort();
  }

  private async sendJson(rel: string, signal: AbortSignal): Promise<JsonResponse> {
    const display = displayOf(rel);
    const { res, body } = await this.exchange(rel, display, signal, 'application/json');
    let data: unknown;
    try {
      data = body.length === 0 ? null : JSON.parse(body.toString('utf8'));
    } catch {
      this.stats.errors++;
      throw new UpstreamError(this.opts.backend, ErrorCode.UpstreamBadResponse, `GET ${display} answered ${res.status}: response is not JSON`, { status: res.status, method: 'GET', path: display });
    }
    return { data, headers: res.headers, nextLink: this.relative(nextLinkOf(res.headers.get('link'))) };
  }

  private async exchange(rel: string, display: string, signal: AbortSignal, accept: string): Promise<{ res: Response; body: Buffer }> {
    const method = 'GET';
    this.rateLimitWait.check(method, display, this.resetWaitMs());
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    this.stats.requests++;
    let res: Response;
    try {
      res = await (this.opts.fetch ?? fetch)(new URL(rel.replace(/^\/+/, ''), this.api), {
        method,
        headers: { accept, 'user-agent': 'switchyard', authorization: `Bearer ${this.opts.token}` },
        signal: AbortSignal.any([timeout, this.disposed.signal, signal]),
        // A redirect could carry the token to another host.
        redirect: 'error',
      });
    } catch (raw) {
      // Cancelled by the read (its deadline, shutdown): that is the read's answer, not the upstream's.
      signal.throwIfAborted();
      throw this.fail(display, undefined, undefined, reasonOf(raw), timeout.aborted);
    }
    this.observeRateLimit(res.headers);
    let body: Buffer;
    try {
      body = Buffer.from(await res.arrayBuffer());
    } catch (raw) {
      signal.throwIfAborted();
      throw this.fail(display, undefined, res.headers, reasonOf(raw), timeout.aborted);
    }
    if (!res.ok) {
      if (res.status === 429) this.rateLimitWait.extend(this.waitAfter429(res.headers));
      throw this.fail(display, res.status, res.headers, messageOf(body.toString('utf8')) ?? `HTTP ${res.status}`, false);
    }
    return { res, body };
  }

  /** Retry-After when sent, else the window's RateLimit-Reset (seconds until reset), else a minute. */
  private waitAfter429(headers: Headers | undefined): number {
    const nowMs = this.opts.now().getTime();
    const retryAfter = parseRetryAfterMs(headers?.get('retry-after'), nowMs);
    if (retryAfter !== null) return retryAfter;
    const window = headers ? rateWindowOf(headers, nowMs) : null;
    return window?.resetAt ? Math.max(0, window.resetAt.getTime() - nowMs) : DEFAULT_RATE_LIMIT_WAIT_MS;
  }

  private fail(display: string, status: number | undefined, headers: Headers | undefined, reason: string, timedOut: boolean): UpstreamError {
    const error = httpFailureToUpstreamError(
      { backend: this.opts.backend, method: 'GET', path: display, status, reason: clipReason(this.redact(reason)), timedOut },
      { provider: 'Buildkite', waitMs: () => (status === 429 ? this.waitAfter429(headers) : null) },
    );
    this.stats.errors++;
    this.opts.log?.debug({ path: display, status, code: error.code }, 'Buildkite request failed');
    return error;
  }

  private redact(text: string): string {
    return text.split(this.opts.token).join('[redacted]');
  }

  /** A Link target on our own API root, as a path+query relative to it; null otherwise (the token never leaves). */
  private relative(link: string | null): string | null {
    if (!link) return null;
    let u: URL;
    try {
      u = new URL(link, this.api);
    } catch {
      return null;
    }
    if (u.origin !== this.api.origin || !u.pathname.startsWith(this.api.pathname)) return null;
    return `/${u.pathname.slice(this.api.pathname.length)}${u.search}`;
  }

  private observeRateLimit(headers: Headers): void {
    const window = rateWindowOf(headers, this.opts.now().getTime());
    if (!window) return;
    this.rateLimit = window;
    this.opts.health.rateLimit(window.remaining, window.resetAt);
  }
}

/** The path without its query string: messages never carry query parameters. */
function displayOf(rel: string): string {
  return rel.split('?')[0]!;
}

function messageOf(text: string): string | null {
  try {
    const body = JSON.parse(text) as unknown;
    if (body && typeof body === 'object') {
      const m = (body as Record<string, unknown>).message;
      if (typeof m === 'string') return m;
    }
  } catch {
    // plain text body
  }
  return text.trim() ? text : null;
}

function reasonOf(raw: unknown): string {
  const e = raw instanceof Error ? raw : new Error(String(raw));
  const cause = e.cause instanceof Error ? e.cause : undefined;
  return cause?.message ?? e.message;
}

/** A slug or id as a URL path segment. */
export function seg(value: string | number): string {
  return encodeURIComponent(String(value));
}
