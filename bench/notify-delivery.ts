/**
 * Notification delivery figures (issue 16): messages per second from the outbox to a loopback
 * webhook receiver, and latency from detection to the receiver's acceptance, on the PostgreSQL at
 * 127.0.0.1:5432 (database `test`, a schema of its own, dropped afterwards).
 *   npx tsx bench/notify-delivery.ts [messages] [concurrency]
 */
import { pino } from 'pino';
import { ALL_SCOPE } from '../src/auth/scope.ts';
import { createNotificationDelivery } from '../src/notify/delivery/create-delivery.ts';
import { migratedStore, postgresDatabase } from '../test/helpers/history-stores.ts';
import { httpTestSink, startReceiver, testNotification, testNotificationsConfig } from '../test/helpers/notify-delivery-kit.ts';

const total = Number(process.argv[2] ?? 1000);
const concurrency = Number(process.argv[3] ?? 8);

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

async function main(): Promise<void> {
  const { db, store } = await migratedStore(postgresDatabase);
  const receiver = await startReceiver();
  const delivery = createNotificationDelivery({
    history: { store: () => store }, config: testNotificationsConfig({ hook: { concurrency, ratePerMinute: 60_000 } }),
    log: pino({ level: 'silent' }), now: () => new Date(), sinks: new Map([['hook', httpTestSink('hook', receiver.url)]]),
  });
  delivery.task.start(store);
  try {
    // Burst: every message enqueued at once (one enqueue each, as rules do), then drained.
    const t0 = performance.now();
    await Promise.all(Array.from({ length: total }, (_, i) => delivery.outbox.enqueue(testNotification(`burst-${i}`), ['hook'])));
    const enqueued = (performance.now() - t0) / 1000;
    await receiver.until((r) => r.length >= total);
    console.log(`burst: enqueued in ${enqueued.toFixed(2)} s`);
    const seconds = (performance.now() - t0) / 1000;
    console.log(`burst: ${total} messages in ${seconds.toFixed(2)} s = ${Math.round(total / seconds)} messages/s (concurrency ${concurrency})`);
    // Trickle: one message at a time, as transitions arrive; latency from detection to the receiver.
    const latencies: number[] = [];
    for (let i = 0; i < 200; i++) {
      const detectedAt = Date.now();
      const before = receiver.received.length;
      await delivery.outbox.enqueue(testNotification(`trickle-${i}`, { detectedAt: new Date(detectedAt).toISOString() }), ['hook']);
      await receiver.until((r) => r.length > before);
      latencies.push(receiver.received.at(-1)!.at - detectedAt);
    }
    latencies.sort((a, b) => a - b);
    console.log(`trickle: detection -> receiver p50 ${percentile(latencies, 0.5)} ms, p95 ${percentile(latencies, 0.95)} ms, max ${latencies.at(-1)} ms`);
    const recorded = (await delivery.outbox.list({ first: 200 }, ALL_SCOPE)).records.map((r) => r.latencyMs ?? NaN).sort((a, b) => a - b);
    console.log(`trickle: detection -> outcome recorded (latencyMs) p50 ${percentile(recorded, 0.5)} ms, p95 ${percentile(recorded, 0.95)} ms`);
  } finally {
    await delivery.task.close();
    await receiver.close();
    await db.drop();
  }
}

await main();
