import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ALL_SCOPE } from '../../src/auth/scope.ts';
import type { HistoryStore, SqlHistoryStore } from '../../src/history/history-store.ts';
import { deliveryId } from '../../src/notify/notification.ts';
import type { DeliveryState } from '../../src/notify/notify-context.ts';
import type { NotificationsConfig } from '../../src/notify/notify-config.ts';
import { createNotificationDelivery, type NotificationDelivery } from '../../src/notify/delivery/create-delivery.ts';
import { OutboxStore } from '../../src/notify/delivery/outbox-store.ts';
import { migratedStore, postgresDatabase, type TestDatabase } from '../helpers/history-stores.ts';
import { httpTestSink, startReceiver, testNotification, testNotificationsConfig, type Receiver } from '../helpers/notify-delivery-kit.ts';

const silent = pino({ level: 'silent' });

describe('notification delivery from the outbox to loopback receivers', () => {
  let db: TestDatabase;
  let store: SqlHistoryStore;
  const receivers: Receiver[] = [];
  const deliveries: NotificationDelivery[] = [];
  beforeEach(async () => {
    ({ db, store } = await migratedStore(postgresDatabase));
  });
  afterEach(async () => {
    await Promise.all(deliveries.splice(0).map((d) => d.task.close()));
    await Promise.all(receivers.splice(0).map((r) => r.close()));
    await db.drop();
  });

  const receiver = async () => {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  };

  /** A delivery (outbox and worker) over `over` (default: the test's store), sending to these receivers by sink name. */
  function start(config: NotificationsConfig, sinks: Record<string, Receiver>, options: { over?: HistoryStore; metrics?: Registry; pollMs?: number } = {}): NotificationDelivery {
    const over = options.over ?? store;
    const delivery = createNotificationDelivery({
      history: { store: () => over }, config, log: silent, now: () => new Date(), pollMs: options.pollMs ?? 50,
      sinks: new Map(Object.entries(sinks).map(([name, r]) => [name, httpTestSink(name, r.url)])),
      ...(options.metrics ? { metrics: options.metrics } : {}),
    });
    delivery.task.start(over);
    deliveries.push(delivery);
    return delivery;
  }

  const stateOf = async (delivery: NotificationDelivery, id: string) => (await delivery.outbox.list({ first: 200 }, ALL_SCOPE)).records.find((r) => r.id === id);
  const waitForState = (delivery: NotificationDelivery, id: string, state: DeliveryState) =>
    vi.waitFor(async () => expect((await stateOf(delivery, id))?.state).toBe(state), { timeout: 15_000, interval: 20 });

  it('retries a 500 with the same delivery id until it is accepted, and counts it in /metrics', async () => {
    const hook = await receiver();
    hook.answer = (r) => ({ status: r.attempt < 3 ? 500 : 200 });
    const metrics = new Registry();
    const delivery = start(testNotificationsConfig({ hook: {} }), { hook }, { metrics });
    const n = testNotification('gh/acme/web/p1/1/failed');
    expect(await delivery.outbox.enqueue(n, ['hook'])).toBe(1);
    await hook.until((r) => r.length === 3);
    const id = deliveryId(n.dedupeKey, 'hook');
    expect(hook.received.map((r) => [r.deliveryId, r.attempt])).toEqual([[id, 1], [id, 2], [id, 3]]);
    await waitForState(delivery, id, 'delivered');
    expect(await stateOf(delivery, id)).toMatchObject({ attempts: 3, lastStatus: 200, lastError: null });
    const text = await metrics.metrics();
    expect(text).toContain('switchyard_notifications_delivered_total{sink="hook"} 1');
    expect(text).toContain('switchyard_notifications_retried_total{sink="hook"} 2');
    expect(text).toContain('switchyard_notifications_outbox_pending{sink="hook"} 0');
    expect(text).toMatch(/switchyard_notification_delivery_latency_seconds_count\{sink="hook"\} 1/);
  });

  it('sends at once after an enqueue on this instance, not at the next poll', async () => {
    const hook = await receiver();
    // A poll far beyond the test's timeout: only the wake-up on enqueue can deliver in time.
    const delivery = start(testNotificationsConfig({ hook: {} }), { hook }, { pollMs: 3_600_000 });
    // The first message starts the worker's passes; once it is delivered, the worker waits for the poll or a wake-up.
    await delivery.outbox.enqueue(testNotification('first'), ['hook']);
    await waitForState(delivery, deliveryId('first', 'hook'), 'delivered');
    await delivery.outbox.enqueue(testNotification('k', { detectedAt: new Date().toISOString() }), ['hook']);
    await hook.until((r) => r.length === 2);
    await waitForState(delivery, deliveryId('k', 'hook'), 'delivered');
    expect((await stateOf(delivery, deliveryId('k', 'hook')))?.latencyMs).toBeLessThan(1000);
  });

  it('cuts off a receiver that hangs at the attempt timeout, while another sink keeps delivering', async () => {
    const slow = await receiver();
    const fast = await receiver();
    slow.answer = (r) => (r.attempt === 1 ? 'hang' : { status: 200 });
    const config = testNotificationsConfig({ slow: { concurrency: 1, timeoutSeconds: 0.5 }, fast: { concurrency: 1 } });
    const delivery = start(config, { slow, fast });
    const keys = ['a', 'b', 'c', 'd', 'e'];
    for (const k of keys) await delivery.outbox.enqueue(testNotification(k), ['slow', 'fast']);
    await fast.until((r) => r.length === keys.length);
    // The first message still hangs at the slow receiver (concurrency 1): nothing else reached it yet.
    expect(slow.received.map((r) => r.attempt)).toEqual([1]);
    await slow.until((r) => new Set(r.filter((x) => x.attempt === 2).map((x) => x.deliveryId)).size === keys.length);
    const first = slow.received.filter((r) => r.deliveryId === slow.received[0]!.deliveryId);
    expect(first.map((r) => r.attempt)).toEqual([1, 2]);
    expect(first[1]!.at - first[0]!.at).toBeGreaterThanOrEqual(500);
    for (const k of keys) await waitForState(delivery, deliveryId(k, 'slow'), 'delivered');
  });

  it('keeps to a sink\'s ratePerMinute: a second\'s worth at once, then one per token', async () => {
    const hook = await receiver();
    // 120 a minute: 2 at once, then one every 500 ms.
    const delivery = start(testNotificationsConfig({ hook: { concurrency: 8, ratePerMinute: 120 } }), { hook });
    for (const k of ['a', 'b', 'c', 'd']) await delivery.outbox.enqueue(testNotification(k), ['hook']);
    await hook.until((r) => r.length === 4);
    const at = hook.received.map((r) => r.at);
    expect(at[2]! - at[0]!).toBeGreaterThanOrEqual(400);
    expect(at[3]! - at[0]!).toBeGreaterThanOrEqual(900);
  });

  it('honours Retry-After: the next attempt comes no sooner than the receiver asked', async () => {
    const hook = await receiver();
    hook.answer = (r) => (r.attempt === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 });
    const delivery = start(testNotificationsConfig({ hook: {} }), { hook });
    await delivery.outbox.enqueue(testNotification('k'), ['hook']);
    await hook.until((r) => r.length === 2);
    const [first, second] = hook.received;
    // Backoff alone would retry within 0.1 s (maxBackoffSeconds of the test config).
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1000);
    await waitForState(delivery, deliveryId('k', 'hook'), 'delivered');
  });

  it('makes a message dead at once on a permanent refusal (4xx)', async () => {
    const hook = await receiver();
    hook.answer = () => ({ status: 410 });
    const delivery = start(testNotificationsConfig({ hook: {} }), { hook });
    await delivery.outbox.enqueue(testNotification('k'), ['hook']);
    const id = deliveryId('k', 'hook');
    await waitForState(delivery, id, 'dead');
    expect(await stateOf(delivery, id)).toMatchObject({ attempts: 1, lastStatus: 410, nextAttemptAt: null });
    expect(hook.received).toHaveLength(1);
    expect((await delivery.outbox.counts()).get('hook')).toEqual({ pending: 0, dead: 1 });
  });

  it('makes a message dead after maxAttempts; a redrive sends it again, from attempt 1, with the same id', async () => {
    const hook = await receiver();
    let up = false;
    hook.answer = () => ({ status: up ? 200 : 503 });
    const delivery = start(testNotificationsConfig({ hook: {} }, { maxAttempts: 3 }), { hook });
    await delivery.outbox.enqueue(testNotification('k'), ['hook']);
    const id = deliveryId('k', 'hook');
    await waitForState(delivery, id, 'dead');
    expect(hook.received.map((r) => r.attempt)).toEqual([1, 2, 3]);
    expect((await stateOf(delivery, id))?.lastError).toMatch(/gave up after 3 attempts/);
    up = true;
    expect(await delivery.outbox.redrive({ sink: 'hook' }, () => true)).toBe(1);
    await waitForState(delivery, id, 'delivered');
    expect(hook.received.map((r) => [r.deliveryId, r.attempt]).at(-1)).toEqual([id, 1]);
  });

  it('after a gateway stopped (or killed mid-send) during a sink outage, a new one delivers every message once the sink recovers', async () => {
    const hook = await receiver();
    let up = false;
    hook.answer = () => ({ status: up ? 200 : 503 });
    const config = testNotificationsConfig({ hook: { concurrency: 4 } }, { maxAttempts: 100 });
    const first = start(config, { hook });
    const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
    for (const k of keys) await first.outbox.enqueue(testNotification(k), ['hook']);
    await hook.until((r) => new Set(r.map((x) => x.deliveryId)).size === keys.length);
    await first.task.close();
    // A gateway killed mid-send leaves its rows claimed ('sending'): here two, with a lease of a second.
    const killed = await new OutboxStore(() => store, () => new Date()).claim('hook', 2, 'killed-instance', new Date(Date.now() + 1000));
    expect(killed).toHaveLength(2);
    const refusedBeforeStop = hook.received.length;
    up = true;
    const second = start(config, { hook }, { over: await db.open() });
    for (const k of keys) await waitForState(second, deliveryId(k, 'hook'), 'delivered');
    const accepted = hook.received.slice(refusedBeforeStop).map((r) => r.deliveryId).sort();
    expect(accepted).toEqual(keys.map((k) => deliveryId(k, 'hook')).sort());
  });

  it('rides out a history outage: store errors are logged, not thrown, and delivery resumes when the database answers', async () => {
    const hook = await receiver();
    let down = false;
    const fail = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    // The real store, failing while `down` (a database outage as the worker sees it).
    const flaky: HistoryStore = new Proxy(store, {
      get: (target, key, receiverObj) => (down && (key === 'query' || key === 'transaction') ? fail : Reflect.get(target, key, receiverObj)),
    });
    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    down = true;
    const delivery = createNotificationDelivery({
      history: { store: () => store }, config: testNotificationsConfig({ hook: {} }), log, now: () => new Date(), pollMs: 20,
      sinks: new Map([['hook', httpTestSink('hook', hook.url)]]),
    });
    deliveries.push(delivery);
    await delivery.outbox.enqueue(testNotification('k'), ['hook']);
    delivery.task.start(flaky);
    await vi.waitFor(() => expect(warnings.join('')).toMatch(/ECONNREFUSED.*outbox is unavailable/), { timeout: 5000, interval: 10 });
    expect(hook.received).toEqual([]);
    down = false;
    await waitForState(delivery, deliveryId('k', 'hook'), 'delivered');
    expect(hook.received).toHaveLength(1);
  });
});
