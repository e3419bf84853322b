import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackendRegistry, type BackendEntry } from '../../src/backend-registry.ts';
import { BackendHealth } from '../../src/health.ts';
import type { HistoryStore } from '../../src/history/history-store.ts';
import { notificationsConfigSchema } from '../../src/notify/notify-config.ts';
import { createNotificationRules, type NotificationRules } from '../../src/notify/rules/create-notification-rules.ts';
import { LiveState } from '../../src/state/live-state.ts';
import { HISTORY_DATABASES, migratedStore, type TestDatabase } from '../helpers/history-stores.ts';
import { job, pipeline, runner } from '../helpers/ci-models.ts';

/** The timer triggers over a real live state, real backend health and a real history. */
describe.each(HISTORY_DATABASES)('notification timers on %s', (_name, createDatabase) => {
  let db: TestDatabase;
  let store: HistoryStore;
  let clock: Date;
  let state: LiveState;
  let health: BackendHealth;
  let registry: BackendRegistry;
  const engines: NotificationRules[] = [];
  const sent: { key: string; trigger: string; summary: string }[] = [];

  beforeEach(async () => {
    ({ db, store } = await migratedStore(createDatabase));
    clock = new Date('2026-01-01T11:00:00.000Z');
    state = new LiveState();
    state.apply({ type: 'Project', backend: 'gh', nativeId: 'acme/web', revision: [1], name: 'web', fullName: 'acme/web', url: null, defaultBranch: 'main' }, 0);
    health = new BackendHealth(() => clock);
    // The backend as the timers read it: its name, provider, whether webhooks are configured, and its real health.
    registry = new BackendRegistry([{ id: 'gh', name: 'gh', adapter: { provider: 'github', webhook: {} }, health } as unknown as BackendEntry]);
    sent.length = 0;
  });
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.task.close()));
    await db.drop();
  });

  function engine(rules: unknown[]): NotificationRules {
    const seen = new Set<string>();
    const e = createNotificationRules({
      config: notificationsConfigSchema.parse({ sinks: [{ type: 'log', name: 'ops' }], rules: rules.map((r) => ({ sinks: ['ops'], ...(r as object) })) }),
      enqueuer: {
        async enqueue(n) {
          if (seen.has(n.dedupeKey)) return 0;
          seen.add(n.dedupeKey);
          sent.push({ key: n.dedupeKey, trigger: n.trigger, summary: n.summary });
          return 1;
        },
      },
      state, registry, history: { enabled: true, store: () => store, read: (work) => work(store) }, log: pino({ level: 'silent' }), now: () => clock, settleMs: 0,
    });
    engines.push(e);
    return e;
  }

  it('running-longer-than: a fixed bound; p95 only with enough history', async () => {
    state.apply(pipeline('p1', { status: 'RUNNING' }), 0);
    state.apply(job('j1', { pipelineNativeId: 'p1', name: 'build', status: 'RUNNING', startedAt: '2026-01-01T10:40:00.000Z' }), 0);
    const fixed = engine([{ name: 'slow', on: ['running-longer-than'], runningLongerThan: 600 }]);
    expect(await fixed.scan()).toBe(1);
    expect(sent[0]!.summary).toBe('acme/web main: job build running for 20m (bound 10m)');

    const p95 = engine([{ name: 'slower-than-usual', on: ['running-longer-than'] }]);
    expect(await p95.scan()).toBe(0); // no history: no bound
    const past = Array.from({ length: 5 }, (_, i) => ({
      entity: job(`old${i}`, { pipelineNativeId: `old-p${i}`, name: 'build', status: 'SUCCESS', startedAt: `2026-01-01T0${i}:00:00.000Z`, finishedAt: `2026-01-01T0${i}:01:00.000Z` }),
      observedAt: `2026-01-01T0${i}:01:00.000Z`,
    }));
    await store.record(past);
    expect(await engine([{ name: 'slower-than-usual', on: ['running-longer-than'] }]).scan()).toBe(1);
    expect(sent[1]!.summary).toBe('acme/web main: job build running for 20m (bound 1m)');
  });

  it('runner pools: starved past the queue bound, empty when every runner is offline; once per episode', async () => {
    state.apply(runner('r1', ['self-hosted'], { state: 'OFFLINE' }), 0);
    for (const id of ['q1', 'q2']) state.apply(job(id, { status: 'QUEUED', labels: ['self-hosted'], queuedAt: '2026-01-01T10:55:00.000Z' }), 0);
    // Another pool, with a runner online and one job waiting: neither starved nor empty.
    state.apply(runner('r2', ['gpu'], { state: 'IDLE' }), 0);
    state.apply(job('g1', { status: 'QUEUED', labels: ['gpu'], queuedAt: '2026-01-01T10:58:00.000Z' }), 0);
    // A pool without any runner listed: never `empty`; one job waiting exactly the bound: not starved.
    state.apply(job('w1', { status: 'QUEUED', labels: ['windows'], queuedAt: '2026-01-01T10:00:00.000Z' }), 0);
    const e = engine([{ name: 'pools', on: ['runner-pool-starved', 'runner-pool-empty'], poolQueueAbove: 1, poolOldestWaitAboveSeconds: 3600 }]);
    expect(await e.scan()).toBe(2);
    expect(sent.map((s) => s.summary).sort()).toEqual([
      'gh pool [self-hosted]: 2 jobs queued, oldest for 5m',
      'gh pool [self-hosted]: every runner offline, 2 jobs waiting',
    ]);
    expect(await e.scan()).toBe(0);
    state.apply(runner('r1', ['self-hosted'], { state: 'IDLE', revision: [2] }), 0);
    expect(await e.scan()).toBe(0); // starved still, not empty any more
    state.apply(runner('r1', ['self-hosted'], { state: 'OFFLINE', revision: [3] }), 0);
    expect(await e.scan()).toBe(0); // empty again, but the episode's start (the oldest wait) is the same: the same message
  });

  it('backend-down and webhooks-silent fire once per episode and again after recovery', async () => {
    const e = engine([{ name: 'ops', on: ['backend-down', 'webhooks-silent'], webhooksSilentSeconds: 60 }]);
    expect(await e.scan()).toBe(0);
    health.success();
    clock = new Date(clock.getTime() + 1000);
    for (let i = 0; i < 3; i++) health.failure(new Error(`connect ECONNREFUSED ${i}`));
    expect(await e.scan()).toBe(1);
    expect(await e.scan()).toBe(0);
    health.success();
    expect(await e.scan()).toBe(0);
    clock = new Date(clock.getTime() + 1000);
    for (let i = 0; i < 3; i++) health.failure(new Error(`timeout ${i}`));
    expect(await e.scan()).toBe(1);
    expect(sent.map((s) => s.summary)).toEqual(['gh is down: connect ECONNREFUSED 2', 'gh is down: timeout 2']);

    clock = new Date(clock.getTime() + 120_000);
    expect(await e.scan()).toBe(1);
    expect(sent.at(-1)!.summary).toBe('gh: no webhook for 2m 2s (none since start)');
    health.webhookReceived();
    expect(await e.scan()).toBe(0);
    clock = new Date(clock.getTime() + 61_000);
    expect(await e.scan()).toBe(1);
    expect(sent.map((s) => s.trigger)).toEqual(['backend-down', 'backend-down', 'webhooks-silent', 'webhooks-silent']);
  });
});
