import { UpstreamError, type UpstreamErrorCode } from '../../src/errors.ts';

/**
 * Maps a failed GitLab request to an UpstreamError. Messages carry the method,
 * the path (never the query string or the token) and GitLab's short reason.
 */
export interface FailedRequest {
  readonly backend: string;
  readonly method: string;
  readonly path: string;
  readonly status: number | undefined;
  readonly headers: Headers | undefined;
  readonly reason: string;
  readonly timedOut: boolean;
  readonly nowMs: number;
}

/** GitLab's default when a 429 says nothing (its throttles reset per minute). */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;

/**
 * How long to wait before the next request: `Retry-After` (seconds or an HTTP
 * date), else `RateLimit-Reset` (Unix seconds), else `RateLimit-ResetTime`
 * (HTTP date). Null when none is usable.
 */
export function waitFromHeaders(headers: Headers | undefined, nowMs: number): number | null {
  if (!headers) return null;
  const retryAfter = headers.get('retry-after');
  if (retryAfter !== null && retryAfter.trim() !== '') {
    const secs = Number(retryAfter);
    if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
    const at = Date.parse(retryAfter);
    if (Number.isFinite(at)) return Math.max(0, at - nowMs);
  }
  const reset = headers.get('ratelimit-reset');
  if (reset !== null && Number.isFinite(Number(reset)) && reset.trim() !== '') return Math.max(0, Number(reset) * 1000 - nowMs);
  const resetTime = headers.get('ratelimit-resettime');
  if (resetTime !== null) {
    const at = Date.parse(resetTime);
    if (Number.isFinite(at)) return Math.max(0, at - nowMs);
  }
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
  if (f.status === 429) {
    const wait = waitFromHeaders(f.headers, f.nowMs) ?? DEFAULT_RATE_LIMIT_WAIT_MS;
    return make('UPSTREAM_RATE_LIMITED', `${where} rate limited by GitLab (retry in ${Math.ceil(wait / 1000)}s)`, { retryAfterMs: wait });
  }
  if (f.status === 401) return make('UPSTREAM_UNAUTHORIZED', `${where} rejected the token (401)`);
  if (f.status === 403) return make('UPSTREAM_UNAUTHORIZED', `${where} forbidden (403): ${clip(f.reason)}`);
  if (f.status === undefined || f.status === 0) return make('UPSTREAM_UNAVAILABLE', `${where} failed: ${clip(f.reason)}`);
  if (f.status >= 500) return make('UPSTREAM_UNAVAILABLE', `${where} answered ${f.status}`);
  return make('UPSTREAM_BAD_RESPONSE', `${where} answered ${f.status}: ${clip(f.reason)}`);
}

export function isNotFound(error: unknown): boolean {
  return error instanceof UpstreamError && error.details.status === 404;
}

export function isRateLimited(error: unknown): error is UpstreamError {
  return error instanceof UpstreamError && error.code === 'UPSTREAM_RATE_LIMITED';
}
