import { Counter, Histogram, Registry } from 'prom-client';
import { isUpstreamError, ErrorCode } from '../errors.ts';

/** What the core's upstream policy reports of one backend's reads (src/resilience/backend-policy.ts). */
export interface UpstreamObserver {
  /** One operation (all its attempts) ended: `error` null on success. */
  operation(seconds: number, error: unknown): void;
  retry(): void;
  /** The backend asked for a pause: a rate-limit wait began (or was extended). */
  rateLimitWait(): void;
}

/** Why a webhook delivery was refused: a bounded label (adapters' own reasons are free text). */
export type WebhookRejection =
  | 'unknown_backend' | 'not_configured' | 'method' | 'content_type' | 'body_too_large' | 'unreadable_body'
  | 'signature' | 'malformed_json' | 'unavailable';

export interface WebhookObserver {
  received(backend: string): void;
  verified(backend: string): void;
  rejected(backend: string, reason: WebhookRejection): void;
  duplicate(backend: string): void;
}

export interface PollObserver {
  cycle(backend: string, ok: boolean, seconds: number): void;
}

/** Where a subscriber's events wait: its event-bus queue, or (multiplexed WebSocket subscriptions) its socket's unread frames. */
export type SubscriberQueue = 'event-bus' | 'websocket' | 'sse';

export interface BusObserver {
  /** An event reached the bus's subscribers `lagMs` after the gateway received it. */
  delivered(lagMs: number): void;
  /** A subscriber's queue overflowed (the subscription ended with SUBSCRIPTION_OVERFLOW). */
  overflow(queue: SubscriberQueue): void;
}

export interface HistoryObserver {
  /** A batch was committed; `lagMs` from the oldest row's acceptance to the commit. */
  written(lagMs: number): void;
}

/** Seconds, for calls to a CI API (fast cache hits to slow paged polls). */
const UPSTREAM_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Seconds, for in-process hand-offs (bus, history write-behind). */
const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const UPSTREAM_CODES = Object.values(ErrorCode).filter((code) => code.startsWith('UPSTREAM_') && code !== ErrorCode.UpstreamBudgetExceeded);
const errorCode = (error: unknown): string => (isUpstreamError(error) ? error.code : ErrorCode.UpstreamUnavailable);

/**
 * The gateway's own Prometheus families (README "Metrics"), on one registry
 * per gateway. Labels are bounded: backend names come from the config, codes
 * and reasons from closed sets. Gauges read at scrape time live in
 * gateway-gauges.ts and cicd-metrics.ts.
 */
export class GatewayMetrics implements WebhookObserver, PollObserver, BusObserver, HistoryObserver {
  readonly registry = new Registry();
  private readonly upstreamRequests = this.counter('switchyard_upstream_requests_total', 'Upstream read operations (one per read, however many attempts)', ['backend']);
  private readonly upstreamErrors = this.counter('switchyard_upstream_errors_total', 'Upstream read operations that failed, by error code', ['backend', 'code']);
  private readonly upstreamDuration = new Histogram({
    name: 'switchyard_upstream_request_duration_seconds', help: 'Duration of upstream read operations (attempts and backoff included)',
    labelNames: ['backend'], buckets: UPSTREAM_BUCKETS, registers: [this.registry],
  });
  private readonly upstreamRetries = this.counter('switchyard_upstream_retries_total', 'Retried attempts of upstream reads (transient failures)', ['backend']);
  private readonly rateLimitWaits = this.counter('switchyard_upstream_rate_limit_waits_total', 'Rate-limit waits a backend asked for (Retry-After, reset time)', ['backend']);
  private readonly pollCycles = this.counter('switchyard_poll_cycles_total', 'Poll cycles, by outcome', ['backend', 'outcome']);
  private readonly pollDuration = new Histogram({
    name: 'switchyard_poll_cycle_duration_seconds', help: 'Duration of poll cycles', labelNames: ['backend'], buckets: UPSTREAM_BUCKETS, registers: [this.registry],
  });
  private readonly webhooksReceived = this.counter('switchyard_webhook_deliveries_received_total', 'Webhook deliveries received', ['backend']);
  private readonly webhooksVerified = this.counter('switchyard_webhook_deliveries_verified_total', 'Webhook deliveries whose signature or token verified', ['backend']);
  private readonly webhooksRejected = this.counter('switchyard_webhook_deliveries_rejected_total', 'Webhook deliveries refused, by reason', ['backend', 'reason']);
  private readonly webhooksDuplicate = this.counter('switchyard_webhook_deliveries_duplicate_total', 'Webhook deliveries already processed (redeliveries)', ['backend']);
  private readonly busLag = new Histogram({
    name: 'switchyard_event_bus_lag_seconds', help: 'From an event received (webhook, poll) to its delivery to subscribers\' queues',
    buckets: LAG_BUCKETS, registers: [this.registry],
  });
  private readonly busOverflows = this.counter('switchyard_subscriber_queue_overflows_total', 'Subscriptions ended because their client fell too far behind, by queue', ['queue']);
  private readonly historyLag = new Histogram({
    name: 'switchyard_history_write_lag_seconds', help: 'From a change accepted to its batch committed to the history',
    buckets: [...LAG_BUCKETS, 30, 60], registers: [this.registry],
  });

  constructor() {
    for (const queue of ['event-bus', 'websocket'] as const) this.busOverflows.inc({ queue }, 0);
  }

  /** The upstream observer of one backend's policy. */
  upstream(backend: string): UpstreamObserver {
    const labels = { backend };
    // Children bound once: the hot path does no label lookup.
    const requests = this.upstreamRequests.labels(labels);
    const duration = this.upstreamDuration.labels(labels);
    const retries = this.upstreamRetries.labels(labels);
    const waits = this.rateLimitWaits.labels(labels);
    return {
      operation: (seconds, error) => {
        requests.inc();
        duration.observe(seconds);
        if (error !== null) this.upstreamErrors.inc({ backend, code: errorCode(error) });
      },
      retry: () => retries.inc(),
      rateLimitWait: () => waits.inc(),
    };
  }

  /** Registers a backend's series at zero, so a quiet backend shows 0 rather than nothing (and `rate()` has a start). */
  declareBackend(backend: string): void {
    for (const c of [this.upstreamRequests, this.upstreamRetries, this.rateLimitWaits, this.webhooksReceived, this.webhooksVerified, this.webhooksDuplicate]) c.inc({ backend }, 0);
    for (const code of UPSTREAM_CODES) this.upstreamErrors.inc({ backend, code }, 0);
  }

  cycle(backend: string, ok: boolean, seconds: number): void {
    this.pollCycles.inc({ backend, outcome: ok ? 'ok' : 'error' });
    this.pollDuration.observe({ backend }, seconds);
  }

  received(backend: string): void {
    this.webhooksReceived.inc({ backend });
  }

  verified(backend: string): void {
    this.webhooksVerified.inc({ backend });
  }

  rejected(backend: string, reason: WebhookRejection): void {
    this.webhooksRejected.inc({ backend, reason });
  }

  duplicate(backend: string): void {
    this.webhooksDuplicate.inc({ backend });
  }

  delivered(lagMs: number): void {
    if (Number.isFinite(lagMs)) this.busLag.observe(Math.max(0, lagMs) / 1000);
  }

  overflow(queue: SubscriberQueue): void {
    this.busOverflows.inc({ queue });
  }

  written(lagMs: number): void {
    if (Number.isFinite(lagMs)) this.historyLag.observe(Math.max(0, lagMs) / 1000);
  }

  private counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }
}
