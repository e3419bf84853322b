import type { ChangeEvent, ChangeEventByType, EventType, WithCursor } from './event-types.ts';

/** What a history read found: the events after the cursor, or why they cannot be given. */
export type HistoryRead<T> =
  | { readonly ok: true; readonly events: readonly T[] }
  | { readonly ok: false; readonly reason: 'lost' | 'invalid'; readonly detail: string };

/**
 * Where published events go and come back from, with a bounded history.
 * The store assigns each event its cursor and hands it to `deliver`, in
 * publication order per event type.
 */
export interface EventStore {
  /** Fire-and-forget: never throws, never blocks the publisher. */
  append(event: ChangeEvent): void;
  /** The retained events of `type` strictly after `cursor`, oldest first. */
  readAfter<K extends EventType>(type: K, cursor: string): HistoryRead<WithCursor<ChangeEventByType[K]>> | Promise<HistoryRead<WithCursor<ChangeEventByType[K]>>>;
  close(): Promise<void>;
}

export type Deliver = (event: WithCursor<ChangeEvent>) => void;

/** What an instance hears from its store besides deliveries to subscribers. */
export interface EventStoreHooks {
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
