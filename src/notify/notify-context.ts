import type { CompiledScope } from '../auth/scope.ts';
import type { Notification } from './notification.ts';
import type { NotificationsConfig } from './notify-config.ts';
import type { NotificationEnqueuer } from './outbox-port.ts';

/**
 * What GraphQL resolvers (and the demo's receiver page) reach of notifications, through
 * `GatewayServices.notifications`. Each part is built by its module: the outbox by
 * src/notify/delivery, watches by src/notify/rules. Absent or null when not configured.
 */
export interface NotificationContext {
  readonly config: NotificationsConfig;
  /** Null when notifications are off or the history is off (the outbox lives in it). */
  readonly outbox: OutboxApi | null;
  /** Null when notifications are off. */
  readonly watches: WatchApi | null;
}

export type DeliveryState = 'pending' | 'sending' | 'delivered' | 'dead';

/** One outbox row, as GraphQL shows it. */
export interface DeliveryRecord {
  readonly id: string;
  readonly sink: string;
  readonly state: DeliveryState;
  readonly notification: Notification;
  readonly attempts: number;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly nextAttemptAt: string | null;
  readonly deliveredAt: string | null;
  /** deliveredAt minus notification.detectedAt, ms. */
  readonly latencyMs: number | null;
}

export interface DeliveryPage {
  readonly records: readonly DeliveryRecord[];
  /** Opaque; pass as `after` for the next page; null at the end. */
  readonly endCursor: string | null;
  readonly hasNextPage: boolean;
}

export interface OutboxApi extends NotificationEnqueuer {
  /**
   * Newest first. `scope` filters by each message's backend and project (pool and backend
   * messages: by the backend's runners); the filtering happens before the page is cut.
   */
  list(filter: { readonly state?: DeliveryState; readonly sink?: string; readonly first: number; readonly after?: string }, scope: CompiledScope): Promise<DeliveryPage>;
  /** Puts rows back to pending with their attempts reset; `allowed` decides per row (the caller's `retry` permission). Returns how many. */
  redrive(target: { readonly ids?: readonly string[]; readonly sink?: string }, allowed: (record: DeliveryRecord) => boolean): Promise<number>;
  /** Per sink: rows waiting (pending or sending) and dead. */
  counts(): Promise<ReadonlyMap<string, { readonly pending: number; readonly dead: number }>>;
}

export interface WatchResult {
  readonly expiresAt: string | null;
  /** The pipeline had finished already: the message was queued at once. */
  readonly alreadyFinished: boolean;
}

export interface WatchApi {
  /** Registers a one-shot watch of a pipeline (global id) for `sink`, by `watcher` (an identity id). */
  watch(pipelineId: string, sink: string, watcher: string): Promise<WatchResult>;
}
