import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What the worker reports; a no-op when no registry is given. */
export interface DeliveryObserver {
  delivered(sink: string, latencyMs: number): void;
  retried(sink: string): void;
  dead(sink: string): void;
}

export const NO_DELIVERY_METRICS: DeliveryObserver = { delivered: () => {}, retried: () => {}, dead: () => {} };

/** Seconds from the transition's detection to the sink's acceptance (a retry adds its backoff). */
const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/**
 * The outbox's families (NOTIFICATIONS.md "Delivery: the outbox"). Labels: sink names, from the
 * config. The waiting and dead gauges are read from the outbox at scrape time; a scrape during
 * a history outage leaves them out rather than failing the scrape.
 */
export function deliveryMetrics(registry: Registry, counts: () => Promise<ReadonlyMap<string, { readonly pending: number; readonly dead: number }>>): DeliveryObserver {
  const delivered = new Counter({ name: 'switchyard_notifications_delivered_total', help: 'Notification deliveries a sink accepted', labelNames: ['sink'], registers: [registry] });
  const retried = new Counter({ name: 'switchyard_notifications_retried_total', help: 'Notification attempts that failed and were scheduled again', labelNames: ['sink'], registers: [registry] });
  const dead = new Counter({ name: 'switchyard_notifications_dead_total', help: 'Notification deliveries given up (dead letters, re-drivable)', labelNames: ['sink'], registers: [registry] });
  const latency = new Histogram({
    name: 'switchyard_notification_delivery_latency_seconds', help: 'From the transition\'s detection to the sink\'s acceptance',
    labelNames: ['sink'], buckets: LATENCY_BUCKETS, registers: [registry],
  });
  let last: ReadonlyMap<string, { readonly pending: number; readonly dead: number }> | null = null;
  // One read per scrape for both gauges (the registry collects families concurrently).
  let reading: Promise<void> | null = null;
  const read = () =>
    (reading ??= counts()
      .then((c) => void (last = c), () => void (last = null))
      .finally(() => setImmediate(() => (reading = null))));
  new Gauge({
    name: 'switchyard_notifications_outbox_pending', help: 'Notification deliveries waiting in the outbox (pending or being sent)', labelNames: ['sink'], registers: [registry],
    async collect() {
      this.reset();
      await read();
      for (const [sink, c] of last ?? []) this.set({ sink }, c.pending);
    },
  });
  new Gauge({
    name: 'switchyard_notifications_outbox_dead', help: 'Dead notification deliveries in the outbox', labelNames: ['sink'], registers: [registry],
    async collect() {
      this.reset();
      await read();
      for (const [sink, c] of last ?? []) this.set({ sink }, c.dead);
    },
  });
  return {
    delivered: (sink, latencyMs) => {
      delivered.inc({ sink });
      latency.observe({ sink }, Math.max(0, latencyMs) / 1000);
    },
    retried: (sink) => retried.inc({ sink }),
    dead: (sink) => dead.inc({ sink }),
  };
}
