/**
 * One upstream read of a job's log as the core makes every read: charged to an identity's
 * upstream budget, then run under the backend's policy (deadline, retries, circuit breaker,
 * rate-limit wait), and counted for /metrics.
 */
import type { LogRead } from '../adapter-contract.ts';
import type { BackendEntry } from '../backend-registry.ts';
import { budgetExceeded, type UpstreamBudget } from '../loaders/upstream-budget.ts';
import type { LogMetrics } from './log-metrics.ts';

export type SourceRead = (offset: number, identity: string, signal?: AbortSignal) => Promise<LogRead | null>;

export interface UpstreamReadDeps {
  readonly budget: UpstreamBudget;
  readonly timeoutMs: number;
  readonly metrics: LogMetrics;
}

/** Reads of `jobNativeId`'s log on `backend` (which has `logs`). */
export function sourceReader(backend: BackendEntry, jobNativeId: string, deps: UpstreamReadDeps): SourceRead {
  const logs = backend.adapter.logs!;
  return async (offset, identity, signal) => {
    if (!deps.budget.tryTake(identity, 1)) throw budgetExceeded(backend.name, deps.budget.perMinute);
    deps.metrics.upstreamRead(backend.name);
    const read = await backend.policy.execute((s) => logs.read(jobNativeId, offset, s), {
      deadlineMs: deps.timeoutMs, what: `reading the log of job ${jobNativeId}`, ...(signal ? { signal } : {}),
    });
    if (read) deps.metrics.bytesRead(backend.name, read.bytes.length);
    return read;
  };
}
