import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileScope } from '../../src/auth/scope.ts';
import type { Observation, SqlHistoryStore } from '../../src/history/history-store.ts';
import { poolWaitsBetween } from '../../src/history/pools/pool-waits.ts';
import { poolWindow } from '../../src/history/pools/pool-window.ts';
import { projectScope } from '../../src/history/project-scope.ts';
import type { JobModel } from '../../src/model.ts';
import { poolOf } from '../../src/pools/pool-labels.ts';
import { HISTORY_DATABASES, migratedStore, type TestDatabase } from '../helpers/history-stores.ts';
import { at, job, runner } from '../helpers/ci-models.ts';

const LINUX = ['self-hosted', 'Linux', 'X64'];
const ALL = compileScope({ backends: ['*'] });
const ACME_ONLY = compileScope({ backends: ['gh'], projects: ['acme/*'], runners: true });

const observed = (entity: Observation['entity'], when: string): Observation => ({ entity, observedAt: when });

/** A job that queued at `queued`, ran on `runnerId` from `started` to `finished`. */
function ran(id: string, queued: string, started: string, finished: string | null, over: Partial<JobModel> = {}): JobModel {
  return job(id, {
    labels: LINUX, createdAt: queued, queuedAt: queued, startedAt: started, finishedAt: finished,
    status: finished ? 'SUCCESS' : 'RUNNING', runnerNativeId: 'rA', ...over,
  });
}

describe.each(HISTORY_DATABASES)('runner pool figures from the history on %s', (_name, createDatabase: () => Promise<TestDatabase>) => {
  let db: TestDatabase;
  let store: SqlHistoryStore;
  beforeEach(async () => {
    ({ db, store } = await migratedStore(createDatabase));
  });
  afterEach(async () => {
    await db.drop();
  });

  it('queue-time percentiles of each pool over the last hour: exact label sets, in scope only', async () => {
    const jobs = [
      // Pool linux,self-hosted,x64 (labels in any case and order): 10, 20, 30, 40 s.
      ran('w1', at('10:10'), '2026-01-01T10:10:10.000Z', null, { labels: ['X64', 'linux', 'self-hosted'] }),
      ran('w2', at('10:20'), '2026-01-01T10:20:20.000Z', null),
      ran('w3', at('10:30'), '2026-01-01T10:30:30.000Z', null),
      ran('w4', at('10:40'), '2026-01-01T10:40:40.000Z', null),
      // Left the queue before the hour: not in it.
      ran('old', at('08:00'), at('09:00'), at('09:10')),
      // Another pool (a superset of labels is another pool).
      ran('gpu', at('10:00'), at('10:05'), null, { labels: [...LINUX, 'gpu'] }),
      // A project the restricted caller does not see: 100 s.
      ran('hidden', at('10:50'), '2026-01-01T10:51:40.000Z', null, { projectNativeId: 'secret/ops' }),
    ];
    await store.record(jobs.map((j) => observed(j, at('11:00'))));
    const from = new Date(at('10:00'));
    const to = new Date(at('11:00'));
    const all = await poolWaitsBetween(store, await projectScope(store, ALL, ['gh']), ['gh'], from, to);
    expect(all.get('gh:linux,self-hosted,x64')).toEqual({ p50Ms: 30_000, p95Ms: expect.closeTo(88_000, 3) as number, sampleSize: 5 });
    expect(all.get('gh:gpu,linux,self-hosted,x64')).toEqual({ p50Ms: 300_000, p95Ms: 300_000, sampleSize: 1 });
    const acme = await poolWaitsBetween(store, await projectScope(store, ACME_ONLY, ['gh']), ['gh'], from, to);
    expect(acme.get('gh:linux,self-hosted,x64')).toEqual({ p50Ms: 25_000, p95Ms: expect.closeTo(38_500, 3) as number, sampleSize: 4 });
  });

  it('utilization, runner count, queue pressure per bucket and window waits of a pool', async () => {
    await store.record([
      // rA satisfies the pool and is online before the window; rB satisfies it but is offline throughout;
      // rC does not satisfy it (arm64); rD satisfies it, went offline before the window, came back inside it.
      observed(runner('rA', LINUX), at('09:00')),
      observed(runner('rB', LINUX, { state: 'OFFLINE' }), at('08:00')),
      observed(runner('rC', ['self-hosted', 'Linux', 'ARM64']), at('09:00')),
      observed(runner('rD', LINUX, { state: 'OFFLINE', revision: [1] }), at('08:00')),
      observed(runner('rD', LINUX, { state: 'IDLE', revision: [2] }), at('11:30')),
      // On rA: 10 min inside the window (from 09:50), 30 min, 15 min inside (until 12:15).
      observed(ran('q3', at('09:40'), at('09:50'), at('10:10')), at('12:30')),
      observed(ran('q1', at('10:20'), at('10:30'), at('11:00')), at('12:30')),
      observed(ran('q2', at('10:50'), at('11:45'), at('12:15')), at('12:30')),
      // On rC (not a runner of the pool): not busy time of the pool.
      observed(ran('arm', at('10:00'), at('10:00'), at('11:00'), { runnerNativeId: 'rC', labels: ['self-hosted', 'linux', 'arm64'] }), at('12:30')),
      // Another project's job of the pool: its wait is hidden from ACME_ONLY; its run time on rD is runner time.
      observed(ran('s1', at('11:00'), at('11:40'), at('11:50'), { projectNativeId: 'secret/ops', runnerNativeId: 'rD' }), at('12:30')),
    ]);
    const pool = poolOf('gh', ['self-hosted', 'linux', 'x64']);
    const request = async (scope: typeof ALL) => poolWindow(store, {
      pool, from: new Date(at('10:00')), to: new Date(at('12:00')), bucketMs: 3_600_000,
      scope: await projectScope(store, scope, ['gh']), withRunners: true, now: new Date(at('13:00')),
    });
    const acme = await request(ACME_ONLY);
    // rA and rD: 10 + 30 + 15 + 10 = 65 min busy over 2 runners x 120 min.
    expect(acme.runnerCount).toBe(2);
    expect(acme.busyMs).toBe(65 * 60_000);
    expect(acme.utilization).toBeCloseTo(65 / 240, 10);
    // Started in the window: q1 (10 min), q2 (55 min).
    expect(acme.wait).toEqual({ p50Ms: 1_950_000, p95Ms: expect.closeTo(3_165_000, 3) as number, sampleSize: 2 });
    expect(acme.buckets).toEqual([
      { from: at('10:00'), to: at('11:00'), queued: 2, started: 1, maxWaitMs: 600_000 },
      { from: at('11:00'), to: at('12:00'), queued: 1, started: 1, maxWaitMs: 3_300_000 },
    ]);
    const all = await request(ALL);
    expect(all.busyMs).toBe(65 * 60_000);
    expect(all.wait.sampleSize).toBe(3);
    expect(all.buckets.map((b) => b.queued)).toEqual([2, 2]);
    const hidden = await poolWindow(store, {
      pool, from: new Date(at('10:00')), to: new Date(at('12:00')), bucketMs: 3_600_000,
      scope: await projectScope(store, ACME_ONLY, ['gh']), withRunners: false, now: new Date(at('13:00')),
    });
    expect(hidden).toMatchObject({ runnerCount: 0, busyMs: 0, utilization: null });
  });

  it('a job still running is busy time until now, and one that ended before the window is none', async () => {
    await store.record([
      observed(runner('rA', LINUX, { state: 'BUSY' }), at('09:00')),
      observed(ran('old', at('08:00'), at('08:10'), at('09:30')), at('11:45')),
      observed(ran('live', at('11:20'), at('11:30'), null), at('11:45')),
    ]);
    const figures = await poolWindow(store, {
      pool: poolOf('gh', ['self-hosted', 'linux', 'x64']), from: new Date(at('10:00')), to: new Date(at('12:00')), bucketMs: 3_600_000,
      scope: await projectScope(store, ALL, ['gh']), withRunners: true, now: new Date(at('11:45')),
    });
    // 11:30 to now (11:45) over one runner's 105 min so far.
    expect(figures.busyMs).toBe(15 * 60_000);
    expect(figures.utilization).toBeCloseTo(15 / 105, 10);
  });
});
