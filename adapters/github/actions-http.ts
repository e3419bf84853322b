/**
 * The only sender of action requests: every request carries the write token and nothing else
 * (reads go through GithubClient with the read token). Records each request's method, path and
 * status for the ActionOutcome; a 4xx becomes an ActionRefusedError with GitHub's reason,
 * rate limits, 5xx and transport failures an UpstreamError as for reads.
 */
import type { ActionCall, ActionKind, RateLimitReporter } from '../../src/adapter-contract.ts';
import { ActionRefusedError } from '../../src/errors.ts';
import { refusalFor } from './actions-refusals.ts';
import { GITHUB_API_VERSION } from './client.ts';
import { rateLimitWaitMs, toUpstreamError } from './errors.ts';

export interface ActionSenderOptions {
  readonly backend: string;
  readonly baseUrl: string;
  readonly writeToken: string;
  readonly timeoutMs: number;
  readonly health: RateLimitReporter;
  readonly now: () => Date;
  readonly fetch?: typeof fetch;
}

export interface SentCall {
  readonly call: ActionCall;
  readonly data: unknown;
}

function messageOf(data: unknown, status: number): string {
  return data !== null && typeof data === 'object' && 'message' in data && typeof data.message === 'string' ? data.message : `HTTP ${status}`;
}

export class ActionSender {
  constructor(private readonly opts: ActionSenderOptions) {}

  /** Sends one request for `kind`; `calls` receives it (with its status) before any error is thrown. */
  async send(kind: ActionKind, method: ActionCall['method'], path: string, body: unknown, calls: ActionCall[], signal: AbortSignal): Promise<SentCall> {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    let res: Response;
    try {
      res = await (this.opts.fetch ?? fetch)(`${this.opts.baseUrl}${path}`, {
        method,
        headers: {
          accept: 'application/vnd.github+json',
          authorization: `Bearer ${this.opts.writeToken}`,
          'x-github-api-version': GITHUB_API_VERSION,
          'user-agent': 'switchyard',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.any([timeout, signal]),
      });
    } catch (error) {
      signal.throwIfAborted();
      const reason = error instanceof Error ? ((error.cause instanceof Error ? error.cause.message : null) ?? error.message) : 'request failed';
      throw toUpstreamError({ backend: this.opts.backend, method, path, status: undefined, headers: {}, reason, timedOut: timeout.aborted, nowMs: this.opts.now().getTime() });
    }
    const headers = Object.fromEntries(res.headers.entries());
    this.observeRateLimit(headers);
    const text = await res.text();
    let data: unknown = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    const call: ActionCall = { method, path, status: res.status };
    calls.push(call);
    if (res.ok) return { call, data };
    const message = messageOf(data, res.status);
    const nowMs = this.opts.now().getTime();
    if (res.status < 400 || res.status >= 500 || res.status === 429 || rateLimitWaitMs(res.status, headers, message, nowMs) !== null) {
      throw toUpstreamError({ backend: this.opts.backend, method, path, status: res.status, headers, reason: message, timedOut: false, nowMs });
    }
    const refusal = refusalFor(kind, res.status, message);
    throw new ActionRefusedError(this.opts.backend, refusal.reason, `GitHub refused ${method} ${path}: ${message}`, {
      status: res.status, method, path, ...(refusal.input === undefined ? {} : { input: refusal.input }),
    });
  }

  private observeRateLimit(headers: Readonly<Record<string, string>>): void {
    const remaining = Number(headers['x-ratelimit-remaining']);
    const reset = Number(headers['x-ratelimit-reset']);
    if (headers['x-ratelimit-remaining'] === undefined && headers['x-ratelimit-reset'] === undefined) return;
    this.opts.health.rateLimit(Number.isFinite(remaining) ? remaining : null, Number.isFinite(reset) ? new Date(reset * 1000) : null);
  }
}
