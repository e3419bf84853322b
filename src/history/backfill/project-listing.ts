import type { Logger } from 'pino';
import type { BackendEntry } from '../../backend-registry.ts';
import type { ProjectModel } from '../../model.ts';
import { sleep, type RequestBudget } from './budget.ts';

const LIST_PROJECTS_DEADLINE_MS = 60_000;
/** Listings tried (backing off 1 s, 2 s, 4 s ... up to 60 s) before the backfill gives up until the next start. */
const MAX_LIST_ATTEMPTS = 8;

export interface ProjectListingDeps {
  readonly backend: BackendEntry;
  readonly budget: RequestBudget;
  /** Waits while the backend is rate limited or below its reserve. */
  readonly room: (signal: AbortSignal) => Promise<void>;
  readonly log: Logger;
  /** Told of every listing request sent (Backend.sync counts them). */
  readonly requested: () => void;
  /** Told of the last listing's error, or null once one succeeded. */
  readonly failed: (message: string | null) => void;
}

/** The backend's configured projects, retried with backoff; null when the backend refuses (or keeps failing). */
export async function listProjectsToBackfill(deps: ProjectListingDeps, signal: AbortSignal): Promise<readonly ProjectModel[] | null> {
  const { backend } = deps;
  for (let attempt = 1; ; attempt++) {
    try {
      await deps.room(signal);
      await deps.budget.take(1, signal);
      deps.requested();
      const projects = await backend.policy.execute((s) => backend.adapter.listProjects(s), { signal, deadlineMs: LIST_PROJECTS_DEADLINE_MS, what: 'listing projects for the backfill' });
      deps.failed(null);
      return projects;
    } catch (error) {
      if (signal.aborted) throw error;
      const message = error instanceof Error ? error.message : String(error);
      deps.failed(message);
      deps.log.warn({ backend: backend.name, attempt, err: message }, 'backfill: listing projects failed');
      if (attempt >= MAX_LIST_ATTEMPTS) return null;
      await sleep(Math.min(60_000, 1000 * 2 ** (attempt - 1)), signal);
    }
  }
}
