import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPE, compileScope } from '../../src/auth/scope.ts';
import { failureCauses, flaky, stats, timeToGreen } from '../../src/history/analytics/analytics.ts';
import { analyticsScope, type AnalyticsFilterInput } from '../../src/history/analytics/scope.ts';
import { ANALYTICS_LIMITS } from '../../src/history/analytics/window.ts';
import { MAX_RELATIVE_ERROR } from '../../src/history/analytics/histogram.ts';
import type { SqlHistoryStore } from '../../src/history/history-store.ts';
import { HISTORY_DATABASES, migratedStore, type TestDatabase } from '../helpers/history-stores.ts';
import { constructedHistory, obs, pipeline, PROVIDERS, WINDOW } from './analytics-history.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const WEB_MAIN: AnalyticsFilterInput = { projects: ['acme/web'], branches: ['main'] };
const webOnly = compileScope({ backends: ['gh'], projects: ['acme/web'] });

describe.each(HISTORY_DATABASES)('analytics on %s, over a constructed history', (_name, createDatabase: () => Promise<TestDatabase>) => {
  let db: TestDatabase;
  let store: SqlHistoryStore;
  const scoped = (filter?: AnalyticsFilterInput, scope: Parameters<typeof analyticsScope>[1] = ALL_SCOPE) => analyticsScope(store, scope, PROVIDERS, filter);

  beforeAll(async () => {
    ({ db, store } = await migratedStore(createDatabase));
    for (const batch of constructedHistory()) await store.record(batch);
  }, 60_000);
  afterAll(async () => {
    await db.drop();
  });

  it('pipeline counts, rates, the failure split and the top native reasons; the window is [from, to)', async () => {
    const result = await stats(store, 'pipelines', await scoped(WEB_MAIN), WINDOW, [], WEB_MAIN);
    expect(result.groups).toHaveLength(1);
    const g = result.groups[0]!;
    expect({ count: g.count, success: g.successCount, unstable: g.unstableCount, canceled: g.canceledCount, failed: g.failedCount, failures: g.failures })
      .toEqual({ count: 11, success: 4, unstable: 1, canceled: 1, failed: 5, failures: { code: 3, timedOut: 1, infrastructure: 1 } });
    expect(g.successRate).toBeCloseTo(4 / 11, 12);
    expect(g.failureRate).toBeCloseTo(5 / 11, 12);
    expect(g.canceledRate).toBeCloseTo(1 / 11, 12);
    expect(g.topFailureReasons).toEqual([
      { category: 'CODE', reason: 'tests failed', count: 2 },
      { category: 'CODE', reason: 'lint', count: 1 },
      { category: 'INFRASTRUCTURE', reason: 'runner lost', count: 1 },
    ]);
  });

  it('duration p50/p90/p95/p99 and queue p50/p95: the nearest-rank value, within the histograms\' 2.2%', async () => {
    const filter = { projects: ['acme/api'], branches: ['main'] };
    const [g] = (await stats(store, 'pipelines', await scoped(filter), WINDOW, [], filter)).groups;
    expect(g!.count).toBe(10);
    // Durations 1..10 min, queues 1..10 s: ranks ceil(q * 10) = 5, 9, 10, 10.
    const near = (actual: number | null, exact: number) => expect(Math.abs(actual! - exact) / exact).toBeLessThanOrEqual(MAX_RELATIVE_ERROR);
    near(g!.duration.p50, 5 * MIN);
    near(g!.duration.p90, 9 * MIN);
    near(g!.duration.p95, 10 * MIN);
    near(g!.duration.p99, 10 * MIN);
    near(g!.queueTime.p50, 5_000);
    near(g!.queueTime.p95, 10_000);
    expect(g!.skippedRate).toBeCloseTo(0.1, 12);
    expect(g!.failures).toEqual({ code: 1, timedOut: 0, infrastructure: 1 });
  });

  it('groups by day, provider and project (full name when recorded)', async () => {
    const byDay = await stats(store, 'pipelines', await scoped(WEB_MAIN), WINDOW, ['DAY'], WEB_MAIN);
    expect(byDay.groups.map((g) => [g.key.bucket, g.count])).toEqual([
      ['2026-01-02T00:00:00.000Z', 5], ['2026-01-03T00:00:00.000Z', 5], ['2026-01-04T00:00:00.000Z', 1],
    ]);
    const byProvider = await stats(store, 'pipelines', await scoped(), WINDOW, ['PROVIDER'], null);
    expect(byProvider.groups.map((g) => [g.key.provider, g.count])).toEqual([['github', 26], ['gitlab', 2]]);
    const byProject = await stats(store, 'pipelines', await scoped(), WINDOW, ['PROJECT'], null);
    expect(byProject.groups.map((g) => [g.key.backend, g.key.project, g.count])).toEqual([
      ['gh', 'acme/api', 11], ['gh', 'acme/web', 15], ['gl', 'team/app', 2],
    ]);
  });

  it('job figures group by job and workflow name (carried from the pipeline even when recorded first), label and runner', async () => {
    const filter = { projects: ['acme/web'] };
    const byName = await stats(store, 'jobs', await scoped(filter), WINDOW, ['PIPELINE_NAME', 'JOB_NAME'], filter);
    expect(byName.groups.map((g) => [g.key.pipelineName, g.key.jobName, g.count, g.failedCount])).toEqual([
      ['tests', 'e2e', 4, 1], ['tests', 'lint', 1, 0], ['tests', 'unit', 6, 3],
    ]);
    const byLabel = await stats(store, 'jobs', await scoped(), WINDOW, ['RUNNER_LABEL'], null);
    expect(byLabel.groups.map((g) => [g.key.runnerLabel, g.count, g.failures.infrastructure])).toEqual([['gpu', 5, 4], ['linux', 31, 2]]);
    const byRunner = await stats(store, 'jobs', await scoped(), WINDOW, ['RUNNER'], null);
    expect(byRunner.groups.map((g) => [g.key.runner, g.count])).toEqual([['r-bad', 5], ['r-good1', 10], ['r-good2', 10], ['r-web', 1], [null, 10]]);
    await expect(stats(store, 'pipelines', await scoped(), WINDOW, ['JOB_NAME'], null)).rejects.toThrow(/jobStats only/);
  });

  it('time to green: red periods with breaking and fixing pipelines, mean and p50 of the closed ones, the open one ongoing', async () => {
    const result = await timeToGreen(store, await scoped(WEB_MAIN), WINDOW, WEB_MAIN, null);
    expect(result.series).toHaveLength(1);
    const s = result.series[0]!;
    expect([s.backend, s.project, s.branch]).toEqual(['gh', 'acme/web', 'main']);
    // w0 (red, a second before the window) left main red when it opened: its period is not clipped.
    expect(s.periods.map((p) => [p.breaking.nativeId, p.fixing?.nativeId ?? null, p.redCount, p.durationMs, p.ongoing])).toEqual([
      ['w0', 'w1', 1, 34 * HOUR + 1000, false],
      ['w2', 'w5', 2, 2 * HOUR, false],
      ['w6', 'w7', 1, 30 * MIN, false],
      ['w8', 'w10', 1, 10 * MIN, false],
      ['w11', null, 1, 87 * HOUR, true],
    ]);
    expect(s.periods.map((p) => p.startedBeforeWindow)).toEqual([true, false, false, false, false]);
    expect(s.periods[1]!.startedAt).toBe('2026-01-02T11:00:00.000Z');
    expect(s.periods[1]!.endedAt).toBe('2026-01-02T13:00:00.000Z');
    expect(s.periods[1]!.breaking).toMatchObject({ status: 'FAILURE', commitSha: 'sha-w2', finishedAt: '2026-01-02T11:00:00.000Z' });
    // Closed: 34 h 1 s, 2 h, 30 min, 10 min.
    expect(s.meanMs).toBeCloseTo((122_401_000 + 7_200_000 + 1_800_000 + 600_000) / 4, 6);
    expect(s.p50Ms).toBeCloseTo((30 * MIN + 2 * HOUR) / 2, 6);
    expect(s.ongoing?.breaking.nativeId).toBe('w11');

    const allBranches = await timeToGreen(store, await scoped({ projects: ['acme/web'] }), WINDOW, { projects: ['acme/web'] }, null);
    expect(allBranches.series.map((x) => [x.branch, x.periods.length, x.meanMs])).toEqual([['dev', 0, null], ['main', 5, s.meanMs]]);
  });

  it('time to green: a branch already red when the window opens starts at the pipeline that broke it, unclipped', async () => {
    // A March window of its own (the constructed history is in January): acme/red, four series.
    const march = { from: new Date('2026-03-01T00:00:00.000Z'), to: new Date('2026-03-08T00:00:00.000Z') };
    const red = (id: string, status: 'SUCCESS' | 'FAILURE' | 'ERROR' | 'CANCELED', finishedAt: string, branch: string | null) =>
      obs(pipeline({ project: 'acme/red', id, status, finishedAt, branch }));
    await store.record([
      // main: green, then broken on Feb 25 (r1), still red at the window's start (r3), fixed on Mar 1 10:00 (r5); then 1 h red.
      red('r0', 'SUCCESS', '2026-02-20T10:00:00.000Z', 'main'), red('r1', 'FAILURE', '2026-02-25T10:00:00.000Z', 'main'),
      red('r2', 'CANCELED', '2026-02-26T10:00:00.000Z', 'main'), red('r3', 'ERROR', '2026-02-27T10:00:00.000Z', 'main'),
      red('r4', 'FAILURE', '2026-03-01T02:00:00.000Z', 'main'), red('r5', 'SUCCESS', '2026-03-01T10:00:00.000Z', 'main'),
      red('r6', 'FAILURE', '2026-03-02T10:00:00.000Z', 'main'), red('r7', 'SUCCESS', '2026-03-02T11:00:00.000Z', 'main'),
      // green before the window (for pipeline name ci): nothing carried...
      red('g0', 'FAILURE', '2026-02-20T00:00:00.000Z', 'green'), red('g1', 'SUCCESS', '2026-02-21T00:00:00.000Z', 'green'),
      red('g2', 'FAILURE', '2026-03-03T00:00:00.000Z', 'green'), red('g3', 'SUCCESS', '2026-03-03T00:30:00.000Z', 'green'),
      // ...unless another pipeline name counts: a red nightly after g1.
      obs(pipeline({ project: 'acme/red', id: 'x1', name: 'nightly', status: 'FAILURE', finishedAt: '2026-02-22T00:00:00.000Z', branch: 'green' })),
      // never green: red since its first pipeline, still red at the window's end.
      red('s0', 'FAILURE', '2026-02-28T00:00:00.000Z', 'never'), red('s1', 'FAILURE', '2026-03-04T00:00:00.000Z', 'never'),
      // no branch at all (a Jenkins job): red from Feb 28 12:00, fixed a day later.
      red('n0', 'SUCCESS', '2026-02-27T00:00:00.000Z', null), red('n1', 'FAILURE', '2026-02-28T12:00:00.000Z', null),
      red('n2', 'SUCCESS', '2026-03-01T12:00:00.000Z', null),
    ]);
    const filter = { projects: ['acme/red'] };
    const result = await timeToGreen(store, await scoped(filter), march, filter, null);
    const periods = (branch: string | null) => result.series.find((s) => s.branch === branch)!.periods
      .map((p) => [p.breaking.nativeId, p.fixing?.nativeId ?? null, p.startedAt, p.durationMs, p.redCount, p.startedBeforeWindow, p.ongoing]);
    expect(result.series.map((s) => s.branch)).toEqual([null, 'green', 'main', 'never']);
    expect(periods('main')).toEqual([
      ['r1', 'r5', '2026-02-25T10:00:00.000Z', 96 * HOUR, 3, true, false],
      ['r6', 'r7', '2026-03-02T10:00:00.000Z', HOUR, 1, false, false],
    ]);
    const main = result.series.find((s) => s.branch === 'main')!;
    expect(main.periods[0]!.breaking).toMatchObject({ status: 'FAILURE', finishedAt: '2026-02-25T10:00:00.000Z', url: 'https://ci.example/r1' });
    expect(main.meanMs).toBeCloseTo(48.5 * HOUR, 6);
    expect(main.p50Ms).toBeCloseTo(48.5 * HOUR, 6);
    expect(periods('green')).toEqual([['x1', 'g3', '2026-02-22T00:00:00.000Z', 9 * 24 * HOUR + 30 * MIN, 2, true, false]]);
    expect(periods('never')).toEqual([['s0', null, '2026-02-28T00:00:00.000Z', 8 * 24 * HOUR, 2, true, true]]);
    expect(periods(null)).toEqual([['n1', 'n2', '2026-02-28T12:00:00.000Z', 24 * HOUR, 1, true, false]]);
    // A pipeline-name filter looks back along that pipeline name only.
    const ci = await timeToGreen(store, await scoped(filter), march, { ...filter, branches: ['green'], pipelineNames: ['ci'] }, null);
    expect(ci.series.map((s) => s.periods.map((p) => [p.breaking.nativeId, p.durationMs, p.startedBeforeWindow]))).toEqual([[['g2', 30 * MIN, false]]]);
  });

  it('time to green: the green that ends a period is the next in (finishedAt, nativeId) order, of the filtered names, before the window ends', async () => {
    const april = { from: new Date('2026-04-01T00:00:00.000Z'), to: new Date('2026-04-08T00:00:00.000Z') };
    const tie = (id: string, status: 'SUCCESS' | 'FAILURE', finishedAt: string, branch: string, name = 'ci') =>
      obs(pipeline({ project: 'acme/tie', id, status, finishedAt, branch, name }));
    await store.record([
      // Same instant: t2 (green) sorts before t3 (red) and does not fix it; t4 (green) after it does.
      tie('t1', 'SUCCESS', '2026-04-02T10:00:00.000Z', 'tie'), tie('t2', 'SUCCESS', '2026-04-02T11:00:00.000Z', 'tie'),
      tie('t3', 'FAILURE', '2026-04-02T11:00:00.000Z', 'tie'), tie('t4', 'SUCCESS', '2026-04-02T11:00:00.000Z', 'tie'),
      tie('t5', 'SUCCESS', '2026-04-02T12:00:00.000Z', 'tie'),
      // A nightly green between a red ci and its fix counts only when nightly is asked for.
      tie('c1', 'FAILURE', '2026-04-03T10:00:00.000Z', 'named'), tie('c2', 'SUCCESS', '2026-04-03T10:30:00.000Z', 'named', 'nightly'),
      tie('c3', 'SUCCESS', '2026-04-03T11:00:00.000Z', 'named'),
      // A green after the window's end leaves the period ongoing.
      tie('l1', 'FAILURE', '2026-04-07T00:00:00.000Z', 'late'), tie('l2', 'SUCCESS', '2026-04-08T00:00:00.000Z', 'late'),
    ]);
    const filter = { projects: ['acme/tie'] };
    const periods = async (f: AnalyticsFilterInput) => (await timeToGreen(store, await scoped(f), april, f, null)).series
      .map((s) => [s.branch, s.periods.map((p) => [p.breaking.nativeId, p.fixing?.nativeId ?? null, p.durationMs, p.redCount])]);
    expect(await periods(filter)).toEqual([
      ['late', [['l1', null, 24 * HOUR, 1]]], ['named', [['c1', 'c2', 30 * MIN, 1]]], ['tie', [['t3', 't4', 0, 1]]],
    ]);
    expect(await periods({ ...filter, branches: ['named'], pipelineNames: ['ci'] })).toEqual([['named', [['c1', 'c3', HOUR, 1]]]]);
  });

  it('flaky jobs: failed and passed on one commit, ranked by flake rate or by the time the failed attempts cost', async () => {
    const filter = { projects: ['acme/web'] };
    const byRate = await flaky(store, await scoped(filter), WINDOW, filter, 20, 'FLAKE_RATE');
    expect(byRate.jobs.map((j) => [j.jobName, j.commits, j.flakyCommits, j.failedAttempts, j.timeCostMs, j.lastFlakeAt])).toEqual([
      ['unit', 4, 2, 2, 150_000, '2026-01-06T10:08:00.000Z'],
      ['e2e', 3, 1, 1, 300_000, '2026-01-06T10:20:00.000Z'],
    ]);
    expect(byRate.jobs[0]!.flakeRate).toBeCloseTo(0.5, 12);
    expect(byRate.jobs[1]!.flakeRate).toBeCloseTo(1 / 3, 12);
    const byCost = await flaky(store, await scoped(filter), WINDOW, filter, 20, 'TIME_COST');
    expect(byCost.jobs.map((j) => j.jobName)).toEqual(['e2e', 'unit']);
    const top1 = await flaky(store, await scoped(), WINDOW, null, 1, 'FLAKE_RATE');
    expect(top1.jobs.map((j) => [j.project, j.jobName, j.flakeRate])).toEqual([['acme/api', 'build', 1]]);
  });

  it('failure causes: top jobs and reasons, and infrastructure errors concentrated on one runner and one label stand out', async () => {
    const result = await failureCauses(store, await scoped(), WINDOW, null, 10);
    expect(result.failedJobs).toBe(9);
    expect(result.topJobs.map((j) => [j.project, j.jobName, j.failedCount, j.count, j.failures])).toEqual([
      ['acme/api', 'build', 5, 25, { code: 0, timedOut: 0, infrastructure: 5 }],
      ['acme/web', 'unit', 3, 6, { code: 2, timedOut: 0, infrastructure: 1 }],
      ['acme/web', 'e2e', 1, 4, { code: 1, timedOut: 0, infrastructure: 0 }],
    ]);
    expect(result.topReasons).toEqual([
      { category: 'INFRASTRUCTURE', reason: 'runner lost', count: 5 },
      { category: 'CODE', reason: 'exit code 1', count: 3 },
      { category: 'INFRASTRUCTURE', reason: 'error', count: 1 },
    ]);
    expect(result.infrastructureShare).toBeCloseTo(5 / 26, 12);
    expect(result.runners.map((r) => [r.name, r.jobs, r.infrastructureCount, r.concentrated])).toEqual([
      ['r-bad', 5, 4, true], ['r-good2', 10, 1, false], ['r-good1', 10, 0, false], ['r-web', 1, 0, false],
    ]);
    expect(result.runners[0]!.infrastructureShare).toBeCloseTo(0.8, 12);
    expect(result.labels.map((r) => [r.name, r.jobs, r.infrastructureCount, r.concentrated])).toEqual([['gpu', 5, 4, true], ['linux', 31, 2, false]]);
  });

  it('a scope restricted to one project counts it alone, and hides runner figures', async () => {
    const scope = await scoped(undefined, webOnly);
    const byProject = await stats(store, 'pipelines', scope, WINDOW, ['PROJECT'], null);
    expect(byProject.groups.map((g) => [g.key.project, g.count])).toEqual([['acme/web', 15]]);
    const byRunner = await stats(store, 'jobs', scope, WINDOW, ['RUNNER'], null);
    expect(byRunner.groups.map((g) => [g.key.runner, g.count])).toEqual([[null, 11]]);
    const causes = await failureCauses(store, scope, WINDOW, null, 10);
    expect(causes.runners).toEqual([]);
    expect(causes.topJobs.map((j) => j.jobName)).toEqual(['unit', 'e2e']);
    expect((await flaky(store, scope, WINDOW, null, 20, 'FLAKE_RATE')).jobs.map((j) => j.jobName)).toEqual(['unit', 'e2e']);
    expect((await timeToGreen(store, scope, WINDOW, null, null)).series.map((s) => s.project)).toEqual(['acme/web', 'acme/web']);
    // A pattern on the full name reaches a project whose native id is numeric (GitLab).
    const gitlab = await scoped(undefined, compileScope({ backends: ['gl'], projects: ['team/*'] }));
    expect((await stats(store, 'pipelines', gitlab, WINDOW, ['PROJECT'], null)).groups.map((g) => [g.key.project, g.count])).toEqual([['team/app', 2]]);
    // Asking for a hidden project finds nothing rather than its counts.
    const hidden = await scoped({ projects: ['acme/api'] }, webOnly);
    expect((await stats(store, 'pipelines', hidden, WINDOW, [], { projects: ['acme/api'] })).groups[0]!.count).toBe(0);
  });

  it(`refuses an answer of more than ${ANALYTICS_LIMITS.maxGroups} groups`, async () => {
    await store.query(`
INSERT INTO pipelines (backend, native_id, revision, project_native_id, status, attempt, branch, finished_at, recorded_at)
SELECT 'gh', 'many-' || i, ARRAY[1]::float8[], 'acme/many', 'SUCCESS', 1, 'b' || i, '2026-01-07T00:00:00Z', now()
FROM generate_series(1, ${ANALYTICS_LIMITS.maxGroups}) AS i`);
    await expect(stats(store, 'pipelines', await scoped(), WINDOW, ['BRANCH'], null)).rejects.toMatchObject({ extensions: { code: 'ANALYTICS_LIMIT' } });
    const fits = await stats(store, 'pipelines', await scoped(), WINDOW, ['BRANCH'], { branches: ['b1', 'b2'] });
    expect(fits.groups).toHaveLength(2);
  });
});
