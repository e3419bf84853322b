import type { HealthReporter } from './adapter-contract.ts';
import { isUpstreamError, ErrorCode } from './errors.ts';
import { sanitizeUpstreamText } from './upstream-text.ts';

export type HealthStateName = 'OK' | 'DEGRADED' | 'DOWN' | 'UNKNOWN';

export interface HealthSnapshot {
  readonly state: HealthStateName;
  readonly lastSuccessAt: Date | null;
  readonly lastErrorAt: Date | null;
  readonly lastErrorCode: string | null;
  readonly lastErrorMessage: string | null;
  readonly lastWebhookAt: Date | null;
  readonly lastPollAt: Date | null;
  readonly rateLimitRemaining: number | null;
  readonly rateLimitResetAt: Date | null;
}

/**
 * Tracks one backend's health. Success and failure come from the backend's
 * policy (src/resilience), once per operation however many attempts it took;
 * the adapter reports rate-limit windows, the ingestion webhooks and polls.
 * DOWN after 3 failed operations in a row with no success in between,
 * DEGRADED after one. The same error object is still counted once, should
 * two layers ever report it.
 */
export type HealthChangeListener = (from: HealthStateName, to: HealthStateName, snapshot: HealthSnapshot) => void;

export class BackendHealth implements HealthReporter {
  private consecutiveFailures = 0;
  private readonly listeners: HealthChangeListener[] = [];
  private readonly counted = new WeakSet<object>();
  private snapshot: HealthSnapshot = {
    state: 'UNKNOWN', lastSuccessAt: null, lastErrorAt: null, lastErrorCode: null, lastErrorMessage: null,
    lastWebhookAt: null, lastPollAt: null, rateLimitRemaining: null, rateLimitResetAt: null,
  };

  constructor(private readonly now: () => Date) {}

  get current(): HealthSnapshot {
    return this.snapshot;
  }

  /** Called on every change of `state` (not on every success or failure). */
  onChange(listener: HealthChangeListener): void {
    this.listeners.push(listener);
  }

  private update(next: HealthSnapshot): void {
    const from = this.snapshot.state;
    this.snapshot = next;
    if (from !== next.state) for (const listener of this.listeners) listener(from, next.state, next);
  }

  success(): void {
    this.consecutiveFailures = 0;
    this.update({ ...this.snapshot, state: 'OK', lastSuccessAt: this.now() });
  }

  failure(error: unknown): void {
    if (typeof error === 'object' && error !== null) {
      if (this.counted.has(error)) return;
      this.counted.add(error);
    }
    this.consecutiveFailures++;
    const code = isUpstreamError(error) ? error.code : ErrorCode.UpstreamUnavailable;
    const message = error instanceof Error ? error.message : String(error);
    this.update({
      ...this.snapshot,
      state: this.consecutiveFailures >= 3 ? 'DOWN' : 'DEGRADED',
      lastErrorAt: this.now(),
      lastErrorCode: code,
      // UpstreamErrors are sanitized already; anything else may quote an upstream too.
      lastErrorMessage: sanitizeUpstreamText(message),
    });
  }

  rateLimit(remaining: number | null, resetAt: Date | null): void {
    this.snapshot = { ...this.snapshot, rateLimitRemaining: remaining, rateLimitResetAt: resetAt };
  }

  webhookReceived(): void {
    this.snapshot = { ...this.snapshot, lastWebhookAt: this.now() };
  }

  polled(): void {
    this.snapshot = { ...this.snapshot, lastPollAt: this.now() };
  }
}
