import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GatewayContext } from '../../src/context.ts';
import { estimateSamples } from '../../src/history/estimates.ts';
import type { HistoryReads } from '../../src/history/history-reads.ts';
import type { Observation, SqlHistoryStore } from '../../src/history/history-store.ts';
import { estimateOf } from '../../src/resolvers/estimates.ts';
import { HISTORY_DATABASES, migratedStore, type TestDatabase } from '../helpers/history-stores.ts';
import { job, pipeline } from '../helpers/ci-models.ts';

const base = Date.parse('2026-01-01T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** A finished job run: started at minute `n`, lasting `seconds`, queued 10 s before. */
function finishedJob(id: string, n: number, seconds: number, over: Parameters<typeof job>[1] = {}) {
  const start = base + n * 60_000;
  return job(id, { name: 'build', createdAt: iso(start - 10_000), queuedAt: iso(start - 10_000), startedAt: iso(start), finishedAt: iso(start + seconds * 1000), ...over });
}

const observed = (entity: Observation['entity']): Observation => ({ entity, observedAt: iso(base + 86_400_000) });

describe.each(HISTORY_DATABASES)('estimates from the history on %s', (_name, createDatabase: () => Promise<TestDatabase>) => {
  let db: TestDatabase;
  let store: SqlHistoryStore;
  beforeEach(async () => {
    ({ db, store } = await migratedStore(createDatabase));
    await store.record([
      // build on main: 100, 200, 300 s succeeded; a failure and another project's run do not count.
      finishedJob('m1', 1, 100), finishedJob('m2', 2, 200), finishedJob('m3', 3, 300),
      finishedJob('mf', 4, 999, { status: 'FAILURE' }),
      finishedJob('other', 5, 999, { projectNativeId: 'acme/api' }),
      // build on a feature branch: 50 s.
      finishedJob('f1', 6, 50, { branch: 'feature' }),
      // deploy on main: 25 runs of 1..25 s; only the newest 20 (6..25 s) are the sample.
      ...Array.from({ length: 25 }, (_, i) => finishedJob(`d${i + 1}`, 10 + i, i + 1, { name: 'deploy' })),
      // Pipelines named ci on main: 600 and 800 s.
      pipeline('p1', { startedAt: iso(base), finishedAt: iso(base + 600_000), createdAt: iso(base - 30_000) }),
      pipeline('p2', { startedAt: iso(base + 3_600_000), finishedAt: iso(base + 4_400_000), createdAt: iso(base + 3_570_000) }),
    ].map(observed));
  });
  afterEach(async () => {
    await db.drop();
  });

  it('takes the median of the last 20 successful runs on the branch, else on any branch, with the sample size', async () => {
    const key = (over: Partial<Parameters<typeof estimateSamples>[1][number]>) => ({ kind: 'Job' as const, backend: 'gh', project: 'acme/web', name: 'build', branch: 'main', ...over });
    const [main, fresh, deploy, lint, ci, commitTitled] = await estimateSamples(store, [
      key({}), key({ branch: 'new-branch' }), key({ name: 'deploy' }), key({ name: 'lint' }),
      { kind: 'Pipeline', backend: 'gh', project: 'acme/web', name: 'ci', branch: 'main' },
      { kind: 'Pipeline', backend: 'gh', project: 'acme/web', name: 'Fix the login page', branch: 'main' },
    ]);
    expect(main).toEqual({ durationMs: 200_000, queueMs: 10_000, sampleSize: 3, basis: 'SAME_BRANCH' });
    // No run on the new branch: the project's any-branch history (50, 100, 200, 300 s).
    expect(fresh).toEqual({ durationMs: 150_000, queueMs: 10_000, sampleSize: 4, basis: 'ANY_BRANCH' });
    expect(deploy).toEqual({ durationMs: 15_500, queueMs: 10_000, sampleSize: 20, basis: 'SAME_BRANCH' });
    expect(lint).toEqual({ durationMs: null, queueMs: null, sampleSize: 0, basis: null });
    expect(ci).toEqual({ durationMs: 700_000, queueMs: 30_000, sampleSize: 2, basis: 'SAME_BRANCH' });
    // A pipeline named after its commit: no earlier one shares the name, so any pipeline of the branch.
    expect(commitTitled).toEqual({ durationMs: 700_000, queueMs: 30_000, sampleSize: 2, basis: 'BRANCH_ANY_NAME' });
  });

  it('answers every estimate of one execution with one query, and finish = start + estimate (queued: now + rest of typical queue + estimate)', async () => {
    let queries = 0;
    const counting = { ...store, query: (sql: string, params?: readonly unknown[]) => { queries++; return store.query(sql, params); } } as unknown as SqlHistoryStore;
    const history: HistoryReads = { enabled: true, store: () => counting, read: (work) => work(counting) };
    const now = new Date(base + 2 * 86_400_000);
    const ctx = { history, now: () => now } as unknown as GatewayContext;
    const running = job('r', { name: 'build', status: 'RUNNING', startedAt: iso(now.getTime() - 50_000) });
    const queued = job('q', { name: 'build', status: 'QUEUED', queuedAt: iso(now.getTime() - 4_000), createdAt: iso(now.getTime() - 4_000) });
    const waiting = job('w', { name: 'build', status: 'WAITING', waitReason: 'APPROVAL' });
    const unknown = job('u', { name: 'lint', status: 'RUNNING', startedAt: iso(now.getTime()) });
    const runningPipeline = pipeline('rp', { status: 'RUNNING', startedAt: iso(now.getTime() - 100_000) });
    const [r, q, w, u, p, done] = await Promise.all([running, queued, waiting, unknown, runningPipeline, job('d')].map((e) => estimateOf(e, ctx)));
    expect(queries).toBe(1);
    expect(r).toEqual({
      estimatedDuration: 200, estimatedFinishAt: iso(now.getTime() + 150_000), remainingSeconds: 150, sampleSize: 3, basis: 'SAME_BRANCH', unavailableReason: null,
    });
    // Typical queue 10 s, 4 s already waited: 6 s more, then 200 s.
    expect(q).toMatchObject({ estimatedFinishAt: iso(now.getTime() + 206_000), remainingSeconds: 206, sampleSize: 3 });
    expect(w).toMatchObject({ estimatedDuration: null, estimatedFinishAt: null, unavailableReason: expect.stringContaining('WAITING (APPROVAL)') as string });
    expect(u).toMatchObject({ estimatedDuration: null, sampleSize: 0, basis: null, unavailableReason: 'no successful run of it is recorded' });
    expect(p).toMatchObject({ estimatedDuration: 700, remainingSeconds: 600, sampleSize: 2, basis: 'SAME_BRANCH' });
    expect(done).toBeNull();
  });
});

it('says why there is no estimate when the history is off', async () => {
  const history: HistoryReads = { enabled: false, store: () => { throw new Error('off'); }, read: () => Promise.reject(new Error('off')) };
  const ctx = { history, now: () => new Date() } as unknown as GatewayContext;
  expect(await estimateOf(job('r', { status: 'RUNNING' }), ctx)).toMatchObject({ estimatedDuration: null, sampleSize: 0, unavailableReason: 'history is turned off (history.enabled: false)' });
});
