import { httpFailureToUpstreamError, parseRetryAfterMs } from '../../src/adapter-kit/upstream-errors.ts';
import type { UpstreamError } from '../../src/errors.ts';

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
  const retryAfter = parseRetryAfterMs(header(headers, 'retry-after'), nowMs);
  if (retryAfter !== null) return retryAfter;
  if (header(headers, 'x-ratelimit-remaining') === '0') {
    const reset = Number(header(headers, 'x-ratelimit-reset'));
    return Number.isFinite(reset) ? Math.max(0, reset * 1000 - nowMs) : DEFAULT_SECONDARY_WAIT_MS;
  }
  // Secondary limits may come without headers; GitHub says wait at least a minute.
  if (status === 429 || /rate limit/i.test(reason)) return DEFAULT_SECONDARY_WAIT_MS;
  return null;
}

export function toUpstreamError(f: FailedRequest): UpstreamError {
  return httpFailureToUpstreamError(f, { provider: 'GitHub', waitMs: () => rateLimitWaitMs(f.status, f.headers, f.reason, f.nowMs) });
}

export { isNotFound } from '../../src/adapter-kit/upstream-errors.ts';
