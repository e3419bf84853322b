import { UpstreamError, type UpstreamErrorCode } from '../../src/errors.ts';

/**
 * Maps a failed GitHub request to an UpstreamError. Messages carry the method,
 * the path (never the query string or credentials) and GitHub's short reason.
 */
export interface FailedRequest {
  readonly backend: string;
  readonly method: string;
  readonly path: string;
  readonly status: number | undefined;
  readonly headers: Readonly<Record<string, string | number | undefined>>;
  /** GitHub's `message` field or the transport error text. */
  readonly reason: string;
  readonly timedOut: boolean;
  readonly nowMs: number;
}

const DEFAULT_SECONDARY_WAIT_MS = 60_000;

function header(h: FailedRequest['headers'], name: string): string | undefined {
  const v = h[name];
  return v === undefined ? undefined : String(v);
}

/** How long GitHub asks us to wait, when the response is a rate-limit answer. */
export function rateLimitWaitMs(status: number | undefined, headers: FailedRequest['headers'], reason: string, nowMs: number): number | null {
  if (status !== 403 && status !== 429) return null;
  const retryAfter = Number(header(headers, 'retry-after'));
  if (header(headers, 'retry-after') !== undefined && Number.isFinite(retryAfter)) return Math.max(0, retryAfter * 1000);
  if (header(headers, 'x-ratelimit-remaining') === '0') {
    const reset = Number(header(headers, 'x-ratelimit-reset'));
    return Number.isFinite(reset) ? Math.max(0, reset * 1000 - nowMs) : DEFAULT_SECONDARY_WAIT_MS;
  }
  // Secondary limits may come without headers; GitHub says wait at least a minute.
  if (status === 429 || /rate limit/i.test(reason)) return DEFAULT_SECONDARY_WAIT_MS;
  return null;
}

function clip(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 200 ? `${oneLine.slice(0, 197)}...` : oneLine;
}

export function toUpstreamError(f: FailedRequest): UpstreamError {
  const where = `${f.method} ${f.path}`;
  const details = { status: f.status, method: f.method, path: f.path };
  const make = (code: UpstreamErrorCode, message: string, extra: { retryAfterMs?: number } = {}) =>
    new UpstreamError(f.backend, code, message, { ...details, ...extra });

  if (f.timedOut) return make('UPSTREAM_TIMEOUT', `${where} timed out`);
  const wait = rateLimitWaitMs(f.status, f.headers, f.reason, f.nowMs);
  if (wait !== null) return make('UPSTREAM_RATE_LIMITED', `${where} rate limited by GitHub (retry in ${Math.ceil(wait / 1000)}s)`, { retryAfterMs: wait });
  if (f.status === 401) return make('UPSTREAM_UNAUTHORIZED', `${where} rejected the token (401)`);
  // A 403 that is not a rate limit is a permission problem (e.g. runner lists need admin).
  if (f.status === 403) return make('UPSTREAM_UNAUTHORIZED', `${where} forbidden (403): ${clip(f.reason)}`);
  if (f.status === undefined || f.status === 0) return make('UPSTREAM_UNAVAILABLE', `${where} failed: ${clip(f.reason)}`);
  if (f.status >= 500) return make('UPSTREAM_UNAVAILABLE', `${where} answered ${f.status}`);
  return make('UPSTREAM_BAD_RESPONSE', `${where} answered ${f.status}: ${clip(f.reason)}`);
}

export function isNotFound(error: unknown): boolean {
  return error instanceof UpstreamError && error.details.status === 404;
}
