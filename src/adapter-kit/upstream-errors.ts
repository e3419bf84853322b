import { ErrorCode, UpstreamError, type UpstreamErrorCode } from '../errors.ts';

/** An upstream answer of 404: the entity is gone or invisible, not a failure of the backend. */
export function isNotFound(error: unknown): boolean {
  return error instanceof UpstreamError && error.details.status === 404;
}

/** The awaited value, or null when the upstream answered 404; other failures propagate. */
export async function nullOn404<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** An upstream's reason text on one line, at most 200 characters. */
export function clipReason(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 200 ? `${oneLine.slice(0, 197)}...` : oneLine;
}

/** A failed HTTP request to a REST API that answers errors with a short JSON reason. */
export interface HttpFailure {
  readonly backend: string;
  readonly method: string;
  /** The path only: never the query string or credentials. */
  readonly path: string;
  readonly status: number | undefined;
  /** The upstream's short reason or the transport error text. */
  readonly reason: string;
  readonly timedOut: boolean;
}

/**
 * The HTTP status → UpstreamError code mapping shared by token-authenticated
 * REST APIs: timeout, rate limit (when `rateLimitWaitMs()` gives a wait),
 * 401/403 unauthorized, no status or 5xx unavailable, anything else a bad
 * response. Messages name the method and path, never credentials.
 */
export function httpFailureToUpstreamError(
  f: HttpFailure,
  rateLimit: { readonly provider: string; readonly waitMs: () => number | null },
): UpstreamError {
  const where = `${f.method} ${f.path}`;
  const details = { status: f.status, method: f.method, path: f.path };
  const make = (code: UpstreamErrorCode, message: string, extra: { retryAfterMs?: number } = {}) =>
    new UpstreamError(f.backend, code, message, { ...details, ...extra });

  if (f.timedOut) return make(ErrorCode.UpstreamTimeout, `${where} timed out`);
  const wait = rateLimit.waitMs();
  if (wait !== null) return make(ErrorCode.UpstreamRateLimited, `${where} rate limited by ${rateLimit.provider} (retry in ${Math.ceil(wait / 1000)}s)`, { retryAfterMs: wait });
  if (f.status === 401) return make(ErrorCode.UpstreamUnauthorized, `${where} rejected the token (401)`);
  // A 403 that is not a rate limit is a permission problem (e.g. runner lists need admin).
  if (f.status === 403) return make(ErrorCode.UpstreamUnauthorized, `${where} forbidden (403): ${clipReason(f.reason)}`);
  if (f.status === undefined || f.status === 0) return make(ErrorCode.UpstreamUnavailable, `${where} failed: ${clipReason(f.reason)}`);
  if (f.status >= 500) return make(ErrorCode.UpstreamUnavailable, `${where} answered ${f.status}`);
  return make(ErrorCode.UpstreamBadResponse, `${where} answered ${f.status}: ${clipReason(f.reason)}`);
}

/**
 * A `Retry-After` value (RFC 9110: delay-seconds or an HTTP date) as
 * milliseconds from `nowMs`; null when absent or unusable.
 */
export function parseRetryAfterMs(value: string | null | undefined, nowMs: number): number | null {
  if (value === null || value === undefined || value.trim() === '') return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : null;
}
