import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { compileScope, ALL_SCOPE } from '../../src/auth/scope.ts';
import type { SqlHistoryStore } from '../../src/history/history-store.ts';
import { deliveryId } from '../../src/notify/notification.ts';
import { DeliveryWorker } from '../../src/notify/delivery/delivery-worker.ts';
import { OutboxStore } from '../../src/notify/delivery/outbox-store.ts';
import { HISTORY_DATABASES, migratedStore, type TestDatabase } from '../helpers/history-stores.ts';
import { httpTestSink, startReceiver, testNotification, testNotificationsConfig } from '../helpers/notify-delivery-kit.ts';

const silent = pino({ level: 'silent' });
const T0 = Date.parse('2026-01-01T10:00:00.000Z');

describe.each(HISTORY_DATABASES)('notification outbox on %s', (_name, createDatabase: () => Promise<TestDatabase>) => {
  let db: TestDatabase;
  let store: SqlHistoryStore;
  let clock: number;
  let outbox: OutboxStore;
  const now = () => new Date(clock);
  beforeEach(async () => {
    ({ db, store } = await migratedStore(createDatabase));
    clock = T0;
    outbox = new OutboxStore(() => store, now);
  });
  afterEach(async () => {
    await db.drop();
  });

  it('keeps one row per (message, sink): the same dedupe key enqueued again (a poll after a webhook, another instance) adds nothing', async () => {
    const n = testNotification('gh/acme/web/p1/1/failed');
    expect(await outbox.enqueue(n, ['slack', 'hook'])).toBe(2);
    expect(await outbox.enqueue(n, ['slack', 'hook'])).toBe(0);
    const other = await db.open();
    expect(await new OutboxStore(() => other, now).enqueue(n, ['hook', 'teams'])).toBe(1);
    const rows = await store.query<{ id: string; sink: string }>('SELECT id, sink FROM notification_outbox ORDER BY sink');
    expect(rows).toEqual(['hook', 'slack', 'teams'].map((sink) => ({ id: deliveryId(n.dedupeKey, sink), sink })));
  });

  it('claims each due row for one sender: concurrent claims take disjoint rows, and a claimed row is not due until its lease runs out', async () => {
    for (let i = 0; i < 30; i++) await outbox.enqueue(testNotification(`k${i}`), ['hook']);
    const other = new OutboxStore(() => store, now);
    const lease = new Date(T0 + 60_000);
    const [a, b] = await Promise.all([outbox.claim('hook', 20, 'a', lease), other.claim('hook', 20, 'b', lease)]);
    const ids = [...a, ...b].map((r) => r.id);
    expect(new Set(ids).size).toBe(30);
    expect(ids).toHaveLength(30);
    expect(await outbox.claim('hook', 10, 'c', lease)).toEqual([]);
    expect([...a, ...b].every((r) => r.state === 'sending' && r.attempts === 1)).toBe(true);
  });

  it('claims again a row whose sender died (its lease ran out); the dead sender can no longer record an outcome', async () => {
    await outbox.enqueue(testNotification('k1'), ['hook']);
    const [first] = await outbox.claim('hook', 5, 'dies', new Date(T0 + 60_000));
    expect(first?.attempts).toBe(1);
    clock = T0 + 59_000;
    expect(await outbox.claim('hook', 5, 'survivor', new Date(clock + 60_000))).toEqual([]);
    clock = T0 + 60_000;
    const [again] = await outbox.claim('hook', 5, 'survivor', new Date(clock + 60_000));
    expect(again).toMatchObject({ id: first!.id, attempts: 2, state: 'sending' });
    expect(await outbox.complete(first!.id, 'dies', { kind: 'delivered', status: 200 })).toBe(false);
    expect(await outbox.complete(first!.id, 'survivor', { kind: 'delivered', status: 200 })).toBe(true);
    const [row] = (await outbox.list({ first: 5 }, ALL_SCOPE)).records;
    expect(row).toMatchObject({ state: 'delivered', attempts: 2, lastStatus: 200, deliveredAt: new Date(clock).toISOString() });
  });

  it('sends each message exactly once with two workers (two instances) claiming from one database', async () => {
    const receiver = await startReceiver();
    const config = testNotificationsConfig({ hook: { concurrency: 4 } });
    const stores = [await db.open(), await db.open()];
    const workers = stores.map((s) => {
      const worker = new DeliveryWorker({ sinks: new Map([['hook', httpTestSink('hook', receiver.url)]]), config, log: silent, now: () => new Date(), pollMs: 20 });
      worker.start(s);
      return worker;
    });
    try {
      const ids = [];
      for (let i = 0; i < 80; i++) {
        const n = testNotification(`m${i}`);
        await new OutboxStore(() => stores[i % 2]!, () => new Date()).enqueue(n, ['hook']);
        ids.push(deliveryId(n.dedupeKey, 'hook'));
      }
      await receiver.until((r) => new Set(r.map((x) => x.deliveryId)).size === 80);
      // Each send's outcome is recorded just after the receiver answered it.
      const states = () => store.query<{ state: string; n: number }>('SELECT state, count(*)::int AS n FROM notification_outbox GROUP BY state');
      await vi.waitFor(async () => expect(await states()).toEqual([{ state: 'delivered', n: 80 }]), { timeout: 10_000, interval: 20 });
      await Promise.all(workers.map((w) => w.close()));
      expect(receiver.received.map((r) => r.deliveryId).sort()).toEqual(ids.sort());
    } finally {
      await Promise.all(workers.map((w) => w.close()));
      await receiver.close();
    }
  });

  it('lists newest first, filtered by the caller\'s scope before the page is cut, with an opaque cursor', async () => {
    const enqueueAt = async (key: string, over: Parameters<typeof testNotification>[1] = {}) => {
      clock += 1000;
      await outbox.enqueue(testNotification(key, over), ['hook']);
    };
    for (let i = 0; i < 5; i++) {
      await enqueueAt(`acme-${i}`);
      await enqueueAt(`other-${i}`, { project: { id: 'x', nativeId: '42', fullName: 'other/app', url: null } });
    }
    await enqueueAt('pool', { project: null, pool: { labels: ['linux'], online: 0, busy: 0, idle: 0, offline: 2, queued: 3, oldestWaitSeconds: 60 } });
    await enqueueAt('gitlab', { backend: 'gl', project: { id: 'y', nativeId: '7', fullName: 'acme/api', url: null } });
    const acme = compileScope({ backends: ['gh'], projects: ['acme/*'] });
    const keys: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await outbox.list({ first: 2, ...(after ? { after } : {}) }, acme);
      keys.push(...page.records.map((r) => r.notification.dedupeKey));
      if (!page.hasNextPage) break;
      after = page.endCursor!;
    }
    expect(keys).toEqual(['acme-4', 'acme-3', 'acme-2', 'acme-1', 'acme-0']);
    // Runners of the backend (an unrestricted grant sees them): the pool message too.
    const gh = await outbox.list({ first: 3 }, compileScope({ backends: ['gh'] }));
    expect(gh.records.map((r) => r.notification.dedupeKey)).toEqual(['pool', 'other-4', 'acme-4']);
    expect((await outbox.list({ first: 50, state: 'dead' }, ALL_SCOPE)).records).toEqual([]);
    expect((await outbox.list({ first: 50, sink: 'hook' }, ALL_SCOPE)).records).toHaveLength(12);
    await expect(outbox.list({ first: 2, after: 'not-a-cursor' }, ALL_SCOPE)).rejects.toThrow(/cursor/);
  });

  it('re-drives dead rows the caller may retry, from the first attempt and with the same id; counts pending and dead per sink', async () => {
    const keys = ['a', 'b', 'c'];
    for (const k of keys) await outbox.enqueue(testNotification(k, k === 'c' ? { project: { id: 'z', nativeId: 'other/app', fullName: null, url: null } } : {}), ['hook', 'slack']);
    for (const r of await outbox.claim('hook', 10, 'me', new Date(T0 + 60_000))) await outbox.complete(r.id, 'me', { kind: 'dead', status: 410, error: 'gone' });
    expect(Object.fromEntries(await outbox.counts())).toEqual({ hook: { pending: 0, dead: 3 }, slack: { pending: 3, dead: 0 } });
    const acme = compileScope({ backends: ['gh'], projects: ['acme/*'], actions: ['retry'] });
    const allowed = (r: Parameters<Parameters<OutboxStore['redrive']>[1]>[0]) =>
      acme.allowsAction('retry', r.notification.backend, [r.notification.project?.nativeId, r.notification.project?.fullName]);
    expect(await outbox.redrive({ sink: 'hook' }, allowed)).toBe(2);
    expect(Object.fromEntries(await outbox.counts())).toEqual({ hook: { pending: 2, dead: 1 }, slack: { pending: 3, dead: 0 } });
    const redriven = (await outbox.list({ first: 10, sink: 'hook', state: 'pending' }, ALL_SCOPE)).records;
    expect(redriven.map((r) => r.id).sort()).toEqual(['a', 'b'].map((k) => deliveryId(k, 'hook')).sort());
    expect(redriven.every((r) => r.attempts === 0 && r.lastStatus === 410)).toBe(true);
    // By id: a sending row is not taken from its sender.
    const [sending] = await outbox.claim('slack', 1, 'me', new Date(T0 + 60_000));
    expect(await outbox.redrive({ ids: [sending!.id, deliveryId('c', 'hook')] }, () => true)).toBe(1);
  });

  it('prunes delivered and dead rows finished before the cutoff, never waiting ones', async () => {
    for (const k of ['a', 'b', 'c']) await outbox.enqueue(testNotification(k), ['hook']);
    const [a, b] = await outbox.claim('hook', 2, 'me', new Date(T0 + 60_000));
    await outbox.complete(a!.id, 'me', { kind: 'delivered', status: 200 });
    await outbox.complete(b!.id, 'me', { kind: 'dead', status: 400, error: 'bad' });
    expect(await outbox.prune(new Date(T0))).toBe(0);
    expect(await outbox.prune(new Date(T0 + 1))).toBe(2);
    expect(Object.fromEntries(await outbox.counts())).toEqual({ hook: { pending: 1, dead: 0 } });
  });
});
