import { describe, expect, it } from 'vitest';
import { advance, estimateTotal, pageLowerBound, planPass, type ProjectProgress } from '../../src/history/backfill/planner.ts';

const H = 3_600_000;
const T0 = Date.parse('2026-11-20T12:00:00.000Z');
const at = (hoursAgo: number) => new Date(T0 - hoursAgo * H);

describe('backfill planner', () => {
  it('a new project gets the whole window, with its cursor at the start', () => {
    const p = planPass(undefined, 'acme/api', at(0), 1);
    expect(p).toMatchObject({ state: 'RUNNING', since: at(24), until: at(0), cursor: at(0), coveredFrom: null, imported: 0 });
    expect(pageLowerBound(p)).toEqual(at(24));
  });

  it('pages move the cursor to the oldest pipeline seen; a short page ends the pass and covers the window', () => {
    let p = planPass(undefined, 'acme/api', at(0), 1);
    p = advance({ ...p, imported: 100 }, at(5), false);
    expect(p).toMatchObject({ state: 'RUNNING', cursor: at(5) });
    p = advance({ ...p, imported: 140 }, at(20), true);
    expect(p).toMatchObject({ state: 'DONE', cursor: at(24), coveredFrom: at(24), coveredTo: at(0), estimatedTotal: 140 });
  });

  it('an interrupted pass resumes with its counts, importing the gap since it started, then jumping to its cursor', () => {
    const killed: ProjectProgress = { ...planPass(undefined, 'acme/api', at(2), 1), imported: 30, importedJobs: 90, requests: 34, cursor: at(8) };
    const p = planPass(killed, 'acme/api', at(0), 1);
    expect(p).toMatchObject({ state: 'RUNNING', since: at(24), until: at(0), cursor: at(0), coveredFrom: at(8), coveredTo: at(2), imported: 30, importedJobs: 90, requests: 34 });
    // The gap page asks only for what is newer than the covered range.
    expect(pageLowerBound(p)).toEqual(at(2));
    const jumped = advance(p, null, true);
    expect(jumped).toMatchObject({ state: 'RUNNING', cursor: at(8) });
    expect(pageLowerBound(jumped)).toEqual(at(24));
    // A full gap page that reaches into the covered range jumps too.
    expect(advance(p, at(1.5), false).cursor).toEqual(at(1.5));
    expect(advance(p, at(3), false).cursor).toEqual(at(8));
    const done = advance(jumped, null, true);
    expect(done).toMatchObject({ state: 'DONE', coveredFrom: at(24), coveredTo: at(0) });
  });

  it('a finished project starts a new pass for what is new only, with fresh counts', () => {
    const finished = advance(planPass(undefined, 'acme/api', at(10), 1), null, true);
    const p = planPass({ ...finished, imported: 50 }, 'acme/api', at(0), 1);
    expect(p).toMatchObject({ state: 'RUNNING', imported: 0, coveredFrom: at(34), coveredTo: at(10), cursor: at(0) });
    expect(pageLowerBound(p)).toEqual(at(10));
    // The covered range reaches past the window's start: after the gap, nothing is left.
    expect(advance(p, null, true)).toMatchObject({ state: 'DONE', coveredTo: at(0) });
  });

  it('estimates the total from the pipelines per hour seen, excluding the covered range', () => {
    const p: ProjectProgress = { ...planPass(undefined, 'acme/api', at(0), 1), cursor: at(6), imported: 60 };
    expect(estimateTotal(p, 6 * H, 60)).toBe(60 + 180);
    const resumed: ProjectProgress = { ...p, coveredFrom: at(12), coveredTo: at(8) };
    expect(estimateTotal(resumed, 6 * H, 60)).toBe(60 + 140);
  });
});
