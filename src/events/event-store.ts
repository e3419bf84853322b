import type { ChangeEvent, ChangeEventByType, EventType, WithCursor } from './event-types.ts';

/**
 * What one page of a history read found: up to `limit` events after the
 * cursor, and where the next page starts (null once the page reached the end
 * of the history), or why they cannot be given.
 */
export type HistoryRead<T> =
  | { readonly ok: true; readonly events: readonly T[]; readonly next: string | null }
  | { readonly ok: false; readonly reason: 'lost' | 'invalid'; readonly detail: string };

/**
 * Where published events go and come back from, with a bounded history.
 * The store assigns each event its cursor and hands it to `deliver`, in
 * publication order per event type.
 */
export interface EventStore {
  /**
   * Fire-and-forget: never throws, never blocks the publisher. The outcome is
   * reported to `EventStoreHooks.appended`, for callers that must know.
   */
  append(event: ChangeEvent): void;
  /**
   * At most `limit` retained events of `type` strictly after `cursor`, oldest
   * first: a resume reads the history page by page, so its memory is bounded
   * by the page, not by the history. 'lost' when events after the cursor are
   * no longer retained (checked on every page).
   */
  readAfter<K extends EventType>(type: K, cursor: string, limit: number): HistoryRead<WithCursor<ChangeEventByType[K]>> | Promise<HistoryRead<WithCursor<ChangeEventByType[K]>>>;
  close(): Promise<void>;
}

export type Deliver = (event: WithCursor<ChangeEvent>) => void;

/** What an instance hears from its store besides deliveries to subscribers. */
export interface EventStoreHooks {
  /**
   * Once per `append`: the event is stored and will be delivered (error null),
   * or it could not be stored. An event the shared store already holds (the
   * same entity at the same or a newer revision) counts as stored.
   */
  readonly appended?: (event: ChangeEvent, error: Error | null) => void;
  /**
   * Every event read back from a store shared by several instances, whichever
   * instance published it, before it is delivered here: lets each instance
   * bring its own live state up to date. Never called by the embedded store.
   */
  readonly shared?: (event: WithCursor<ChangeEvent>) => void;
}
export type EventStoreFactory = (deliver: Deliver) => EventStore;

export interface HistoryLimits {
  /** Retained events per event type. */
  readonly maxEvents: number;
  readonly maxAgeSeconds: number;
}
