import type { Notification } from './notification.ts';

/** One attempt at sending one outbox row. */
export interface SinkDelivery {
  readonly notification: Notification;
  /** The outbox row's id: stable across retries and instances (`webhook-id`, CloudEvents `id`). */
  readonly deliveryId: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
}

/**
 * What a sink says about an attempt. The delivery worker (src/notify/delivery) decides what follows:
 * `retry` is retried with exponential backoff and jitter, or after `retryAfterMs` when the receiver
 * said (Retry-After, 429); `permanent` goes straight to the dead letters (a 4xx other than 408/429).
 */
export type SendOutcome =
  | { readonly ok: true; readonly status: number | null }
  | { readonly ok: false; readonly kind: 'retry' | 'permanent'; readonly status: number | null; readonly error: string; readonly retryAfterMs?: number };

/**
 * A place messages go (Slack, Teams, a signed webhook, a CDEvents endpoint, the demo's log).
 * `send` must never throw: every failure is a SendOutcome, and it must honour `signal` (the
 * worker's per-attempt timeout), so a hung receiver never blocks other sinks.
 * Secrets (URLs with tokens, signing keys) are resolved when the sink is built and never logged:
 * `describe()` is what logs, errors and GraphQL show (scheme, host and path without query, or a name).
 */
export interface NotificationSink {
  readonly name: string;
  readonly type: SinkType;
  send(delivery: SinkDelivery, signal: AbortSignal): Promise<SendOutcome>;
  describe(): string;
}

export const SINK_TYPES = ['slack', 'teams', 'webhook', 'cdevents', 'log'] as const;
export type SinkType = (typeof SINK_TYPES)[number];
