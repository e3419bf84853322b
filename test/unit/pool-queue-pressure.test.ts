import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileScope } from '../../src/auth/scope.ts';
import type { SqlHistoryStore } from '../../src/history/history-store.ts';
import { poolWindow } from '../../src/history/pools/pool-window.ts';
import { projectScope } from '../../src/history/project-scope.ts';
import type { JobModel } from '../../src/model.ts';
import { poolOf } from '../../src/pools/pool-labels.ts';
import { HISTORY_DATABASES, migratedStore, type TestDatabase } from '../helpers/history-stores.ts';
import { at, job } from '../helpers/ci-models.ts';

const LINUX = ['self-hosted', 'Linux', 'X64'];
const ALL = compileScope({ backends: ['*'] });
const ACME_ONLY = compileScope({ backends: ['gh'], projects: ['acme/*'], runners: true });

/** A job of the pool that queued at `queued`; started and finished when given. */
function waited(id: string, queued: string, started: string | null, finished: string | null, over: Partial<JobModel> = {}): JobModel {
  const status = finished ? 'SUCCESS' : started ? 'RUNNING' : 'QUEUED';
  return job(id, { labels: LINUX, createdAt: queued, queuedAt: queued, startedAt: started, finishedAt: finished, status, ...over });
}

// Queue pressure is counted by marks where a wait enters and leaves the buckets (pool-window.ts);
// these waits cross, start and end on bucket boundaries, in buckets that are not whole hours.
describe.each(HISTORY_DATABASES)('queue pressure of a pool per bucket on %s', (_name, createDatabase: () => Promise<TestDatabase>) => {
  let db: TestDatabase;
  let store: SqlHistoryStore;
  beforeEach(async () => {
    ({ db, store } = await migratedStore(createDatabase));
  });
  afterEach(async () => {
    await db.drop();
  });

  it('a wait across several buckets, one still queued, one canceled in the queue, one started after the window, one on the boundaries', async () => {
    const jobs = [
      waited('long', at('09:30'), at('11:30'), at('11:50')),
      waited('still', at('10:50'), null, null),
      waited('canceled', at('10:10'), null, at('10:45'), { status: 'CANCELED' }),
      waited('after', at('12:20'), at('12:40'), at('12:50')),
      waited('before', at('09:00'), at('09:30'), at('09:40')),
      // Enters the queue as the second bucket begins and leaves it as the third begins.
      waited('edge', at('10:40'), at('11:20'), at('11:30')),
      waited('hidden', at('10:00'), at('10:05'), at('10:20'), { projectNativeId: 'secret/ops' }),
    ];
    await store.record(jobs.map((entity) => ({ entity, observedAt: at('13:00') })));
    const window = async (scope: typeof ALL) => (await poolWindow(store, {
      pool: poolOf('gh', ['self-hosted', 'linux', 'x64']), from: new Date(at('10:00')), to: new Date(at('12:30')), bucketMs: 40 * 60_000,
      scope: await projectScope(store, scope, ['gh']), withRunners: false, now: new Date(at('13:00')),
    })).buckets;
    expect(await window(ALL)).toEqual([
      { from: at('10:00'), to: at('10:40'), queued: 3, started: 1, maxWaitMs: 300_000 },
      { from: at('10:40'), to: at('11:20'), queued: 4, started: 0, maxWaitMs: null },
      { from: at('11:20'), to: at('12:00'), queued: 2, started: 2, maxWaitMs: 7_200_000 },
      { from: at('12:00'), to: at('12:30'), queued: 2, started: 0, maxWaitMs: null },
    ]);
    expect((await window(ACME_ONLY)).map((b) => [b.queued, b.started, b.maxWaitMs])).toEqual([
      [2, 0, null], [4, 0, null], [2, 2, 7_200_000], [2, 0, null],
    ]);
  });
});
