import type { ActionCall, ActionKind } from '../../src/adapter-contract.ts';
import { httpFailureToUpstreamError, parseRetryAfterMs } from '../../src/adapter-kit/upstream-errors.ts';
import { ActionRefusedError } from '../../src/errors.ts';
import { refusalFor } from './action-refusals.ts';

/**
 * The HTTP client of actions: the only one that holds the write token (`Authorization: Bearer
 * <writeToken>`); reads go through the read client with the read token and never here, and every
 * request an action causes (the build it reads first, the follow-up reads) goes through here.
 *
 * Every request is appended to the action's `calls` with the status it answered (paths below the
 * backend's `url`, so `/v2/...`, never a credential). Answers:
 * - 2xx: the parsed JSON body;
 * - 401/403 and any other 4xx: an ActionRefusedError (action-refusals.ts) quoting Buildkite's
 *   `message` (and, for a missing `write_builds` scope, saying so);
 * - 429, 5xx and transport failures: UpstreamError as for reads (the action may or may not have
 *   happened; the core never retries a write). 429 honours `Retry-After`, else `RateLimit-Reset`.
 */
export interface ActionClientOptions {
  readonly backend: string;
  /** The backend's `url` (e.g. https://api.buildkite.com); paths start with `/v2/`. */
  readonly baseUrl: string;
  readonly token: string;
  readonly timeoutMs: number;
  readonly now: () => Date;
  readonly fetch?: typeof fetch;
}

export interface ActionAnswer {
  readonly status: number;
  readonly data: unknown;
}

export type WriteMethod = 'GET' | 'PUT' | 'POST';

export class BuildkiteActionClient {
  readonly stats = { requests: 0 };

  constructor(private readonly opts: ActionClientOptions) {}

  get backend(): string {
    return this.opts.backend;
  }

  /** Sends one request on behalf of `kind`; `calls` receives it before any error is thrown. */
  async send(kind: ActionKind, calls: ActionCall[], method: WriteMethod, path: string, signal: AbortSignal, body?: unknown): Promise<ActionAnswer> {
    const where = path.split('?')[0]!;
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    this.stats.requests++;
    let res: Response;
    let text: string;
    try {
      res = await (this.opts.fetch ?? fetch)(`${this.opts.baseUrl.replace(/\/+$/, '')}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          authorization: `Bearer ${this.opts.token}`,
          'user-agent': 'switchyard',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        // A redirect would take the write token along to wherever it points: refuse to follow.
        redirect: 'manual',
        signal: AbortSignal.any([timeout, signal]),
      });
      text = await res.text();
    } catch (error) {
      calls.push({ method, path });
      signal.throwIfAborted();
      throw this.failure(method, where, undefined, this.redact(transportReason(error)), timeout.aborted, null);
    }
    calls.push({ method, path, status: res.status });
    const data = parseJson(text);
    if (res.status >= 200 && res.status < 300) return { status: res.status, data };
    const message = this.redact(messageOf(data, text, res.status));
    if (res.status === 429 || res.status >= 500 || res.status < 400) throw this.failure(method, where, res.status, message, false, res.headers);
    const refusal = refusalFor(kind, res.status, message);
    throw new ActionRefusedError(this.opts.backend, refusal.reason, `Buildkite refused ${method} ${where} (${res.status}): ${refusal.explain ?? message}`, {
      status: res.status, method, path: where, ...(refusal.input === undefined ? {} : { input: refusal.input }),
    });
  }

  private failure(method: string, path: string, status: number | undefined, reason: string, timedOut: boolean, headers: Headers | null) {
    const nowMs = this.opts.now().getTime();
    return httpFailureToUpstreamError(
      { backend: this.opts.backend, method, path, status, reason, timedOut },
      { provider: 'Buildkite', waitMs: () => (status === 429 ? rateLimitWaitMs(headers, nowMs) : null) },
    );
  }

  private redact(text: string): string {
    return text.split(this.opts.token).join('[redacted]');
  }
}

/** How long a 429 asks to wait: `Retry-After`, else Buildkite's `RateLimit-Reset` (seconds), else a minute (its window). */
export function rateLimitWaitMs(headers: Headers | null, nowMs: number): number {
  const retryAfter = parseRetryAfterMs(headers?.get('retry-after'), nowMs);
  if (retryAfter !== null) return retryAfter;
  const resets = [headers?.get('ratelimit-reset'), headers?.get('ratelimit-user-reset')].map((v) => Number(v)).filter((n) => Number.isFinite(n) && n >= 0);
  return resets.length > 0 ? Math.max(...resets) * 1000 : 60_000;
}

/** Buildkite's reason: `{"message": "..."}` (with `errors` on 422), else the text itself. */
export function messageOf(data: unknown, text: string, status: number): string {
  const record = data !== null && typeof data === 'object' ? (data as Record<string, unknown>) : null;
  const message = typeof record?.message === 'string' ? record.message : null;
  const errors = Array.isArray(record?.errors) ? record.errors.filter((e): e is string => typeof e === 'string') : [];
  const parts = [message, ...errors].filter((p): p is string => p !== null && p.trim() !== '');
  if (parts.length > 0) return clip(parts.join('; '));
  const plain = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return plain ? clip(plain) : `HTTP ${status}`;
}

function parseJson(text: string): unknown {
  if (text.length === 0) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function clip(text: string): string {
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

function transportReason(error: unknown): string {
  if (!(error instanceof Error)) return 'request failed';
  return error.cause instanceof Error ? error.cause.message : error.message;
}
