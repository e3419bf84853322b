import type { SendOutcome } from '../sink.ts';

/** `Retry-After` in ms: delay-seconds or an HTTP date (RFC 9110 10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/**
 * A receiver's answer as a SendOutcome: 2xx delivered; 408, 429 and 5xx retried (after
 * Retry-After when given); any other status (4xx, and 3xx: redirects are not followed, so a
 * message never leaves for a host nobody configured) is permanent.
 */
export function httpOutcome(status: number, retryAfter: string | null, detail: string, now?: number): SendOutcome {
  if (status >= 200 && status < 300) return { ok: true, status };
  const error = `HTTP ${status}${detail ? `: ${detail}` : ''}`;
  if (status === 408 || status === 429 || status >= 500) {
    const after = retryAfterMs(retryAfter, now);
    return { ok: false, kind: 'retry', status, error, ...(after !== undefined ? { retryAfterMs: after } : {}) };
  }
  return { ok: false, kind: 'permanent', status, error };
}

/** A request that got no answer (refused, reset, DNS, the attempt's timeout): always retried. */
export function networkOutcome(error: unknown, signal: AbortSignal): SendOutcome {
  if (signal.aborted) return { ok: false, kind: 'retry', status: null, error: 'no answer before the attempt timed out' };
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : null;
  const code = cause && 'code' in cause ? String((cause as { code: unknown }).code) : null;
  const message = cause?.message ?? (error instanceof Error ? error.message : String(error));
  return { ok: false, kind: 'retry', status: null, error: code ? `${code}: ${message}` : message };
}
