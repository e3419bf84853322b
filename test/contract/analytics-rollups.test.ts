import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ALL_SCOPE, compileScope } from '../../src/auth/scope.ts';
import { flaky, stats } from '../../src/history/analytics/analytics.ts';
import { bucketOf } from '../../src/history/analytics/histogram.ts';
import { analyticsScope, type AnalyticsFilterInput } from '../../src/history/analytics/scope.ts';
import { statsGroups, statsQuery, type GroupBy, type StatsRow } from '../../src/history/analytics/stats.ts';
import type { AnalyticsWindow } from '../../src/history/analytics/window.ts';
import type { SqlHistoryStore } from '../../src/history/history-store.ts';
import { rowsOnly } from '../../src/history/rollups/rollup-plan.ts';
import { HISTORY_DATABASES, migratedStore, type TestDatabase } from '../helpers/history-stores.ts';
import { constructedHistory, job, obs, pipeline, PROVIDERS, WINDOW } from './analytics-history.ts';

type Table = 'pipelines' | 'jobs';
const PARTIAL: AnalyticsWindow = { from: new Date('2026-01-02T06:00:00.000Z'), to: new Date('2026-01-07T18:00:00.000Z') };
const KEYS: readonly (readonly GroupBy[])[] = [[], ['PROJECT', 'DAY'], ['PROVIDER', 'WEEK'], ['BACKEND']];
const webOnly = compileScope({ backends: ['gh'], projects: ['acme/web'] });

describe.each(HISTORY_DATABASES)('daily rollups on %s', (_name, createDatabase: () => Promise<TestDatabase>) => {
  let db: TestDatabase;
  let store: SqlHistoryStore;
  const scoped = (scope = ALL_SCOPE, filter?: AnalyticsFilterInput) => analyticsScope(store, scope, PROVIDERS, filter);

  /** The oracle: the same statement over every row of the window, no rollup read. */
  async function fromRows(table: Table, window: AnalyticsWindow, groupBy: readonly GroupBy[], scope = ALL_SCOPE) {
    const s = await scoped(scope);
    const q = statsQuery(table, rowsOnly(window.from, window.to), groupBy, s, null);
    return statsGroups(await store.queryLarge<StatsRow>(q.sql, q.params), s);
  }

  async function everyFigure() {
    const answers: unknown[] = [];
    for (const table of ['pipelines', 'jobs'] as const) {
      for (const window of [WINDOW, PARTIAL]) {
        for (const keys of KEYS) {
          for (const scope of [ALL_SCOPE, webOnly]) answers.push((await stats(store, table, await scoped(scope), window, keys, null)).groups);
        }
      }
    }
    for (const window of [WINDOW, PARTIAL]) {
      for (const order of ['FLAKE_RATE', 'TIME_COST'] as const) answers.push((await flaky(store, await scoped(), window, null, 20, order)).jobs);
    }
    return answers;
  }

  beforeAll(async () => {
    ({ db, store } = await migratedStore(createDatabase));
    for (const batch of constructedHistory()) await store.record(batch);
  }, 60_000);
  afterAll(async () => {
    await db.drop();
  });

  it('give the same answers as the rows, for every key they keep, scope and window, and are read once built', async () => {
    const before = await everyFigure();
    expect(await store.refreshRollups()).toBeGreaterThan(0);
    expect(await store.query('SELECT * FROM rollup_dirty')).toEqual([]);
    expect(await everyFigure()).toEqual(before);
    // The rollups are what is read: rows changed behind the triggers' back do not show...
    await store.query('ALTER TABLE pipelines DISABLE TRIGGER USER');
    await store.query(`UPDATE pipelines SET status = 'SUCCESS' WHERE finished_at >= '2026-01-03' AND finished_at < '2026-01-04'`);
    await store.query('ALTER TABLE pipelines ENABLE TRIGGER USER');
    const rolled = (await stats(store, 'pipelines', await scoped(), WINDOW, ['DAY'], null)).groups;
    expect(rolled).not.toEqual(await fromRows('pipelines', WINDOW, ['DAY']));
    // ...until the day is marked and rebuilt.
    await store.query(`INSERT INTO rollup_dirty (kind, day) VALUES ('pipelines', '2026-01-03')`);
    expect(await store.refreshRollups()).toBe(1);
    expect((await stats(store, 'pipelines', await scoped(), WINDOW, ['DAY'], null)).groups).toEqual(await fromRows('pipelines', WINDOW, ['DAY']));
  });

  it('count a new revision of a rolled-up pipeline at once, on the day it moved from and the one it moved to', async () => {
    await store.refreshRollups();
    const rerun = pipeline({ id: 'moved', status: 'FAILURE', finishedAt: '2026-01-02T10:00:00.000Z', durationMs: 7 * 60_000 });
    await store.record([obs(rerun)]);
    await store.refreshRollups();
    await store.record([obs({ ...rerun, revision: [2, 9, 0], status: 'SUCCESS', finishedAt: '2026-01-06T10:00:00.000Z' })]);
    const dirty = await store.query<{ day: string }>(`SELECT to_char(day, 'YYYY-MM-DD') AS day FROM rollup_dirty WHERE kind = 'pipelines' ORDER BY day`);
    expect(dirty.map((d) => d.day)).toEqual(['2026-01-02', '2026-01-06']);
    for (const keys of KEYS) expect((await stats(store, 'pipelines', await scoped(), WINDOW, keys, null)).groups).toEqual(await fromRows('pipelines', WINDOW, keys));
    await store.refreshRollups();
    for (const keys of KEYS) expect((await stats(store, 'pipelines', await scoped(), WINDOW, keys, null)).groups).toEqual(await fromRows('pipelines', WINDOW, keys));
  });

  it('retention marks the days it deletes from, and their rollups follow', async () => {
    const early = { from: WINDOW.from, to: new Date('2026-01-04') };
    await store.refreshRollups();
    expect((await stats(store, 'pipelines', await scoped(), early, [], null)).groups[0]!.count).toBeGreaterThan(0);
    await store.query(`UPDATE pipelines SET recorded_at = '2025-12-01' WHERE finished_at < '2026-01-04'`);
    await store.refreshRollups();
    await store.prune(new Date('2025-12-15T00:00:00.000Z'));
    for (const keys of KEYS) expect((await stats(store, 'pipelines', await scoped(), WINDOW, keys, null)).groups).toEqual(await fromRows('pipelines', WINDOW, keys));
    await store.refreshRollups();
    for (const keys of KEYS) expect((await stats(store, 'pipelines', await scoped(), WINDOW, keys, null)).groups).toEqual(await fromRows('pipelines', WINDOW, keys));
    expect((await stats(store, 'pipelines', await scoped(), early, [], null)).groups[0]!.count).toBe(0);
  });

  it('flaky jobs count a job\'s commits per day it ran on, from the rollups as from the rows', async () => {
    // deploy on commit X: red before midnight, green after it (one flaky commit, run on two days); on Y: green.
    const deploy = (id: string, pipelineId: string, status: 'SUCCESS' | 'FAILURE', finishedAt: string) =>
      obs(job({ id, pipeline: pipelineId, name: 'deploy', project: 'acme/ops', status, finishedAt, durationMs: 30_000 }));
    await store.record([
      obs(pipeline({ id: 'x1', project: 'acme/ops', status: 'FAILURE', finishedAt: '2026-01-02T23:50:00.000Z', commit: 'X' })),
      obs(pipeline({ id: 'x2', project: 'acme/ops', status: 'SUCCESS', finishedAt: '2026-01-03T00:10:00.000Z', commit: 'X' })),
      obs(pipeline({ id: 'y1', project: 'acme/ops', status: 'SUCCESS', finishedAt: '2026-01-03T09:00:00.000Z', commit: 'Y' })),
      deploy('dx1', 'x1', 'FAILURE', '2026-01-02T23:50:00.000Z'), deploy('dx2', 'x2', 'SUCCESS', '2026-01-03T00:10:00.000Z'),
      deploy('dy1', 'y1', 'SUCCESS', '2026-01-03T09:00:00.000Z'),
    ]);
    const ops = async () => (await flaky(store, await scoped(), WINDOW, null, 100, 'FLAKE_RATE')).jobs.filter((j) => j.jobName === 'deploy');
    const expected = [{ backend: 'gh', project: 'acme/ops', jobName: 'deploy', commits: 3, flakyCommits: 1, flakeRate: 1 / 3, failedAttempts: 1, timeCostMs: 30_000, lastFlakeAt: '2026-01-03T00:10:00.000Z' }];
    expect(await ops()).toEqual(expected);
    await store.refreshRollups();
    expect(await ops()).toEqual(expected);
  });

  it('duration_bucket() in SQL is the bucket bucketOf() gives', async () => {
    const values = fc.sample(fc.oneof(fc.double({ min: 0, max: 4e10, noNaN: true }), fc.integer({ min: 0, max: 100_000 })), 500);
    const rows = await store.query<{ v: number; b: number }>('SELECT v, duration_bucket(v) AS b FROM unnest($1::float8[]) AS v', [values]);
    expect(rows.map((r) => r.b)).toEqual(values.map(bucketOf));
  });
});
