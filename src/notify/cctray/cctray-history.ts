import type { Logger } from 'pino';
import type { HistoryReads } from '../../history/history-reads.ts';
import { TERMINAL_STATUSES } from '../../model.ts';
import type { FeedRun } from './cctray-entries.ts';

interface FinishedRow {
  backend: string; native_id: string; project_native_id: string; number: number | null; name: string | null; status: FeedRun['status'];
  branch: string; url: string | null; attempt: number; created_at: unknown; finished_at: unknown;
}

const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string).toISOString());

/** The newest finished pipeline of every (project, branch, pipeline name) the history holds; DISTINCT ON keeps one row per group. */
const LATEST_FINISHED_SQL = `SELECT DISTINCT ON (backend, project_native_id, branch, name)
    backend, native_id, project_native_id, number, name, status, branch, url, attempt, created_at, finished_at
  FROM pipelines
  WHERE backend = ANY($1::text[]) AND status = ANY($2::text[]) AND branch IS NOT NULL
  ORDER BY backend, project_native_id, branch, name, created_at DESC, attempt DESC`;

export interface FinishedRunsSource {
  /** The latest finished run per group, for these backends; [] when the history is off or cannot answer. */
  latest(backends: readonly string[]): Promise<readonly FeedRun[]>;
}

/**
 * What the history knows of finished pipelines: the verdict of a pipeline the live state no
 * longer holds (evicted, or from before a restart). Build monitors poll every few seconds, so
 * the answer is kept `ttlMs`; a history that is off or down gives none (the feed then shows
 * the live state alone rather than failing).
 */
export function historyFinishedRuns(history: HistoryReads | null, log: Logger, nowMs: () => number, ttlMs = 30_000): FinishedRunsSource {
  let cached: { key: string; at: number; runs: Promise<readonly FeedRun[]> } | null = null;
  const read = async (backends: readonly string[]): Promise<readonly FeedRun[]> => {
    try {
      const rows = await history!.read((store) => store.query<FinishedRow>(LATEST_FINISHED_SQL, [[...backends], [...TERMINAL_STATUSES]]));
      return rows.map((r) => ({
        backend: r.backend, nativeId: r.native_id, projectNativeId: r.project_native_id, number: r.number, name: r.name, status: r.status,
        branch: r.branch, url: r.url, attempt: r.attempt, createdAt: iso(r.created_at)!, finishedAt: iso(r.finished_at),
      }));
    } catch (error) {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, 'cc.xml: history not read, serving the live state alone');
      return [];
    }
  };
  return {
    latest(backends) {
      if (!history?.enabled || backends.length === 0) return Promise.resolve([]);
      const key = [...backends].sort().join('\u0000');
      const now = nowMs();
      if (!cached || cached.key !== key || now - cached.at > ttlMs) cached = { key, at: now, runs: read(backends) };
      return cached.runs;
    },
  };
}
