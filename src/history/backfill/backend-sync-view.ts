import type { ProjectProgress } from './planner.ts';

export type BackfillState = 'IDLE' | 'RUNNING' | 'PAUSED_RATE_LIMITED' | 'DONE' | 'FAILED';

/** What `Backend.sync` shows: the backend's projects summed. */
export interface BackendSyncView {
  readonly state: BackfillState;
  readonly since: string | null;
  readonly imported: number;
  readonly importedJobs: number;
  readonly estimatedTotal: number | null;
  /** Everything created after this is imported (the projects' oldest cursor). */
  readonly oldestImportedAt: string | null;
  readonly requests: number;
  readonly projects: number;
  readonly projectsDone: number;
  readonly pausedUntil: string | null;
  readonly lastError: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

/** What a backend's backfill knows at one moment, leading or following. */
export interface BackfillSnapshot {
  readonly projects: readonly ProjectProgress[];
  readonly phase: 'IDLE' | 'RUNNING' | 'DONE' | 'FAILED';
  readonly pausedUntilMs: number | null;
  /** Projects the holder listed (null before). */
  readonly listed: number | null;
  readonly listRequests: number;
  readonly listError: string | null;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
}

/** The projects' progress summed into `Backend.sync`. */
export function syncView(s: BackfillSnapshot): BackendSyncView {
  const all = s.projects;
  const sum = (f: (p: ProjectProgress) => number) => all.reduce((n, p) => n + f(p), 0);
  // Projects not yet started are assumed to be like the average of those that have an estimate.
  const known = all.filter((p) => p.estimatedTotal !== null);
  const knownSum = known.reduce((n, p) => n + p.estimatedTotal!, 0);
  // A follower has rows only for the projects the holder has started; it published how many it listed.
  const projects = Math.max(all.length, s.listed ?? 0);
  const estimatedTotal = known.length === 0 ? null : knownSum + Math.round((knownSum / known.length) * (projects - known.length));
  const oldest = all.length > 0 ? Math.min(...all.map((p) => p.cursor.getTime())) : null;
  const failed = all.find((p) => p.lastError !== null);
  const paused = s.phase === 'RUNNING' && s.pausedUntilMs !== null;
  return {
    state: paused ? 'PAUSED_RATE_LIMITED' : s.phase,
    since: all.length > 0 ? new Date(Math.min(...all.map((p) => p.since.getTime()))).toISOString() : null,
    imported: sum((p) => p.imported),
    importedJobs: sum((p) => p.importedJobs),
    estimatedTotal,
    oldestImportedAt: oldest === null ? null : new Date(oldest).toISOString(),
    requests: s.listRequests + sum((p) => p.requests),
    projects,
    projectsDone: all.filter((p) => p.state === 'DONE').length,
    pausedUntil: paused ? new Date(s.pausedUntilMs!).toISOString() : null,
    lastError: s.listError ?? failed?.lastError ?? null,
    startedAt: s.startedAt?.toISOString() ?? null,
    finishedAt: s.finishedAt?.toISOString() ?? null,
  };
}
