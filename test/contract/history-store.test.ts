import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Observation } from '../../src/history/history-store.ts';
import type { SqlHistoryStore } from '../../src/history/history-store.ts';
import { compareRevisions, type JobModel, type PipelineModel } from '../../src/model.ts';
import { MIGRATIONS } from '../../src/history/sql.ts';
import { HISTORY_DATABASES, migratedStore, type TestDatabase } from '../helpers/history-stores.ts';

function pipeline(nativeId: string, revision: number[], over: Partial<PipelineModel> = {}): PipelineModel {
  return {
    type: 'Pipeline', backend: 'gh', nativeId, revision, projectNativeId: 'acme/web', number: 7, name: 'ci',
    status: 'RUNNING', waitReason: null, native: { provider: 'github', status: 'in_progress', conclusion: null, failureReason: null },
    attempt: 1, url: null, branch: 'main', ref: 'refs/heads/main', commitSha: 'abc123', event: 'push',
    actor: { login: 'octo', url: null, avatarUrl: null },
    createdAt: '2026-01-01T10:00:00.000Z', queuedAt: '2026-01-01T10:00:00.000Z', startedAt: '2026-01-01T10:00:30.000Z',
    finishedAt: null, updatedAt: '2026-01-01T10:00:30.000Z', ...over,
  };
}

function job(nativeId: string, revision: number[], over: Partial<JobModel> = {}): JobModel {
  return {
    type: 'Job', backend: 'gh', nativeId, revision, projectNativeId: 'acme/web', pipelineNativeId: 'p1', name: 'test',
    status: 'RUNNING', waitReason: null, native: { provider: 'github', status: 'in_progress', conclusion: null, failureReason: null },
    attempt: 1, url: null, labels: ['linux', 'x64'], runnerNativeId: 'r1', runnerName: 'runner-1', branch: 'main',
    createdAt: '2026-01-01T10:00:00.000Z', queuedAt: '2026-01-01T10:00:00.000Z', startedAt: '2026-01-01T10:00:05.000Z',
    finishedAt: null, steps: [], ...over,
  };
}

const at = (iso: string) => (entity: Observation['entity']): Observation => ({ entity, observedAt: iso });
const now = at('2026-01-01T10:01:00.000Z');

async function count(store: SqlHistoryStore, table: string): Promise<number> {
  const [row] = await store.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return row!.n;
}

describe.each(HISTORY_DATABASES)('HistoryStore on %s', (_name, createDatabase: () => Promise<TestDatabase>) => {
  let db: TestDatabase;
  let store: SqlHistoryStore;
  beforeEach(async () => {
    ({ db, store } = await migratedStore(createDatabase));
  });
  afterEach(async () => {
    await db.drop();
  });

  it('runs its migrations once: a second run (another instance) changes nothing', async () => {
    await store.migrate();
    const other = await db.open();
    await other.migrate();
    const versions = await store.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await count(store, 'transitions')).toBe(0);
  });

  it('migrates once when several instances start on an empty database at the same moment', async () => {
    // Its own empty database: the beforeEach one is already migrated.
    const fresh = await createDatabase();
    try {
      const stores = await Promise.all(Array.from({ length: 6 }, () => fresh.open()));
      await Promise.all(stores.map((s) => s.migrate()));
      const versions = await stores[0]!.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version));
    } finally {
      await fresh.drop();
    }
  });

  it('records one transition per entity revision: the same revision twice and a replayed batch count once', async () => {
    const batch = [now(pipeline('p1', [1, 1])), now(job('j1', [1, 1])), now(job('j1', [1, 2], { status: 'SUCCESS' }))];
    expect((await store.record(batch)).inserted).toBe(3);
    expect((await store.record([batch[0]!])).inserted).toBe(0);
    expect((await store.record(batch)).inserted).toBe(0);
    expect(await count(store, 'transitions')).toBe(3);
    const rows = await store.query<{ entity_type: string; status: string; revision: number[] }>(
      'SELECT entity_type, status, revision FROM transitions ORDER BY id',
    );
    expect(rows).toEqual([
      { entity_type: 'Pipeline', status: 'RUNNING', revision: [1, 1] },
      { entity_type: 'Job', status: 'RUNNING', revision: [1, 1] },
      { entity_type: 'Job', status: 'SUCCESS', revision: [1, 2] },
    ]);
  });

  it('a batch leaves the same rows and counts as its observations recorded one at a time', async () => {
    // Small pools of ids and revisions, so a batch repeats entities and revisions (also equal once padded). A project has
    // one full name per batch, known to some observations only (two names for one project in a batch would be a rename).
    const revision = fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 3 });
    const named = fc.boolean();
    const observedAt = fc.integer({ min: 0, max: 59 }).map((s) => `2026-01-01T10:00:${String(s).padStart(2, '0')}.000Z`);
    const status = fc.constantFrom('RUNNING', 'SUCCESS', 'FAILURE') as fc.Arbitrary<'RUNNING' | 'SUCCESS' | 'FAILURE'>;
    const observation = fc.record({
      kind: fc.constantFrom('Job', 'Pipeline'), id: fc.constantFrom('1', '2'), revision, status, observedAt, named,
    });
    let run = 0;
    const rowsOf = async (backend: string) => ({
      transitions: await store.query(`SELECT to_jsonb(t) - 'id' - 'backend' || jsonb_build_object('payload', t.payload - 'backend') AS row FROM transitions t WHERE backend = $1 ORDER BY id`, [backend]),
      pipelines: await store.query(`SELECT to_jsonb(p) - 'backend' AS row FROM pipelines p WHERE backend = $1 ORDER BY native_id`, [backend]),
      jobs: await store.query(`SELECT to_jsonb(j) - 'backend' AS row FROM jobs j WHERE backend = $1 ORDER BY native_id`, [backend]),
      projects: await store.query(`SELECT project_native_id, project_full_name FROM history_projects WHERE backend = $1 ORDER BY project_native_id`, [backend]),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { minLength: 1, maxLength: 8 }), fc.constantFrom('team/a', 'team/b'), async (spec, projectFullName) => {
        run++;
        const batchOf = (backend: string): Observation[] => spec.map((o) => ({
          entity: o.kind === 'Job'
            ? job(`j${o.id}`, o.revision, { backend, status: o.status, pipelineNativeId: 'p1' })
            : pipeline(`p${o.id}`, o.revision, { backend, status: o.status, commitSha: `sha-${o.revision.join('.')}` }),
          observedAt: o.observedAt,
          ...(o.named ? { projectFullName } : {}),
        }));
        const atOnce = await store.record(batchOf(`batch${run}`));
        let oneByOne = 0;
        for (const o of batchOf(`single${run}`)) oneByOne += (await store.record([o])).inserted;
        expect(atOnce.inserted).toBe(oneByOne);
        expect(await rowsOf(`batch${run}`)).toEqual(await rowsOf(`single${run}`));
        // And not the same mistake both ways: a row any observation named carries the name.
        const named = new Set(spec.filter((o) => o.named).map((o) => `${o.kind === 'Job' ? 'j' : 'p'}${o.id}`));
        const names = await store.query<{ id: string; name: string | null }>(
          'SELECT native_id AS id, project_full_name AS name FROM jobs WHERE backend = $1 UNION ALL SELECT native_id, project_full_name FROM pipelines WHERE backend = $1', [`batch${run}`],
        );
        expect(names.filter((r) => named.has(r.id)).map((r) => r.name)).toEqual([...named].map(() => projectFullName));
      }),
      { numRuns: 25 },
    );
  });

  it('two writers recording the same batches at once never double-count', async () => {
    const other = await db.open();
    const batches = [0, 1, 2, 3].map((i) => [now(pipeline(`p${i}`, [1, i])), now(job(`j${i}`, [1, i])), now(job(`j${i}`, [2, i]))]);
    const results = await Promise.all(batches.flatMap((b) => [store.record(b), other.record(b)]));
    expect(results.reduce((sum, r) => sum + r.inserted, 0)).toBe(12);
    expect(await count(store, 'transitions')).toBe(12);
    expect(await count(store, 'jobs')).toBe(4);
    expect(await count(store, 'pipelines')).toBe(4);
  });

  it('keeps the final shape of pipelines and jobs, moving forward only', async () => {
    const finished = pipeline('p1', [1, 3], { status: 'FAILURE', finishedAt: '2026-01-01T10:05:30.000Z', native: { provider: 'github', status: 'completed', conclusion: 'failure', failureReason: 'exit 1' } });
    await store.record([now(pipeline('p1', [1, 1])), now(finished)]);
    // An older revision arriving late (redelivery out of order) does not overwrite it.
    await store.record([at('2026-01-01T10:09:00.000Z')(pipeline('p1', [1, 2], { status: 'RUNNING' }))]);
    const [p] = await store.query<Record<string, unknown>>(
      'SELECT status, revision, native_conclusion, failure_reason, queue_ms, duration_ms, actor, commit_sha, branch, attempt FROM pipelines',
    );
    expect(p).toEqual({
      status: 'FAILURE', revision: [1, 3], native_conclusion: 'failure', failure_reason: 'exit 1',
      queue_ms: 30_000, duration_ms: 300_000, actor: 'octo', commit_sha: 'abc123', branch: 'main', attempt: 1,
    });

    await store.record([now(job('j1', [2, 1], { status: 'SUCCESS', attempt: 2, finishedAt: '2026-01-01T10:01:05.000Z' }))]);
    await store.record([now(job('j1', [1, 9], { status: 'FAILURE' }))]);
    const [j] = await store.query<Record<string, unknown>>('SELECT status, attempt, labels, runner_name, queue_ms, duration_ms FROM jobs');
    expect(j).toEqual({ status: 'SUCCESS', attempt: 2, labels: ['linux', 'x64'], runner_name: 'runner-1', queue_ms: 5000, duration_ms: 60_000 });
    // The late, older revision is still a transition of its own.
    expect(await count(store, 'transitions')).toBe(5);
  });

  it('orders revisions of different lengths as compareRevisions does: a missing part counts as 0', async () => {
    const status = async (table: string) => (await store.query<{ status: string; revision: number[] }>(`SELECT status, revision FROM ${table}`))[0];
    await store.record([now(pipeline('p1', [1, 2], { status: 'SUCCESS' })), now(job('j1', [1, 2], { status: 'SUCCESS' }))]);
    // Equal once padded ([1,2] = [1,2,0]), or older ([1,2,-1] < [1,2]): nothing moves. PostgreSQL's array < would take both.
    await store.record([now(pipeline('p1', [1, 2, 0], { status: 'RUNNING' })), now(job('j1', [1, 2, 0], { status: 'RUNNING' }))]);
    await store.record([now(pipeline('p1', [1, 2, -1], { status: 'QUEUED' })), now(job('j1', [1, 2, -1], { status: 'QUEUED' }))]);
    expect(await status('pipelines')).toEqual({ status: 'SUCCESS', revision: [1, 2] });
    expect(await status('jobs')).toEqual({ status: 'SUCCESS', revision: [1, 2] });
    // Newer by a longer tail, then by a shorter one ([1,3] > [1,2,0,1]): each moves it forward.
    await store.record([now(pipeline('p1', [1, 2, 0, 1], { status: 'FAILURE' })), now(job('j1', [1, 2, 0, 1], { status: 'FAILURE' }))]);
    expect(await status('pipelines')).toEqual({ status: 'FAILURE', revision: [1, 2, 0, 1] });
    await store.record([now(pipeline('p1', [1, 3], { status: 'CANCELED' })), now(job('j1', [1, 3], { status: 'CANCELED' }))]);
    expect(await status('pipelines')).toEqual({ status: 'CANCELED', revision: [1, 3] });
    expect(await status('jobs')).toEqual({ status: 'CANCELED', revision: [1, 3] });
  });

  it('revision_newer(a, b) agrees with compareRevisions(a, b) > 0 on random revisions', async () => {
    const part = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constant(0), fc.double({ min: -1e12, max: 1e12, noNaN: true, noDefaultInfinity: true }));
    const revision = fc.array(part, { maxLength: 5 });
    // A prefix with a tail appended: the case where PostgreSQL's own array order differs.
    const pair = fc.oneof(fc.tuple(revision, revision), revision.chain((a) => fc.array(part, { maxLength: 3 }).map((tail) => [a, [...a, ...tail]] as [number[], number[]])));
    await fc.assert(
      fc.asyncProperty(pair, async ([a, b]) => {
        const [row] = await store.query<{ newer: boolean; older: boolean }>(
          'SELECT revision_newer($1::float8[], $2::float8[]) AS newer, revision_newer($2::float8[], $1::float8[]) AS older', [a, b],
        );
        expect(row).toEqual({ newer: compareRevisions(a, b) > 0, older: compareRevisions(b, a) > 0 });
      }),
      { numRuns: 200 },
    );
  });

  it('retention deletes what was observed before the cutoff, and only that', async () => {
    await store.record([
      at('2025-09-01T00:00:00.000Z')(pipeline('old', [1])),
      at('2025-09-01T00:00:00.000Z')(job('old-job', [1])),
      at('2026-01-01T00:00:00.000Z')(pipeline('new', [1])),
      at('2026-01-01T00:00:00.000Z')(job('new-job', [1])),
    ]);
    expect(await store.prune(new Date('2025-10-01T00:00:00.000Z'))).toBe(4);
    expect(await store.query('SELECT native_id FROM transitions ORDER BY native_id')).toEqual([{ native_id: 'new' }, { native_id: 'new-job' }]);
    expect(await store.query('SELECT native_id FROM pipelines')).toEqual([{ native_id: 'new' }]);
    expect(await store.query('SELECT native_id FROM jobs')).toEqual([{ native_id: 'new-job' }]);
  });

  it('a large read runs read-only and without JIT, for that statement alone', async () => {
    expect(await store.queryLarge('SHOW jit')).toEqual([{ jit: 'off' }]);
    await expect(store.queryLarge("INSERT INTO history_projects (backend, project_native_id) VALUES ('gh', 'x')")).rejects.toThrow(/read-only/);
    // SET LOCAL: the pooled session keeps its own settings afterwards.
    const after = await Promise.all([1, 2, 3, 4].map(() => store.query<{ jit: string }>('SHOW jit')));
    const [server] = await store.query<{ setting: string }>("SELECT reset_val AS setting FROM pg_settings WHERE name = 'jit'");
    expect(after.map(([row]) => row!.jit)).toEqual([1, 2, 3, 4].map(() => server!.setting));
    expect(await count(store, 'history_projects')).toBe(0);
  });

  it('retention deletes the projects no pipeline or job refers to any more, keeps the others with their names', async () => {
    const old = at('2025-09-01T00:00:00.000Z');
    const recent = at('2026-01-01T00:00:00.000Z');
    const named = (o: Observation, projectFullName: string): Observation => ({ ...o, projectFullName });
    await store.record([
      named(old(pipeline('gone', [1], { backend: 'gl', projectNativeId: '41' })), 'team/gone'),
      named(old(job('gone-job', [1], { backend: 'gl', projectNativeId: '41', pipelineNativeId: 'gone' })), 'team/gone'),
      old(job('orphan-old', [1], { projectNativeId: 'acme/orphan-old', pipelineNativeId: 'never' })),
      named(old(pipeline('kept-old', [1], { backend: 'gl', projectNativeId: '42' })), 'team/kept'),
      recent(pipeline('kept-new', [1], { backend: 'gl', projectNativeId: '42' })),
      recent(job('orphan-new', [1], { projectNativeId: 'acme/orphan-new', pipelineNativeId: 'never' })),
      recent(pipeline('web', [1])),
    ]);
    const projects = () => store.query('SELECT backend, project_native_id, project_full_name FROM history_projects ORDER BY backend, project_native_id');
    expect(await projects()).toHaveLength(5);
    // 4 transitions + 2 pipelines + 2 jobs + 2 projects.
    expect(await store.prune(new Date('2025-10-01T00:00:00.000Z'))).toBe(10);
    expect(await projects()).toEqual([
      { backend: 'gh', project_native_id: 'acme/orphan-new', project_full_name: null },
      { backend: 'gh', project_native_id: 'acme/web', project_full_name: null },
      { backend: 'gl', project_native_id: '42', project_full_name: 'team/kept' },
    ]);
    // Seen again, a pruned project is back.
    await store.record([named(recent(pipeline('back', [1], { backend: 'gl', projectNativeId: '41' })), 'team/gone')]);
    expect(await projects()).toContainEqual({ backend: 'gl', project_native_id: '41', project_full_name: 'team/gone' });
    expect(await store.prune(new Date('2025-10-01T00:00:00.000Z'))).toBe(0);
  });
});
