import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/ids.ts';
import type { CiStatus, EntityModel, JobModel, PipelineModel, RunnerModel } from '../../src/model.ts';
import { createdTime } from '../../src/state/created-index.ts';
import { paginate } from '../../src/resolvers/connection.ts';
import { newestFirstPosition } from '../../src/resolvers/filters.ts';
import { LiveState } from '../../src/state/live-state.ts';

const BACKENDS = ['gh', 'gl'] as const;
const PROJECTS = ['p1', 'p2', 'p3'] as const;
const STATUSES: CiStatus[] = ['QUEUED', 'RUNNING', 'SUCCESS', 'FAILURE'];
// Few distinct times, so equal creation times (ties the index must break like the pages) are common.
const TIMES = ['2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z', '2026-01-01T00:00:02Z', '2026-01-01T00:00:03Z', 'not a date'];

const native = { provider: 'github' as const, status: 'x', conclusion: null, failureReason: null };

function pipeline(backend: string, id: number, project: string, createdAt: string, status: CiStatus, revision: number): PipelineModel {
  return {
    type: 'Pipeline', backend, nativeId: `r${id}`, revision: [revision], projectNativeId: project, number: id, name: 'ci', status, waitReason: null, native,
    attempt: 1, url: null, branch: 'main', ref: null, commitSha: null, event: null, actor: null,
    createdAt, queuedAt: null, startedAt: null, finishedAt: null, updatedAt: null,
  };
}

function job(backend: string, id: number, pipelineId: number, status: CiStatus, revision: number): JobModel {
  return {
    type: 'Job', backend, nativeId: `j${id}`, revision: [revision], projectNativeId: 'p1', pipelineNativeId: `r${pipelineId}`,
    name: `job${id % 3}`, status, waitReason: null, native, attempt: 1, url: null, labels: [], runnerNativeId: null, runnerName: null, branch: 'main',
    createdAt: null, queuedAt: null, startedAt: null, finishedAt: null, steps: [],
  };
}

function runner(backend: string, id: number, revision: number): RunnerModel {
  return {
    type: 'Runner', backend, nativeId: `u${id}`, revision: [revision], name: `u${id}`, state: revision % 2 ? 'IDLE' : 'BUSY', paused: false, labels: [], os: null,
    scope: 'ORGANIZATION', ephemeral: false, version: null, currentJobNativeId: null, native,
  };
}

const backendArb = fc.constantFrom(...BACKENDS);
const revisionArb = fc.integer({ min: 1, max: 4 });
const entityArb: fc.Arbitrary<EntityModel> = fc.oneof(
  fc.tuple(backendArb, fc.integer({ min: 1, max: 12 }), fc.constantFrom(...PROJECTS), fc.constantFrom(...TIMES), fc.constantFrom(...STATUSES), revisionArb)
    .map(([b, id, p, t, s, r]) => pipeline(b, id, p, t, s, r)),
  fc.tuple(backendArb, fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }), fc.constantFrom(...STATUSES), revisionArb)
    .map(([b, id, p, s, r]) => job(b, id, p, s, r)),
  fc.tuple(backendArb, fc.integer({ min: 1, max: 4 }), revisionArb).map(([b, id, r]) => runner(b, id, r)),
);

type Op = { kind: 'apply'; entity: EntityModel } | { kind: 'revert' } | { kind: 'drop'; backend: string };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: entityArb.map((entity) => ({ kind: 'apply' as const, entity })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'revert' as const }) },
  { weight: 1, arbitrary: backendArb.map((backend) => ({ kind: 'drop' as const, backend })) },
);

/** Runs the operations; a revert undoes the last change or creation, as the ingestor does when a publish fails. */
function run(ops: readonly Op[], maxEntries: number): LiveState {
  const state = new LiveState(maxEntries);
  let last: { entity: EntityModel; previous: EntityModel | null } | null = null;
  ops.forEach((op, i) => {
    if (op.kind === 'drop') state.dropBackend(op.backend);
    else if (op.kind === 'revert') {
      if (last) state.revert(last.entity, last.previous);
      last = null;
    } else {
      const r = state.apply(op.entity, i);
      last = r.kind === 'created' ? { entity: r.entity, previous: null } : r.kind === 'changed' ? { entity: r.entity, previous: r.previous } : last;
    }
  });
  return state;
}

const ids = (entities: Iterable<EntityModel>) => [...entities].map((e) => `${e.backend}/${e.nativeId}`);

/** The index's own order: newest first, ties by native id descending. */
const newestFirst = (a: PipelineModel, b: PipelineModel) => createdTime(b.createdAt) - createdTime(a.createdAt) || (a.nativeId < b.nativeId ? 1 : a.nativeId > b.nativeId ? -1 : 0);

/** The page the resolver cuts from these (its order breaks ties by global id, not by native id). */
function page(items: readonly PipelineModel[], after: { key: number; id: string } | null, first: number) {
  const p = paginate(items, newestFirstPosition, { first, after, ascending: false });
  return { ids: p.nodes.map((n) => n.nativeId), hasNextPage: p.pageInfo.hasNextPage };
}

describe('LiveState indexes', () => {
  it('should list exactly what a scan of every entry finds, in the same order, after any sequence of creates, changes, stale observations, reverts, drops and evictions', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), fc.integer({ min: 3, max: 30 }), (ops, maxEntries) => {
        const state = run(ops, maxEntries);
        for (const type of ['Pipeline', 'Job', 'Runner'] as const) {
          expect(ids(state.all(type)).sort()).toEqual(ids(state.scan(type)).sort());
          for (const b of BACKENDS) expect(ids(state.all(type, b))).toEqual(ids(state.scan(type, b)));
        }
        for (const b of BACKENDS) {
          const everyOne = state.newestPipelines(b, { limit: Infinity, matches: () => true });
          expect(ids(everyOne)).toEqual(ids([...state.scan('Pipeline', b)].sort(newestFirst)));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('should give a newest-first page the same pipelines as sorting a scan, for any cursor, project set, skipped ids, filter and lower bound', () => {
    const queryArb = fc.record({
      backend: backendArb,
      first: fc.integer({ min: 1, max: 6 }),
      cursor: fc.option(fc.record({ key: fc.constantFrom(...TIMES.map(createdTime)), id: fc.integer({ min: 0, max: 13 }) })),
      notBefore: fc.option(fc.constantFrom(...TIMES.map(createdTime))),
      projects: fc.option(fc.subarray([...PROJECTS], { minLength: 1 })),
      statuses: fc.option(fc.subarray(STATUSES, { minLength: 1 })),
      skipped: fc.subarray(Array.from({ length: 12 }, (_, i) => `r${i + 1}`)),
    });
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), fc.integer({ min: 3, max: 30 }), queryArb, (ops, maxEntries, q) => {
        const state = run(ops, maxEntries);
        const matches = (p: PipelineModel) => (!q.statuses || q.statuses.includes(p.status)) && (!q.projects || (q.projects as readonly string[]).includes(p.projectNativeId));
        const skip = (id: string) => q.skipped.includes(id);
        const naive = [...state.scan('Pipeline', q.backend)].filter((p) => matches(p) && !skip(p.nativeId) && createdTime(p.createdAt) >= (q.notBefore ?? -Infinity));
        const indexed = state.newestPipelines(q.backend, {
          limit: q.first + 1, matches, skip,
          ...(q.notBefore !== null ? { notBefore: q.notBefore } : {}),
          ...(q.cursor ? { atOrBefore: q.cursor.key } : {}),
          ...(q.projects ? { projectNativeIds: q.projects } : {}),
        });
        expect(new Set(indexed.map((p) => p.nativeId)).size).toBe(indexed.length);
        const after = q.cursor ? { key: q.cursor.key, id: toGlobalId('Pipeline', q.backend, `r${q.cursor.id}`) } : null;
        expect(page(indexed, after, q.first)).toEqual(page(naive, after, q.first));
      }),
      { numRuns: 500 },
    );
  });

  it('should read only what the page needs, not the other pipelines of the backend', () => {
    const state = new LiveState(10_000);
    for (let i = 0; i < 5000; i++) state.apply(pipeline('gh', i, 'p1', new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(), 'SUCCESS', 1), 0);
    let read = 0;
    const page = state.newestPipelines('gh', { limit: 21, matches: () => (read++, true) });
    expect(page.map((p) => p.number)).toEqual(Array.from({ length: 21 }, (_, i) => 4999 - i));
    expect(read).toBe(21);
  });
});
