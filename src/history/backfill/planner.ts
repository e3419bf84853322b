/**
 * Pure planning of one project's backfill pass. A pass imports the window
 * [since, until] newest first: every page asks for pipelines created in
 * [lower, cursor] and moves the cursor down to the oldest one it got, so
 * everything in [cursor, until] is imported. What earlier passes imported
 * completely ([coveredFrom, coveredTo]) is skipped.
 */
export type ProjectState = 'RUNNING' | 'DONE' | 'FAILED';

export interface ProjectProgress {
  readonly project: string;
  readonly state: ProjectState;
  readonly since: Date;
  readonly until: Date;
  /** `createdBefore` of the next page: everything created in [cursor, until] is imported. */
  readonly cursor: Date;
  readonly coveredFrom: Date | null;
  readonly coveredTo: Date | null;
  readonly imported: number;
  readonly importedJobs: number;
  readonly estimatedTotal: number | null;
  readonly requests: number;
  readonly lastError: string | null;
}

const DAY_MS = 86_400_000;

/** The interval fully imported once a pass that reached `cursor` is merged with what was covered before. */
function merged(p: ProjectProgress): { from: Date; to: Date } {
  const done = { from: p.cursor, to: p.until };
  if (!p.coveredFrom || !p.coveredTo) return done;
  // Disjoint (the pass never reached the old range): keep the newer one; the older is imported again (idempotent).
  if (p.coveredTo.getTime() < p.cursor.getTime()) return done;
  return {
    from: new Date(Math.min(p.coveredFrom.getTime(), p.cursor.getTime())),
    to: new Date(Math.max(p.coveredTo.getTime(), p.until.getTime())),
  };
}

/**
 * The pass to run at start-up: a new project gets the whole window; one whose
 * pass was interrupted (RUNNING, FAILED) resumes, keeping its counts, with
 * [cursor, until] added to what is covered; a DONE one imports only what is
 * new since (and, if `days` grew, the older part).
 */
export function planPass(row: ProjectProgress | undefined, project: string, now: Date, days: number): ProjectProgress {
  const since = new Date(now.getTime() - days * DAY_MS);
  const fresh = { project, state: 'RUNNING' as const, since, until: now, cursor: now, lastError: null };
  if (!row) return { ...fresh, coveredFrom: null, coveredTo: null, imported: 0, importedJobs: 0, estimatedTotal: null, requests: 0 };
  const covered = row.state === 'DONE' && row.coveredFrom && row.coveredTo ? { from: row.coveredFrom, to: row.coveredTo } : merged(row);
  const counts = row.state === 'DONE'
    ? { imported: 0, importedJobs: 0, estimatedTotal: null, requests: 0 }
    : { imported: row.imported, importedJobs: row.importedJobs, estimatedTotal: row.estimatedTotal, requests: row.requests };
  return { ...fresh, ...counts, coveredFrom: covered.from, coveredTo: covered.to };
}

/** Whether the cursor is still above a covered range that lies inside the window. */
function aboveCovered(p: ProjectProgress): boolean {
  return p.coveredTo !== null && p.coveredFrom !== null && p.cursor.getTime() > p.coveredTo.getTime() && p.coveredTo.getTime() > p.since.getTime();
}

/** The lower bound (`createdAfter`) of the page at the cursor: the top of the covered range while above it. */
export function pageLowerBound(p: ProjectProgress): Date {
  return aboveCovered(p) ? p.coveredTo! : p.since;
}

/**
 * After a page: `oldest` is the oldest creation time it returned; `exhausted`
 * says the page held fewer than it asked for (nothing older in [lower, cursor]).
 * Moves the cursor, jumps over the covered range, or finishes the pass.
 */
export function advance(p: ProjectProgress, oldest: Date | null, exhausted: boolean): ProjectProgress {
  const upper = aboveCovered(p);
  let cursor = exhausted || !oldest ? pageLowerBound(p) : oldest;
  if (p.coveredFrom && p.coveredTo) {
    const reachedCovered = upper ? exhausted || cursor.getTime() <= p.coveredTo.getTime() : false;
    // Reached what an earlier pass imported: continue below it.
    if (reachedCovered) cursor = new Date(Math.max(p.coveredFrom.getTime(), p.since.getTime()));
  }
  const done = cursor.getTime() <= p.since.getTime() || (exhausted && !upper);
  if (!done) return { ...p, cursor };
  const finished = { ...p, cursor: p.since };
  const covered = merged(finished);
  return { ...finished, state: 'DONE', coveredFrom: covered.from, coveredTo: covered.to, estimatedTotal: p.imported, lastError: null };
}

/**
 * Pipelines still to come, extrapolated from the rate seen so far in this
 * pass (`traversedMs` of creation time held `traversedCount` pipelines) over
 * the creation time left below the cursor, the covered range excepted.
 */
export function estimateTotal(p: ProjectProgress, traversedMs: number, traversedCount: number): number | null {
  if (p.state === 'DONE') return p.imported;
  if (traversedMs <= 0) return p.estimatedTotal;
  let left = p.cursor.getTime() - p.since.getTime();
  if (p.coveredFrom && p.coveredTo) {
    const from = Math.max(p.coveredFrom.getTime(), p.since.getTime());
    const to = Math.min(p.coveredTo.getTime(), p.cursor.getTime());
    if (to > from) left -= to - from;
  }
  return p.imported + Math.round((traversedCount / traversedMs) * Math.max(0, left));
}
