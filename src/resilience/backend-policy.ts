import {
  BrokenCircuitError, circuitBreaker, ConsecutiveBreaker, ExponentialBackoff, handleWhen, retry, wrap, CircuitState,
} from 'cockatiel';
import { ErrorCode, isUpstreamError, UpstreamError } from '../errors.ts';

export type CircuitStateName = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

export interface BackendPolicyOptions {
  /** Attempts of one idempotent read, the first included. */
  readonly attempts?: number;
  /** Consecutive failures that open the circuit. */
  readonly breakerThreshold?: number;
  /** How long an open circuit refuses calls before one probe is let through. */
  readonly halfOpenAfterMs?: number;
  readonly now?: () => number;
}

export interface BackendPolicy {
  /** Runs one idempotent upstream read under retry, circuit breaker and rate-limit wait. */
  execute<T>(read: () => Promise<T>): Promise<T>;
  /**
   * A DataLoader batch under the same policy. Batch functions never reject for
   * one key's failure, so the slots are inspected: a rate-limited slot starts
   * the wait, a transient one counts as a failure for the breaker (the batch is
   * not retried: its other keys succeeded). The slots come back as they were.
   */
  executeBatch<S>(read: () => Promise<ReadonlyArray<S | Error>>): Promise<ReadonlyArray<S | Error>>;
  readonly circuit: () => CircuitStateName;
  /** When the backend's rate-limit wait ends (ms since epoch), or 0. */
  readonly blockedUntil: () => number;
}

const TRANSIENT = new Set<string>([ErrorCode.UpstreamUnavailable, ErrorCode.UpstreamTimeout]);
const isTransient = (e: Error) => isUpstreamError(e) && TRANSIENT.has(e.code);

/** A batch whose slots hold a transient failure: a failure to the breaker, its slots still the answer. */
class FailedSlots<S> extends Error {
  constructor(readonly slots: ReadonlyArray<S | Error>, readonly first: UpstreamError) {
    super(first.message);
  }
}
const countsForBreaker = (e: Error) => isTransient(e) || (e instanceof FailedSlots);

/**
 * The core's resilience policy for one backend, around every adapter read
 * (loaders, lists, polls):
 * - retries transient failures (5xx, network, timeout) of idempotent reads with
 *   jittered exponential backoff; never 4xx, never rate limits;
 * - a circuit breaker (cockatiel) opens after consecutive failures and refuses
 *   calls without touching the backend until a half-open probe succeeds;
 * - a rate-limit answer with Retry-After (or a reset time) blocks every call to
 *   that backend until then: no request is sent during the wait.
 */
export function createBackendPolicy(backend: string, options: BackendPolicyOptions = {}): BackendPolicy {
  const now = options.now ?? Date.now;
  let blockedUntil = 0;
  const retrying = retry(handleWhen(isTransient), {
    maxAttempts: Math.max(0, (options.attempts ?? 3) - 1),
    backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2000 }),
  });
  const breaker = circuitBreaker(handleWhen(countsForBreaker), {
    halfOpenAfter: options.halfOpenAfterMs ?? 30_000,
    breaker: new ConsecutiveBreaker(options.breakerThreshold ?? 5),
  });
  const policy = wrap(breaker, retrying);
  const noteRateLimit = (error: unknown) => {
    if (isUpstreamError(error) && error.code === ErrorCode.UpstreamRateLimited && error.details.retryAfterMs) {
      blockedUntil = Math.max(blockedUntil, now() + error.details.retryAfterMs);
    }
  };
  async function run<T>(read: () => Promise<T>): Promise<T> {
    const wait = blockedUntil - now();
    if (wait > 0) {
      throw new UpstreamError(backend, ErrorCode.UpstreamRateLimited, `rate limited upstream; next request allowed in ${Math.ceil(wait / 1000)} s`, { retryAfterMs: wait });
    }
    try {
      return await policy.execute(() => read());
    } catch (error) {
      if (error instanceof BrokenCircuitError) {
        throw new UpstreamError(backend, ErrorCode.UpstreamUnavailable, 'circuit open after repeated failures; not calling the backend until a probe succeeds');
      }
      noteRateLimit(error);
      throw error;
    }
  }
  return {
    execute: run,
    async executeBatch(read) {
      try {
        return await run(async () => {
          const slots = await read();
          for (const slot of slots) if (slot instanceof Error) noteRateLimit(slot);
          const transient = slots.find((slot): slot is UpstreamError => slot instanceof Error && isTransient(slot));
          if (transient) throw new FailedSlots(slots, transient);
          return slots;
        });
      } catch (error) {
        if (error instanceof FailedSlots) return error.slots as ReadonlyArray<never>;
        throw error;
      }
    },
    circuit: () => (breaker.state === CircuitState.Open || breaker.state === CircuitState.Isolated ? 'OPEN' : breaker.state === CircuitState.HalfOpen ? 'HALF_OPEN' : 'CLOSED'),
    blockedUntil: () => blockedUntil,
  };
}
