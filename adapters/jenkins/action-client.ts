import { ActionRefusal, ActionRefusedError, ErrorCode, UpstreamError } from '../../src/errors.ts';
import type { ActionCall } from '../../src/adapter-contract.ts';
import { toUpstreamError, transportReason } from './client.ts';
import { asRecord, str } from './fields.ts';

/**
 * The HTTP client of actions: the only one that holds the write credentials (HTTP Basic
 * `writeUser:writeToken`); reads go through JenkinsClient with the read token and never here.
 *
 * Every request it sends is appended to the action's `calls` with the status it answered
 * (the crumb fetch included), paths without credentials. Redirects are not followed: Jenkins
 * answers `stop` and an input's `submit` with a 302 to a page, which is the success.
 *
 * CSRF: Jenkins ≥ 2.96 exempts API-token POSTs from the crumb (ApiCrumbExclusion), so none is
 * fetched up front. When a POST is refused with 403 "No valid crumb was included in the
 * request" (an older Jenkins, or a crumb issuer configured to demand it), the client fetches
 * `/crumbIssuer/api/json`, keeps the crumb and the session cookie it is bound to, and retries
 * once; refused again, the action fails CRUMB_REJECTED. The crumb is then sent with every later
 * POST of this session (cleared and refetched once when Jenkins refuses it).
 */
export interface ActionClientOptions {
  readonly backend: string;
  readonly baseUrl: string;
  readonly user: string;
  readonly token: string;
  readonly timeoutMs: number;
  readonly fetch?: typeof fetch;
}

export interface ActionResponse {
  readonly status: number;
  readonly location: string | null;
  /** Jenkins' reason: the X-Error header of a Failure page, else the page's message, tag-free and short. */
  readonly reason: string;
  readonly text: string;
}

interface Crumb {
  readonly field: string;
  readonly value: string;
  readonly cookie: string | null;
}

const CRUMB_REFUSAL = /No valid crumb was included in the request/i;
const CRUMB_PATH = '/crumbIssuer/api/json';

export class JenkinsActionClient {
  readonly stats = { requests: 0, crumbFetches: 0 };
  private readonly authorization: string;
  private crumb: Crumb | null = null;

  constructor(private readonly opts: ActionClientOptions) {
    this.authorization = `Basic ${Buffer.from(`${opts.user}:${opts.token}`, 'utf8').toString('base64')}`;
  }

  get backend(): string {
    return this.opts.backend;
  }

  /** Sends one request (and, for a POST refused for its crumb, the crumb fetch and one retry). Any status is returned. */
  async send(calls: ActionCall[], method: 'GET' | 'POST', path: string, signal: AbortSignal, form?: URLSearchParams): Promise<ActionResponse> {
    const first = await this.once(calls, method, path, signal, form);
    if (method !== 'POST' || first.status !== 403 || !CRUMB_REFUSAL.test(first.text)) return first;
    await this.fetchCrumb(calls, signal);
    const second = await this.once(calls, method, path, signal, form);
    if (second.status === 403 && CRUMB_REFUSAL.test(second.text)) {
      this.crumb = null;
      throw new ActionRefusedError(this.opts.backend, ActionRefusal.CrumbRejected, `${method} ${path} refused even with a fresh crumb: ${second.reason}`, { status: 403, method, path });
    }
    return second;
  }

  /** GET as JSON; any refusal becomes its typed error (see refusalOf). */
  async getJson(calls: ActionCall[], path: string, signal: AbortSignal): Promise<unknown> {
    const res = await this.send(calls, 'GET', path, signal);
    if (res.status < 200 || res.status >= 300) throw refusalOf(this.opts.backend, 'GET', path, res);
    try {
      return JSON.parse(res.text) as unknown;
    } catch {
      throw new UpstreamError(this.opts.backend, ErrorCode.UpstreamBadResponse, `GET ${path.split('?')[0]} answered non-JSON`, { status: res.status, method: 'GET', path });
    }
  }

  private async once(calls: ActionCall[], method: 'GET' | 'POST', path: string, signal: AbortSignal, form?: URLSearchParams): Promise<ActionResponse> {
    const headers: Record<string, string> = { authorization: this.authorization, accept: 'application/json' };
    if (method === 'POST' && this.crumb) {
      headers[this.crumb.field.toLowerCase()] = this.crumb.value;
      if (this.crumb.cookie) headers.cookie = this.crumb.cookie;
    }
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await this.fetch(calls, method, path, headers, signal, form?.toString());
    const text = await res.text().catch(() => '');
    return { status: res.status, location: res.headers.get('location'), reason: reasonOf(res.headers.get('x-error'), text, res.status), text };
  }

  private async fetchCrumb(calls: ActionCall[], signal: AbortSignal): Promise<void> {
    this.stats.crumbFetches++;
    this.crumb = null;
    const res = await this.fetch(calls, 'GET', CRUMB_PATH, { authorization: this.authorization, accept: 'application/json' }, signal);
    const text = await res.text().catch(() => '');
    if (!res.ok) {
      const reason = reasonOf(null, text, res.status);
      // No crumb issuer to ask (404) is a CSRF refusal we cannot satisfy; other answers keep their meaning.
      if (res.status === 404) throw new ActionRefusedError(this.opts.backend, ActionRefusal.CrumbRejected, `a crumb is required but ${CRUMB_PATH} answered 404`, { status: 404, method: 'GET', path: CRUMB_PATH });
      throw refusalOf(this.opts.backend, 'GET', CRUMB_PATH, { status: res.status, location: null, reason, text });
    }
    let body: Record<string, unknown> | null = null;
    try {
      body = asRecord(JSON.parse(text));
    } catch {
      body = null;
    }
    const value = str(body?.crumb);
    if (!value) throw new UpstreamError(this.opts.backend, ErrorCode.UpstreamBadResponse, `GET ${CRUMB_PATH} answered no crumb`, { status: res.status, method: 'GET', path: CRUMB_PATH });
    // The default crumb is bound to the HTTP session: keep its cookie.
    const setCookie = res.headers.get('set-cookie');
    const cookie = setCookie ? setCookie.split(/,(?=\s*[A-Za-z0-9_.-]+=)/).map((c) => c.split(';')[0]!.trim()).join('; ') : null;
    this.crumb = { field: str(body?.crumbRequestField) ?? 'Jenkins-Crumb', value, cookie };
  }

  private async fetch(calls: ActionCall[], method: 'GET' | 'POST', path: string, headers: Record<string, string>, signal: AbortSignal, body?: string): Promise<Response> {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    this.stats.requests++;
    let res: Response;
    try {
      res = await (this.opts.fetch ?? fetch)(`${this.opts.baseUrl}${path}`, {
        method, headers, redirect: 'manual', signal: AbortSignal.any([timeout, signal]), ...(body !== undefined ? { body } : {}),
      });
    } catch (error) {
      calls.push({ method, path });
      signal.throwIfAborted();
      const where = path.split('?')[0]!;
      throw toUpstreamError(this.opts.backend, method, where, undefined, timeout.aborted ? 'timed out' : transportReason(error), timeout.aborted);
    }
    calls.push({ method, path, status: res.status });
    return res;
  }
}

/** Whether an answer is a success: 2xx, or the redirect Jenkins answers a form POST with. */
export function isSuccess(status: number): boolean {
  return (status >= 200 && status < 300) || status === 302 || status === 303;
}

/**
 * The typed error for a refused action request:
 * - Jenkins' `input` refusals (hudson.model.Failure, 400 with X-Error): "You need to be <submitter>
 *   to submit this." → SUBMITTER_NOT_ALLOWED; "This input has been already given" → NOT_WAITING;
 * - 401/403 (AccessDeniedException3: "<user> is missing the Job/Build permission") → UPSTREAM_FORBIDDEN;
 * - 404 → NOT_FOUND; 429 and 5xx → UpstreamError, as for reads; any other 4xx → REFUSED quoting Jenkins.
 */
export function refusalOf(backend: string, method: string, path: string, res: ActionResponse): Error {
  const where = path.split('?')[0]!;
  const details = { status: res.status, method, path: where };
  const refuse = (reason: ActionRefusal, message: string) => new ActionRefusedError(backend, reason, message, details);
  if (/You need to (?:be |have Job\/)/.test(res.reason)) return refuse(ActionRefusal.SubmitterNotAllowed, `${method} ${where}: ${res.reason}`);
  if (/has been already given/.test(res.reason)) return refuse(ActionRefusal.NotWaiting, `${method} ${where}: ${res.reason}`);
  if (res.status === 401 || res.status === 403) return refuse(ActionRefusal.Forbidden, `${method} ${where} forbidden (${res.status}): ${res.reason}`);
  if (res.status === 404) return refuse(ActionRefusal.NotFound, `${method} ${where} not found (404)`);
  if (res.status === 429 || res.status >= 500) return toUpstreamError(backend, method, where, res.status, res.reason, false);
  return refuse(ActionRefusal.Refused, `${method} ${where} refused (${res.status}): ${res.reason}`);
}

/** Jenkins' reason for a refusal, short and tag-free: X-Error, a Jetty page's MESSAGE, or the page text. */
function reasonOf(xError: string | null, text: string, status: number): string {
  if (xError) return xError.slice(0, 200);
  const jetty = /<th>MESSAGE:<\/th><td>([^<]*)<\/td>/.exec(text);
  const raw = jetty?.[1] ?? /<p>([^<]*)<\/p>/.exec(text)?.[1] ?? text.replace(/<[^>]*>/g, ' ');
  const plain = raw.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').replace(/\s+/g, ' ').trim();
  if (!plain) return `HTTP ${status}`;
  return plain.length > 200 ? `${plain.slice(0, 197)}...` : plain;
}
