import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackendRegistry } from '../../src/backend-registry.ts';
import type { PipelineEvent } from '../../src/events/event-types.ts';
import type { HistoryReads } from '../../src/history/history-reads.ts';
import type { HistoryStore } from '../../src/history/history-store.ts';
import { toGlobalId } from '../../src/ids.ts';
import type { JobModel, PipelineModel } from '../../src/model.ts';
import type { Notification } from '../../src/notify/notification.ts';
import { notificationsConfigSchema, type NotificationsConfig } from '../../src/notify/notify-config.ts';
import type { NotificationEnqueuer } from '../../src/notify/outbox-port.ts';
import { createNotificationRules, type NotificationRules } from '../../src/notify/rules/create-notification-rules.ts';
import { NotificationError } from '../../src/notify/rules/watches.ts';
import { LiveState } from '../../src/state/live-state.ts';
import { HISTORY_DATABASES, migratedStore, type TestDatabase } from '../helpers/history-stores.ts';
import { job, pipeline } from '../helpers/ci-models.ts';

/** A stand-in for the outbox (another module's): one row per (dedupe_key, sink), as the real one keeps. */
const OUTBOX = `CREATE TABLE test_outbox (dedupe_key text NOT NULL, sink text NOT NULL, trigger text NOT NULL, rule text NOT NULL, message jsonb NOT NULL, PRIMARY KEY (dedupe_key, sink))`;

function tinyOutbox(store: HistoryStore): NotificationEnqueuer {
  return {
    async enqueue(n: Notification, sinks: readonly string[]) {
      let inserted = 0;
      for (const sink of sinks) {
        inserted += (await store.transaction((tx) => tx.query(
          'INSERT INTO test_outbox (dedupe_key, sink, trigger, rule, message) VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT DO NOTHING',
          [n.dedupeKey, sink, n.trigger, n.rule, JSON.stringify(n)],
        ))).affected;
      }
      return inserted;
    },
  };
}

const reads = (store: HistoryStore): HistoryReads => ({ enabled: true, store: () => store, read: (work) => work(store) });

const config = (rules: unknown[]): NotificationsConfig => notificationsConfigSchema.parse({
  sinks: [{ type: 'log', name: 'team', watchable: true }, { type: 'log', name: 'platform' }, { type: 'log', name: 'quiet' }],
  rules,
});
const DEFAULT_RULE = { name: 'default-branch', on: ['failed', 'fixed', 'still-failing', 'canceled'], sinks: ['team'], route: { infrastructure: ['platform'] } };

const project = { type: 'Project', backend: 'gh', nativeId: 'acme/web', revision: [1], name: 'web', fullName: 'acme/web', url: null, defaultBranch: 'main' } as const;

let sequence = 0;
const finished = (p: PipelineModel, source: 'WEBHOOK' | 'POLL' = 'WEBHOOK'): PipelineEvent =>
  ({ type: 'Pipeline', pipeline: p, previousStatus: 'RUNNING', source, sequence: ++sequence, receivedAt: new Date().toISOString() });

const red = (id: string, minute: number, over: Partial<PipelineModel> = {}) =>
  pipeline(id, { status: 'FAILURE', createdAt: `2026-01-01T10:${String(minute).padStart(2, '0')}:00.000Z`, finishedAt: `2026-01-01T10:${String(minute).padStart(2, '0')}:30.000Z`, startedAt: `2026-01-01T10:${String(minute).padStart(2, '0')}:00.000Z`, ...over });
const green = (id: string, minute: number, over: Partial<PipelineModel> = {}) => red(id, minute, { status: 'SUCCESS', ...over });

describe.each(HISTORY_DATABASES)('notification rules on %s', (_name, createDatabase) => {
  let db: TestDatabase;
  let store: HistoryStore;
  let clock: Date;
  let state: LiveState;
  const engines: NotificationRules[] = [];

  beforeEach(async () => {
    ({ db, store } = await migratedStore(createDatabase));
    await store.transaction((tx) => tx.exec(OUTBOX));
    clock = new Date('2026-01-01T11:00:00.000Z');
    state = new LiveState();
    state.apply(project, 0);
  });
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.task.close()));
    await db.drop();
  });

  function engine(rules: unknown[], over: { store?: HistoryStore; state?: LiveState; settleMs?: number } = {}): NotificationRules {
    const s = over.store ?? store;
    const e = createNotificationRules({
      config: config(rules), enqueuer: tinyOutbox(s), state: over.state ?? state, registry: new BackendRegistry([]), history: reads(s),
      log: pino({ level: 'silent' }), now: () => clock, settleMs: over.settleMs ?? 0,
    });
    engines.push(e);
    return e;
  }

  const outbox = () => store.query<{ dedupe_key: string; sink: string; trigger: string; rule: string; message: Notification }>('SELECT * FROM test_outbox ORDER BY trigger, dedupe_key, sink');
  const triggers = async () => (await outbox()).map((r) => `${r.trigger}@${r.message.pipeline?.nativeId ?? r.message.job?.nativeId}->${r.sink}`);

  it('a failing-then-fixed sequence with webhook and poll duplicates gives one failed and one fixed', async () => {
    const e = engine([DEFAULT_RULE]);
    for (const p of [green('p0', 0), red('p1', 1), red('p1', 1), green('p2', 2), green('p2', 2)]) {
      e.observer.observe(finished(p, 'WEBHOOK'));
      e.observer.observe(finished(p, 'POLL'));
    }
    await e.idle();
    expect(await triggers()).toEqual(['failed@p1->team', 'fixed@p2->team']);
    const fixed = (await outbox()).find((r) => r.trigger === 'fixed')!.message;
    expect(fixed.red).toEqual({ since: '2026-01-01T10:01:30.000Z', pipelines: 1 });
    expect(fixed.previous).toEqual({ pipelineId: toGlobalId('Pipeline', 'gh', 'p1'), status: 'FAILURE', finishedAt: '2026-01-01T10:01:30.000Z' });
    expect(fixed.summary).toBe('acme/web main: ci fixed after 30s, red for 1 pipeline');
    expect(fixed.id).toMatch(/^ntf_/);
  });

  it('two instances on one database send each transition once', async () => {
    const other = await db.open();
    const a = engine([DEFAULT_RULE]);
    const b = engine([DEFAULT_RULE], { store: other, state: (() => { const s = new LiveState(); s.apply(project, 0); return s; })() });
    for (const p of [green('p0', 0), red('p1', 1), red('p2', 2), green('p3', 3)]) {
      a.observer.observe(finished(p, 'WEBHOOK'));
      b.observer.observe(finished(p, 'POLL'));
    }
    await Promise.all([a.idle(), b.idle()]);
    expect(await triggers()).toEqual(['failed@p1->team', 'fixed@p3->team', 'still-failing@p2->team']);
  });

  // Two instances must step a branch one after the other: the second waits for the first's row lock.
  it.runIf(_name === 'PostgreSQL')('a finish waits for the branch row another instance holds (SELECT ... FOR UPDATE)', async () => {
    const a = engine([DEFAULT_RULE]);
    a.observer.observe(finished(red('p1', 1)));
    await a.idle();
    const other = await db.open();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = other.transaction(async (tx) => {
      await tx.query(`SELECT 1 FROM notify_branch_state WHERE backend = 'gh' AND branch = 'main' FOR UPDATE`);
      locked();
      await held;
      // Meanwhile the other instance steps a newer green pipeline (p3), then commits.
      await tx.query(`UPDATE notify_branch_state SET last_native_id = 'p3', last_attempt = 1, last_created_at = '2026-01-01T10:03:00Z', last_status = 'SUCCESS',
        color = 'green', red_since = NULL, red_count = 0 WHERE backend = 'gh' AND branch = 'main'`);
    });
    await isLocked;
    a.observer.observe(finished(green('p2', 2)));
    let done = false;
    const handled = a.idle().then(() => (done = true));
    // The sentinel: the engine's statement shows up waiting on a lock (never a fixed sleep).
    for (;;) {
      const [row] = await store.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%notify_branch_state%'`);
      if (row!.n > 0 || done) break;
    }
    expect(done).toBe(false);
    release();
    await holder;
    await handled;
    // Read after the other's commit: p2 is older than p3, so not a transition, and p3 stays recorded.
    expect(await triggers()).toEqual(['failed@p1->team']);
    expect(await store.query(`SELECT last_native_id FROM notify_branch_state`)).toEqual([{ last_native_id: 'p3' }]);
  });

  it('a finish first seen more than an hour after it happened steps the branch but sends nothing', async () => {
    const e = engine([DEFAULT_RULE]);
    e.observer.observe(finished(red('p0', 0, { finishedAt: '2026-01-01T09:59:00.000Z' }))); // an hour and a minute before the clock
    e.observer.observe(finished(green('p1', 1)));
    await e.idle();
    expect(await triggers()).toEqual(['fixed@p1->team']);
  });

  it('an older pipeline finishing late is not a transition', async () => {
    const e = engine([DEFAULT_RULE]);
    e.observer.observe(finished(red('p2', 2)));
    e.observer.observe(finished(green('p1', 1))); // created before p2, finished after it
    await e.idle();
    expect(await triggers()).toEqual(['failed@p2->team']);
    e.observer.observe(finished(green('p3', 3)));
    await e.idle();
    expect(await triggers()).toEqual(['failed@p2->team', 'fixed@p3->team']);
  });

  it('still-failing is sent at most once per branch per stillFailingEveryMinutes', async () => {
    const e = engine([{ ...DEFAULT_RULE, stillFailingEveryMinutes: 60 }]);
    e.observer.observe(finished(red('p1', 1)));
    e.observer.observe(finished(red('p2', 2)));
    await e.idle();
    clock = new Date(clock.getTime() + 10 * 60_000);
    e.observer.observe(finished(red('p3', 3, { finishedAt: clock.toISOString() })));
    await e.idle();
    clock = new Date(clock.getTime() + 51 * 60_000);
    e.observer.observe(finished(red('p4', 4, { finishedAt: clock.toISOString() })));
    await e.idle();
    expect(await triggers()).toEqual(['failed@p1->team', 'still-failing@p2->team', 'still-failing@p4->team']);
    const last = (await outbox()).find((r) => r.message.pipeline?.nativeId === 'p4')!.message;
    expect(last.red).toEqual({ since: '2026-01-01T10:01:30.000Z', pipelines: 4 });
  });

  it('without a row, the branch is seeded from the history; with no history the past is unknown', async () => {
    await store.record([{ entity: red('h1', 0, { branch: 'main' }), observedAt: '2026-01-01T10:00:40.000Z' }]);
    const e = engine([DEFAULT_RULE]);
    e.observer.observe(finished(green('p1', 1)));
    e.observer.observe(finished(green('x1', 1, { name: 'other' }))); // another pipeline name: no history, unknown past
    await e.idle();
    expect(await triggers()).toEqual(['fixed@p1->team']);
    const fixed = (await outbox())[0]!.message;
    expect(fixed.previous?.pipelineId).toBe(toGlobalId('Pipeline', 'gh', 'h1'));
  });

  it('routes by category, matches the default branch only, and sends canceled without changing the colour', async () => {
    const e = engine([DEFAULT_RULE]);
    e.observer.observe(finished(red('p1', 1, { status: 'ERROR' })));
    e.observer.observe(finished(red('f1', 1, { branch: 'feature' })));
    e.observer.observe(finished(red('p2', 2, { status: 'CANCELED' })));
    e.observer.observe(finished(green('p3', 3)));
    await e.idle();
    expect(await triggers()).toEqual(['canceled@p2->team', 'failed@p1->platform', 'fixed@p3->team']);
    const failed = (await outbox()).find((r) => r.trigger === 'failed')!.message;
    expect(failed.category).toBe('infrastructure');
  });

  it('names the failing jobs, and marks or suppresses flaky ones from the history', async () => {
    // The history: job `test` passed on commit abc before.
    await store.record([
      { entity: green('old', 0, { commitSha: 'abc' }), observedAt: '2026-01-01T10:00:40.000Z' },
      { entity: job('j0', { pipelineNativeId: 'old', name: 'test', status: 'SUCCESS', finishedAt: '2026-01-01T10:00:30.000Z' }), observedAt: '2026-01-01T10:00:40.000Z' },
    ]);
    const failingTest: JobModel = job('j1', { pipelineNativeId: 'p1', name: 'test', status: 'FAILURE', finishedAt: '2026-01-01T10:01:20.000Z' });
    state.apply(failingTest, 0);
    const e = engine([
      { name: 'marks', on: ['failed'], sinks: ['team'], flaky: 'mark' },
      { name: 'suppresses', on: ['failed'], sinks: ['quiet'], flaky: 'suppress' },
    ]);
    e.observer.observe(finished(red('p1', 1, { commitSha: 'abc' })));
    await e.idle();
    const rows = await outbox();
    expect(rows.map((r) => `${r.rule}:${r.sink}`)).toEqual(['marks:team']);
    expect(rows[0]!.message.pipeline?.failingJobs.map((j) => [j.name, j.flaky])).toEqual([['test', true]]);
    expect(rows[0]!.message.summary).toBe('acme/web main: ci failed (1 job: test (flaky)) after 30s');
  });

  it('waits for the jobs of a finished pipeline to settle, so a job event just after the pipeline is named', async () => {
    const e = engine([DEFAULT_RULE], { settleMs: 1000 });
    e.observer.observe(finished(red('p1', 1)));
    // The job's own event arrives a little after the pipeline's (well within the settling time).
    await new Promise((resolve) => setTimeout(resolve, 50));
    state.apply(job('j1', { pipelineNativeId: 'p1', name: 'lint', status: 'FAILURE' }), 0);
    await e.idle();
    expect((await outbox())[0]!.message.summary).toBe('acme/web main: ci failed (1 job: lint) after 30s');
  });

  it('a watch sends one finished message, then is gone; a finished pipeline is sent at once', async () => {
    const e = engine([]);
    const running = pipeline('w1', { status: 'RUNNING' });
    state.apply(running, 0);
    const watched = await e.watches.watch(toGlobalId('Pipeline', 'gh', 'w1'), 'team', 'user-1');
    expect(watched).toEqual({ alreadyFinished: false, expiresAt: '2026-01-02T11:00:00.000Z' });
    const done = green('w1', 5, { revision: [2] });
    state.apply(done, 0);
    e.observer.observe(finished(done));
    e.observer.observe(finished(done, 'POLL'));
    await e.idle();
    const rows = await outbox();
    expect(rows.map((r) => [r.trigger, r.sink, r.rule.startsWith('watch:wch_')])).toEqual([['finished', 'team', true]]);
    expect(await store.query('SELECT * FROM notify_watches')).toEqual([]);

    const again = await e.watches.watch(toGlobalId('Pipeline', 'gh', 'w1'), 'team', 'user-2');
    expect(again).toEqual({ alreadyFinished: true, expiresAt: null });
    expect(await outbox()).toHaveLength(2);
    // Finished long ago, only in the history: sent at once too.
    await store.record([{ entity: green('h9', 0), observedAt: '2026-01-01T10:00:40.000Z' }]);
    expect(await e.watches.watch(toGlobalId('Pipeline', 'gh', 'h9'), 'team', 'user-1')).toEqual({ alreadyFinished: true, expiresAt: null });
    expect((await outbox()).filter((r) => r.message.pipeline?.nativeId === 'h9').map((r) => r.trigger)).toEqual(['finished']);
    await expect(e.watches.watch(toGlobalId('Pipeline', 'gh', 'w1'), 'platform', 'user-1')).rejects.toMatchObject({ code: 'INVALID_SINK' });
    await expect(e.watches.watch(toGlobalId('Pipeline', 'gh', 'w1'), 'nope', 'user-1')).rejects.toBeInstanceOf(NotificationError);
    await expect(e.watches.watch(toGlobalId('Job', 'gh', 'w1'), 'team', 'user-1')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a job queued longer than the bound fires once per episode, on two instances too', async () => {
    const other = await db.open();
    const queued = job('q1', { pipelineNativeId: 'p9', status: 'QUEUED', queuedAt: '2026-01-01T10:40:00.000Z', labels: ['linux'] });
    state.apply(pipeline('p9', { status: 'QUEUED' }), 0);
    state.apply(queued, 0);
    const rule = { name: 'stuck', on: ['queued-longer-than'], sinks: ['platform'], queuedLongerThanSeconds: 600 };
    const a = engine([rule]);
    const b = engine([rule], { store: other });
    expect(await a.scan()).toBe(1);
    expect(await a.scan()).toBe(0);
    expect(await b.scan()).toBe(0); // the other instance builds the same key: the outbox keeps one
    state.apply({ ...queued, status: 'RUNNING', revision: [2], startedAt: '2026-01-01T10:59:00.000Z' }, 0);
    expect(await a.scan()).toBe(0);
    // A new episode (queued again, a retry): a new message.
    state.apply({ ...queued, status: 'QUEUED', revision: [3], queuedAt: '2026-01-01T10:45:00.000Z' }, 0);
    expect(await a.scan()).toBe(1);
    const rows = await outbox();
    expect(rows.map((r) => r.trigger)).toEqual(['queued-longer-than', 'queued-longer-than']);
    expect(rows[0]!.message.summary).toMatch(/^acme\/web main: job test queued for (15m|20m) \(waiting for linux\)$/);
  });
});
