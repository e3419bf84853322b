import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { BackendEntry } from '../../backend-registry.ts';
import { ErrorCode, isUpstreamError } from '../../errors.ts';
import { compareRevisions, isTerminal, type CiStatus, type JobModel, type PipelineModel } from '../../model.ts';
import type { HistoryStore } from '../history-store.ts';
import { RECORDED_FINISHED_PIPELINES } from '../sql.ts';
import { LeaseLostError } from './backfill-lease.ts';
import { sleep, type RequestBudget } from './budget.ts';
import { advance, estimateTotal, pageLowerBound, type ProjectProgress } from './planner.ts';
import type { ProgressStore } from './progress-store.ts';

export interface PassDeps {
  readonly backend: BackendEntry;
  readonly store: HistoryStore;
  readonly progress: ProgressStore;
  readonly budget: RequestBudget;
  /** Waits while the backend is rate limited or below its reserve. */
  readonly room: (signal: AbortSignal) => Promise<void>;
  readonly pageSize: number;
  readonly now: () => Date;
  readonly log: Logger;
  /** Told after every page (and failure) with the project's progress. */
  readonly changed: (p: ProjectProgress) => void;
}

/** Longest one upstream read of the backfill may take, retries included. */
const READ_DEADLINE_MS = 60_000;
/** Failed pages in a row (rate limits aside) before the project is given up until the next start. */
const MAX_FAILURES = 8;
const MAX_BACKOFF_MS = 60_000;
/** Pipelines whose jobs are read in one batch call. */
export const JOBS_BATCH = 8;

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));
const isRateLimited = (error: unknown) => isUpstreamError(error) && error.code === ErrorCode.UpstreamRateLimited;

/** What one page of a pass brings back besides the new progress. */
interface PageState {
  /** Ids listed at the cursor's creation time: the next page (cursor inclusive) lists them again. */
  boundary: Set<string>;
  traversedMs: number;
  traversedCount: number;
}

/** Runs one project's pass to its end (DONE or FAILED), page by page, saving progress after each. */
export async function runPass(deps: PassDeps, start: ProjectProgress, signal: AbortSignal): Promise<ProjectProgress> {
  let p = start;
  const page: PageState = { boundary: new Set(), traversedMs: 0, traversedCount: 0 };
  let failures = 0;
  await deps.progress.save(deps.backend.name, p);
  while (p.state === 'RUNNING') {
    try {
      p = await importPage(deps, p, page, signal);
      failures = 0;
    } catch (error) {
      // Another instance took the backend's lease: its pass goes on from the saved progress.
      if (signal.aborted || error instanceof LeaseLostError) throw error;
      // A rate limit is waited out (room()), not counted as a failure.
      if (isRateLimited(error)) {
        p = { ...p, lastError: errorText(error) };
        deps.changed(p);
        if (deps.backend.policy.blockedUntil() <= deps.now().getTime()) await sleep(1000, signal);
        continue;
      }
      failures++;
      const fatal = isUpstreamError(error) && error.code === ErrorCode.UpstreamUnauthorized;
      p = { ...p, lastError: errorText(error), ...(fatal || failures >= MAX_FAILURES ? { state: 'FAILED' as const } : {}) };
      await deps.progress.save(deps.backend.name, p).catch(() => {});
      deps.changed(p);
      deps.log.warn({ backend: deps.backend.name, project: p.project, failures, err: p.lastError, gaveUp: p.state === 'FAILED' }, 'backfill page failed');
      if (p.state === 'RUNNING') await sleep(Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (failures - 1)), signal);
    }
  }
  return p;
}

async function importPage(deps: PassDeps, p: ProjectProgress, page: PageState, signal: AbortSignal): Promise<ProjectProgress> {
  const { backend, pageSize } = deps;
  const lower = pageLowerBound(p);
  await deps.room(signal);
  await deps.budget.take(1, signal);
  let requests = p.requests + 1;
  const listed = await backend.policy.execute(
    (s) => backend.adapter.listPipelines({ projectNativeIds: [p.project], createdAfter: lower, createdBefore: p.cursor, limit: pageSize }, s),
    { signal, deadlineMs: READ_DEADLINE_MS, what: 'backfilling pipelines' },
  );
  // Pipelines at the page's inclusive bounds may have been imported already: by the last page, or by an earlier pass.
  const covered = (pl: PipelineModel) => p.coveredFrom !== null && p.coveredTo !== null && Date.parse(pl.createdAt) >= p.coveredFrom.getTime() && Date.parse(pl.createdAt) <= p.coveredTo.getTime();
  const fresh = listed.filter((pl) => !page.boundary.has(pl.nativeId) && !covered(pl) && pl.projectNativeId === p.project);
  const observedAt = deps.now().toISOString();
  const needJobs = await withoutRecordedJobs(deps, fresh);
  const settled = fresh.filter((pl) => !needJobs.includes(pl));
  if (settled.length > 0) await deps.store.record(settled.map((entity) => ({ entity, observedAt })));
  let jobs = 0;
  // Each batch is recorded with its pipelines: a retried page skips them.
  // Batches of 8 (the budget's debt keeps the pace): GitLab's keyset listing and Jenkins' build ranges serve
  // several pipelines per request.
  const chunk = JOBS_BATCH;
  for (let i = 0; i < needJobs.length; i += chunk) {
    const pipelines = needJobs.slice(i, i + chunk);
    await deps.room(signal);
    await deps.budget.take(pipelines.length, signal);
    requests += pipelines.length;
    const slots = await backend.policy.executeBatch(
      (s) => {
        // Every pipeline's reads listen on this one signal: more than Node's default 10 is expected here.
        setMaxListeners(64, s);
        // Every attempt where the adapter can tell them apart: a failure a retry hid is what flakyJobs looks for.
        const { batch } = backend.adapter;
        const ids = pipelines.map((pl) => pl.nativeId);
        return batch.jobAttemptsOfPipelines ? batch.jobAttemptsOfPipelines(ids, s) : batch.jobsOfPipelines(ids, s);
      },
      { signal, deadlineMs: READ_DEADLINE_MS, what: 'backfilling jobs' },
    );
    const found: JobModel[] = [];
    for (const slot of slots) {
      if (slot instanceof Error) throw slot;
      found.push(...slot);
    }
    await deps.store.record([...pipelines, ...found].map((entity) => ({ entity, observedAt })));
    jobs += found.length;
  }

  const created = (pl: PipelineModel) => Date.parse(pl.createdAt);
  const oldestMs = listed.length > 0 ? Math.min(...listed.map(created)) : null;
  const exhausted = listed.length < pageSize;
  let next = advance({ ...p, imported: p.imported + fresh.length, importedJobs: p.importedJobs + jobs, requests, lastError: null }, oldestMs === null ? null : new Date(oldestMs), exhausted);
  if (next.state === 'RUNNING' && fresh.length === 0 && next.cursor.getTime() === p.cursor.getTime()) {
    // A full page of pipelines created at the same instant, all seen: step below them (more ties than a page are skipped).
    deps.log.warn({ backend: backend.name, project: p.project, at: p.cursor.toISOString() }, 'backfill: more pipelines created at one instant than a page holds; stepping past them');
    next = { ...next, cursor: new Date(p.cursor.getTime() - 1) };
  }
  page.boundary = new Set(listed.filter((pl) => created(pl) === oldestMs).map((pl) => pl.nativeId));
  page.traversedMs += p.cursor.getTime() - (exhausted || oldestMs === null ? lower.getTime() : oldestMs);
  page.traversedCount += fresh.length;
  next = { ...next, estimatedTotal: estimateTotal(next, page.traversedMs, page.traversedCount) };
  await deps.progress.save(backend.name, next);
  deps.changed(next);
  return next;
}

/** The pipelines whose jobs must still be read: not already recorded finished, at this revision or later, with jobs. */
async function withoutRecordedJobs(deps: PassDeps, pipelines: readonly PipelineModel[]): Promise<PipelineModel[]> {
  if (pipelines.length === 0) return [];
  type Row = { native_id: string; status: CiStatus; revision: number[]; jobs: number };
  const rows = await deps.store.query<Row>(RECORDED_FINISHED_PIPELINES, [deps.backend.name, pipelines.map((pl) => pl.nativeId)]);
  const recorded = new Map(rows.map((r) => [r.native_id, r]));
  return pipelines.filter((pl) => {
    const r = recorded.get(pl.nativeId);
    return !(r && r.jobs > 0 && isTerminal(r.status) && compareRevisions(r.revision, pl.revision) >= 0);
  });
}
