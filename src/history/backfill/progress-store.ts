import type { HistoryStore } from '../history-store.ts';
import { BACKFILL_PROGRESS_FOLLOWED, BACKFILL_PROGRESS_OF_BACKEND, UPSERT_BACKFILL_PROGRESS, UPSERT_BACKFILL_PROGRESS_LEASED } from '../sql.ts';
import { LeaseLostError } from './backfill-lease.ts';
import type { ProjectProgress, ProjectState } from './planner.ts';

interface ProgressRow {
  project_native_id: string;
  state: ProjectState;
  since: Date | string;
  until: Date | string;
  cursor_at: Date | string;
  covered_from: Date | string | null;
  covered_to: Date | string | null;
  imported: number;
  imported_jobs: number;
  estimated_total: number | null;
  requests: number;
  last_error: string | null;
}

const date = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));
const maybeDate = (v: Date | string | null): Date | null => (v === null ? null : date(v));

const fromRow = (r: ProgressRow): ProjectProgress => ({
  project: r.project_native_id,
  state: r.state,
  since: date(r.since),
  until: date(r.until),
  cursor: date(r.cursor_at),
  coveredFrom: maybeDate(r.covered_from),
  coveredTo: maybeDate(r.covered_to),
  imported: r.imported,
  importedJobs: r.imported_jobs,
  estimatedTotal: r.estimated_total,
  requests: r.requests,
  lastError: r.last_error,
});

/**
 * The progress table (migration 3): one row per backend + project, written after each page.
 * With `holder`, writes land only while that instance holds the backend's lease (else LeaseLostError).
 */
export class ProgressStore {
  constructor(private readonly store: HistoryStore, private readonly now: () => Date, private readonly holder: string | null = null) {}

  /** Every row with when it was written (the writer's clock), for a follower. */
  async loadFollowed(backend: string): Promise<{ progress: ProjectProgress; updatedAt: Date }[]> {
    const rows = await this.store.query<ProgressRow & { updated_at: Date | string }>(BACKFILL_PROGRESS_FOLLOWED, [backend]);
    return rows.map((r) => ({ progress: fromRow(r), updatedAt: date(r.updated_at) }));
  }

  async load(backend: string): Promise<Map<string, ProjectProgress>> {
    const rows = await this.store.query<ProgressRow>(BACKFILL_PROGRESS_OF_BACKEND, [backend]);
    return new Map(rows.map((r) => [r.project_native_id, fromRow(r)]));
  }

  async save(backend: string, p: ProjectProgress): Promise<void> {
    const iso = (d: Date | null) => d?.toISOString() ?? null;
    const params = [
      backend, p.project, p.state, iso(p.since), iso(p.until), iso(p.cursor), iso(p.coveredFrom), iso(p.coveredTo),
      p.imported, p.importedJobs, p.estimatedTotal, p.requests, p.lastError, this.now().toISOString(),
    ];
    if (this.holder === null) {
      await this.store.query(UPSERT_BACKFILL_PROGRESS, params);
      return;
    }
    const written = await this.store.query(UPSERT_BACKFILL_PROGRESS_LEASED, [...params, this.holder]);
    if (written.length === 0) throw new LeaseLostError(backend);
  }
}
