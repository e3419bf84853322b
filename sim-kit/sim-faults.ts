/**
 * Fault injection and the request log shared by the CI-system simulators'
 * HTTP surfaces. Each simulator answers a status fault in its own API's
 * dialect (bodies, headers); what a fault is, when it applies and how a hang
 * is held are the same everywhere.
 */
import type { ServerResponse } from 'node:http';

/** A canned answer (optionally only for paths matching `match`), or a request that is never answered. */
export type SimFault =
  | { status: number; body?: unknown; match?: RegExp; retryAfterSeconds?: number; headers?: Record<string, string> }
  | { hang: true; match?: RegExp };

export type SimStatusFault = Extract<SimFault, { status: number }>;

export interface SimRequestRecord {
  readonly method: string;
  /** Path including the query string, exactly as requested. */
  readonly path: string;
  /** HTTP status answered; 0 for a hung request. */
  readonly status: number;
}

export interface FaultScope {
  readonly fault: () => SimFault | null;
  readonly record: (r: SimRequestRecord) => void;
  /** Hung responses are kept so the simulator's stop() can release them. */
  readonly hung: Set<ServerResponse>;
}

/**
 * Applies the current fault if it matches `path`: a hang fault is logged with
 * status 0 and its response held open ('held'); a status fault is returned
 * for the caller to answer; otherwise null (serve the request normally).
 */
export function injectFault(ctx: FaultScope, method: string, path: string, res: ServerResponse): SimStatusFault | 'held' | null {
  const fault = ctx.fault();
  if (!fault || (fault.match && !fault.match.test(path))) return null;
  if ('hang' in fault) {
    ctx.record({ method, path, status: 0 });
    ctx.hung.add(res);
    res.on('close', () => ctx.hung.delete(res));
    return 'held';
  }
  return fault;
}

/** Headers for a status fault: `base`, then the fault's own headers, then `retry-after` when set. */
export function faultHeaders(fault: SimStatusFault, base: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = { ...base, ...(fault.headers ?? {}) };
  if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
  return headers;
}
