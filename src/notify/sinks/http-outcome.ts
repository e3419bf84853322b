import type { SendOutcome } from '../sink.ts';

/**
 * One mapping from an HTTP answer (or its absence) to what the delivery worker does next, for
 * every HTTP sink: 2xx delivered; 408, 429, 5xx, a network error or a timeout retried (after
 * Retry-After when the receiver said); any other status permanent (the receiver will not change
 * its mind: a 400 on the same body, a 404 on a deleted webhook).
 */

const RETRIED_STATUSES = new Set([408, 429]);

/** Retry-After as milliseconds: delta-seconds or an HTTP-date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined; // a negative or fractional number is not a date either
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A receiver's words, short and on one line: enough to tell why, never a page of HTML. */
export function shortBody(body: string): string {
  const line = body.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

export function outcomeFromStatus(status: number, retryAfter: string | null, body: string): SendOutcome {
  if (status >= 200 && status < 300) return { ok: true, status };
  const said = body ? `: ${shortBody(body)}` : '';
  if (status >= 500 || RETRIED_STATUSES.has(status)) {
    const retryAfterMs = parseRetryAfter(retryAfter);
    return { ok: false, kind: 'retry', status, error: `HTTP ${status}${said}`, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  return { ok: false, kind: 'permanent', status, error: `HTTP ${status}${said}` };
}

/** No answer: a timeout (our signal fired), a reset, a refused connection. Always retried. */
export function outcomeFromError(error: unknown, signal: AbortSignal): SendOutcome {
  if (signal.aborted) {
    const reason = signal.reason instanceof Error && signal.reason.name === 'TimeoutError' ? 'timed out' : 'aborted';
    return { ok: false, kind: 'retry', status: null, error: `no answer: ${reason}` };
  }
  return { ok: false, kind: 'retry', status: null, error: `no answer: ${describeNetworkError(error)}` };
}

/** fetch hides the cause (ECONNRESET, ECONNREFUSED) one level down. */
function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as Error & { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code ? `${code} (${cause.message.split('\n')[0]})` : cause.message.split('\n')[0] ?? cause.name;
  }
  return error.message.split('\n')[0] ?? error.name;
}
