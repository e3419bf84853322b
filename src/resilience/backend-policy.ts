import {
  BrokenCircuitError, circuitBreaker, ConsecutiveBreaker, ExponentialBackoff, handleWhen, retry, wrap, CircuitState,
} from 'cockatiel';
import { context, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import type { HealthReporter } from '../adapter-contract.ts';
import type { UpstreamObserver } from '../metrics/gateway-metrics.ts';
import { isNotFound } from '../adapter-kit/upstream-errors.ts';
import { ErrorCode, isUpstreamError, UpstreamError } from '../errors.ts';
import { underDeadline } from './deadline.ts';

export type CircuitStateName = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

export interface BackendPolicyOptions {
  /** Attempts of one idempotent read, the first included. */
  readonly attempts?: number;
  /** Consecutive failures that open the circuit. */
  readonly breakerThreshold?: number;
  /** How long an open circuit refuses calls before one probe is let through. */
  readonly halfOpenAfterMs?: number;
  readonly now?: () => number;
  /** Where the outcome of each operation is counted, once (the backend's health). */
  readonly health?: Pick<HealthReporter, 'success' | 'failure'>;
  /** Where each operation, retry and rate-limit wait is counted for /metrics. */
  readonly observer?: UpstreamObserver;
  /** Where each operation is traced as a CLIENT span (README "Traces"); none without tracing. */
  readonly tracer?: Tracer;
}

/** How one operation runs: who may cancel it and by when it must answer. */
export interface ReadOptions {
  /** The caller's cancellation (shutdown, a caller gone): aborts the read; not a backend failure. */
  readonly signal?: AbortSignal;
  /**
   * Deadline of the whole operation, attempts and backoff included: at it the
   * read's signal aborts (its requests are cancelled, its queued ones leave the
   * queue) and the operation fails with UPSTREAM_TIMEOUT.
   */
  readonly deadlineMs?: number;
  /** What is read, for the timeout's message (e.g. "loading jobs"). */
  readonly what?: string;
}

/** An adapter read: it passes `signal` to every request it sends. */
export type Read<T> = (signal: AbortSignal) => Promise<T>;

export interface BackendPolicy {
  /**
   * Runs one idempotent upstream read under deadline, retry, circuit breaker
   * and rate-limit wait, and counts its outcome in the backend's health once
   * (however many attempts it took).
   */
  execute<T>(read: Read<T>, options?: ReadOptions): Promise<T>;
  /**
   * A DataLoader batch under the same policy. Batch functions never reject for
   * one key's failure, so the slots are inspected: a rate-limited slot starts
   * the wait, a transient one counts as a failure for the breaker (the batch is
   * not retried: its other keys succeeded). The slots come back as they were.
   * A batch with an Error in a slot counts as one failed operation.
   */
  executeBatch<S>(read: Read<ReadonlyArray<S | Error>>, options?: ReadOptions): Promise<ReadonlyArray<S | Error>>;
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
/**
 * Ends an upstream operation's span: its attempts beyond the first, and on
 * failure the error code and the backend's HTTP status (the adapters' typed
 * errors carry it; a success's status is not seen at this seam).
 */
function endUpstreamSpan(span: Span, tries: number, error: unknown): void {
  span.setAttribute('switchyard.upstream.retries', Math.max(0, tries - 1));
  if (error !== null) {
    if (isUpstreamError(error)) {
      span.setAttribute('error.type', error.code);
      if (error.details.status !== undefined) span.setAttribute('http.response.status_code', error.details.status);
      if (error.details.method) span.setAttribute('http.request.method', error.details.method);
    } else span.setAttribute('error.type', (error as Error)?.name || 'Error');
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
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
 *   that backend until then: no request is sent during the wait;
 * - a deadline aborts the read's signal, so retries, backoff and requests stop
 *   with the answer instead of holding the client's concurrency slots;
 * - the backend's health counts each operation once: success, or one failure
 *   after the last attempt (clients report rate-limit headers only).
 */
export function createBackendPolicy(backend: string, options: BackendPolicyOptions = {}): BackendPolicy {
  const now = options.now ?? Date.now;
  const health = options.health;
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
  const observer = options.observer;
  const tracer = options.tracer;
  if (observer) retrying.onRetry(() => observer.retry());
  const noteRateLimit = (error: unknown) => {
    if (isUpstreamError(error) && error.code === ErrorCode.UpstreamRateLimited && error.details.retryAfterMs) {
      const until = now() + error.details.retryAfterMs;
      if (until > blockedUntil) observer?.rateLimitWait();
      blockedUntil = Math.max(blockedUntil, until);
    }
  };
  async function attempts<T>(read: Read<T>, signal: AbortSignal, tries: { n: number }): Promise<T> {
    const wait = blockedUntil - now();
    if (wait > 0) {
      throw new UpstreamError(backend, ErrorCode.UpstreamRateLimited, `rate limited upstream; next request allowed in ${Math.ceil(wait / 1000)} s`, { retryAfterMs: wait });
    }
    try {
      // cockatiel's backoff sleep does not end on abort: an attempt after it sends nothing.
      return await policy.execute(({ signal: attemptSignal }) => (attemptSignal.throwIfAborted(), tries.n++, read(attemptSignal)), signal);
    } catch (error) {
      if (error instanceof BrokenCircuitError) {
        throw new UpstreamError(backend, ErrorCode.UpstreamUnavailable, 'circuit open after repeated failures; not calling the backend until a probe succeeds');
      }
      noteRateLimit(error);
      throw error;
    }
  }
  async function run<T>(read: Read<T>, options: ReadOptions, failedSlot?: (value: T) => Error | undefined): Promise<T> {
    const startedAt = performance.now();
    const tries = { n: 0 };
    const span = tracer?.startSpan(`upstream ${backend}`, { kind: SpanKind.CLIENT, attributes: { 'switchyard.backend': backend, 'switchyard.upstream.operation': options.what ?? 'read' } });
    const observe = (error: unknown) => {
      observer?.operation((performance.now() - startedAt) / 1000, error);
      if (span) endUpstreamSpan(span, tries.n, error);
    };
    let value: T;
    try {
      // Inside the span: the adapter's HTTP requests become its children.
      const guarded = () => underDeadline((signal) => attempts(read, signal, tries), {
        parent: options.signal,
        deadlineMs: options.deadlineMs,
        timeoutError: () => new UpstreamError(backend, ErrorCode.UpstreamTimeout, `${options.what ?? 'reading'} took longer than ${options.deadlineMs} ms`),
      });
      value = await (span ? context.with(trace.setSpan(context.active(), span), guarded) : guarded());
    } catch (error) {
      // A caller that gave up is not a sick backend; a 404 is an answer.
      if (options.signal?.aborted) {
        span?.end();
        throw error;
      }
      if (isNotFound(error)) {
        health?.success();
        observe(null);
      } else {
        const counted = error instanceof FailedSlots ? error.first : error;
        health?.failure(counted);
        observe(counted);
      }
      throw error;
    }
    const failed = failedSlot?.(value);
    if (failed) health?.failure(failed);
    else health?.success();
    observe(failed ?? null);
    return value;
  }
  return {
    execute: (read, readOptions = {}) => run(read, readOptions),
    async executeBatch(read, readOptions = {}) {
      const batch: typeof read = async (signal) => {
        const slots = await read(signal);
        for (const slot of slots) if (slot instanceof Error) noteRateLimit(slot);
        const transient = slots.find((slot): slot is UpstreamError => slot instanceof Error && isTransient(slot));
        if (transient) throw new FailedSlots(slots, transient);
        return slots;
      };
      try {
        return await run(batch, readOptions, (slots) => slots.find((slot): slot is Error => slot instanceof Error));
      } catch (error) {
        if (error instanceof FailedSlots) return error.slots as ReadonlyArray<never>;
        throw error;
      }
    },
    circuit: () => (breaker.state === CircuitState.Open || breaker.state === CircuitState.Isolated ? 'OPEN' : breaker.state === CircuitState.HalfOpen ? 'HALF_OPEN' : 'CLOSED'),
    blockedUntil: () => blockedUntil,
  };
}
