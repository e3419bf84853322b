import { httpFailureToUpstreamError } from '../../src/adapter-kit/upstream-errors.ts';
import { ErrorCode, UpstreamError } from '../../src/errors.ts';

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

export function toUpstreamError(f: FailedRequest): UpstreamError {
  return httpFailureToUpstreamError(f, {
    provider: 'GitLab',
    waitMs: () => (f.status === 429 ? waitFromHeaders(f.headers, f.nowMs) ?? DEFAULT_RATE_LIMIT_WAIT_MS : null),
  });
}

export { isNotFound } from '../../src/adapter-kit/upstream-errors.ts';

export function isRateLimited(error: unknown): error is UpstreamError {
  return error instanceof UpstreamError && error.code === ErrorCode.UpstreamRateLimited;
}
