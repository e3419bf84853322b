import type { GraphQLError } from 'graphql';
import { ErrorCode, gatewayError } from '../errors.ts';
import { BoundedQueueIterator } from './bounded-queue-iterator.ts';
import { compareCursors } from './event-cursor.ts';
import type { EventStore, EventStoreFactory } from './event-store.ts';
import type { ChangeEvent, ChangeEventByType, EventType, WithCursor } from './event-types.ts';
import { MemoryEventStore } from './memory-event-store.ts';
import type { BusObserver } from '../metrics/gateway-metrics.ts';

interface Cursored {
  readonly cursor: string;
}

interface Listener<T extends Cursored> {
  readonly accept: (event: T) => boolean;
  readonly iterator: BoundedQueueIterator<T>;
  /** Cursor of the last event this listener considered: anything at or before it is a duplicate. */
  last: string | null;
  /** Live events held while the history is being replayed; null once live. */
  buffer: T[] | null;
}

const DEFAULT_HISTORY = { maxEvents: 10_000, maxAgeSeconds: 3600 };

/**
 * Event bus. Subscribers register a predicate; each delivered event is
 * evaluated against it and enqueued into that subscriber's own bounded queue.
 * Publishing never blocks and never throws because of a subscriber.
 *
 * Events go through an EventStore (in memory by default, or Redis Streams
 * shared by all instances), which gives each one a cursor and keeps a bounded
 * history, so a subscriber can resume after a cursor: history first, then
 * live, with no gap and no duplicate.
 */
export class EventBus {
  private readonly listeners: { [K in EventType]: Set<Listener<WithCursor<ChangeEventByType[K]>>> } = {
    Job: new Set(),
    Pipeline: new Set(),
    Runner: new Set(),
  };
  private readonly store: EventStore;

  constructor(
    private readonly queueLimit: number,
    createStore: EventStoreFactory = (deliver) => new MemoryEventStore(deliver, DEFAULT_HISTORY),
    /** Events per history read of a resume: with the subscriber's queue, what a resume holds in memory. */
    private readonly historyPageSize = 256,
    /** Where delivery lag and queue overflows are counted (/metrics). */
    private readonly observer?: BusObserver,
  ) {
    this.store = createStore((event) => this.deliver(event));
  }

  /** Fire-and-forget: the event is delivered (here and, with Redis, on every instance) in publication order. */
  publish(event: ChangeEvent): void {
    this.store.append(event);
  }

  /**
   * A subscriber's stream of events of `type` that it accepts. With `after`, it
   * first replays the retained history after that cursor; if events after it
   * are no longer retained the stream ends with HISTORY_LOST.
   */
  subscribe<K extends EventType>(
    type: K,
    accept: (event: WithCursor<ChangeEventByType[K]>) => boolean,
    after?: string | null,
  ): BoundedQueueIterator<WithCursor<ChangeEventByType[K]>> {
    type T = WithCursor<ChangeEventByType[K]>;
    const set = this.listeners[type] as unknown as Set<Listener<T>>;
    const listener: Listener<T> = {
      accept,
      last: null,
      buffer: after ? [] : null,
      iterator: new BoundedQueueIterator<T>(this.queueLimit, () => this.overflowError(), () => set.delete(listener)),
    };
    // Live first, then history: whatever is published while the history is read is buffered.
    set.add(listener);
    if (after) void this.replay<T>(type, listener, after);
    return listener.iterator;
  }

  /** Number of live subscriptions, for metrics and leak tests. */
  get subscriberCount(): number {
    return this.listeners.Job.size + this.listeners.Pipeline.size + this.listeners.Runner.size;
  }

  close(): Promise<void> {
    return this.store.close();
  }

  private async replay<T extends Cursored>(type: EventType, listener: Listener<T>, after: string): Promise<void> {
    listener.last = after;
    // Page by page, each fed at the reader's pace (a long history neither overflows the queue
    // nor sits in memory); live events keep going to the buffer until history and buffer are through.
    for (let cursor: string | null = after; cursor !== null; ) {
      let read;
      try {
        read = await this.store.readAfter(type, cursor, this.historyPageSize);
      } catch (error) {
        listener.iterator.end(
          gatewayError(ErrorCode.HistoryUnavailable, 'Subscription ended: the event history could not be read. Retry later, or refetch and subscribe without `after`.', {
            originalError: error instanceof Error ? error : undefined,
          }),
        );
        return;
      }
      if (!read.ok) {
        listener.iterator.end(
          read.reason === 'invalid'
            ? gatewayError(ErrorCode.BadUserInput, '`after` is not a cursor given by this gateway.')
            : gatewayError(ErrorCode.HistoryLost, `History lost: ${read.detail}. Refetch the current state, then subscribe again without \`after\`.`),
        );
        return;
      }
      if (listener.iterator.closed) return;
      for (const event of read.events) {
        if (!(await this.room(listener))) return;
        this.offer(listener, event as unknown as T);
      }
      cursor = read.next;
    }
    const buffer = listener.buffer ?? [];
    while (buffer.length > 0) {
      if (!(await this.room(listener))) return;
      this.offer(listener, buffer.shift()!);
    }
    listener.buffer = null;
  }

  /** Waits (only if needed) until the listener's queue can take an event; false when the subscriber is gone. */
  private room<T extends Cursored>(listener: Listener<T>): boolean | Promise<boolean> {
    const { iterator } = listener;
    if (!iterator.full) return !iterator.closed;
    return (async () => {
      while (iterator.full && !iterator.closed) await iterator.waitForSpace();
      return !iterator.closed;
    })();
  }

  private deliver(event: WithCursor<ChangeEvent>): void {
    // Received (webhook, poll) to here: the store's append included (a Redis round trip when shared).
    this.observer?.delivered(Date.now() - Date.parse(event.receivedAt));
    const set = this.listeners[event.type] as unknown as Set<Listener<WithCursor<ChangeEvent>>>;
    for (const listener of set) {
      if (listener.buffer) {
        listener.buffer.push(event);
        if (listener.buffer.length > this.queueLimit) listener.iterator.end(this.overflowError());
        continue;
      }
      this.offer(listener, event);
    }
  }

  private offer<T extends Cursored>(listener: Listener<T>, event: T): void {
    if (listener.last !== null && compareCursors(event.cursor, listener.last) <= 0) return;
    listener.last = event.cursor;
    let accepted = false;
    try {
      accepted = listener.accept(event);
    } catch {
      accepted = false;
    }
    if (accepted) listener.iterator.push(event);
  }

  /** Built when a subscriber's queue overflows: counted here, once per ended subscription. */
  private overflowError(): GraphQLError {
    this.observer?.overflow('event-bus');
    return gatewayError(ErrorCode.SubscriptionOverflow, `Subscription ended: more than ${this.queueLimit} events were waiting for this client. Refetch and subscribe again.`, {
      extensions: { limit: this.queueLimit },
    });
  }
}
