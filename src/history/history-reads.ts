import { ErrorCode, gatewayError } from '../errors.ts';
import type { BackendSyncView } from './backfill/backend-sync-view.ts';
import type { HistoryStore } from './history-store.ts';

/**
 * What resolvers may do with the history: read it. `store()` answers the open
 * store or throws ANALYTICS_UNAVAILABLE naming why (turned off, still opening,
 * database lost), so analytics fail alone while live queries keep working.
 */
export interface HistoryReads {
  readonly enabled: boolean;
  /** List pages older than now minus this are served from the history (history.liveWindowHours); absent: 24 h. */
  readonly liveWindowMs?: number;
  store(): HistoryStore;
  /** Runs a read; a database failure becomes ANALYTICS_UNAVAILABLE with the cause. */
  read<T>(work: (store: HistoryStore) => Promise<T>): Promise<T>;
  /** The backfill of a backend (`Backend.sync`); null when history or backfill is off. */
  sync?(backend: string): BackendSyncView | null;
}

export function analyticsUnavailable(cause: string): Error {
  return gatewayError(ErrorCode.AnalyticsUnavailable, `History and analytics are unavailable: ${cause}`, { extensions: { http: { status: 503 } } });
}
