import { GraphQLError } from 'graphql';
import { ErrorCode } from '../errors.ts';
import { BoundedQueueIterator } from './bounded-queue-iterator.ts';
import type { ChangeEvent, ChangeEventByType } from './event-types.ts';

type EventType = ChangeEvent['type'];

interface Listener<T extends ChangeEvent> {
  readonly accept: (event: T) => boolean;
  readonly iterator: BoundedQueueIterator<T>;
}

/**
 * In-process event bus. Subscribers register a predicate; publish() evaluates
 * it and enqueues into that subscriber's own bounded queue. Publishing never
 * blocks and never throws because of a subscriber.
 */
export class EventBus {
  private readonly listeners: { [K in EventType]: Set<Listener<ChangeEventByType[K]>> } = {
    Job: new Set(),
    Pipeline: new Set(),
    Runner: new Set(),
  };

  constructor(private readonly queueLimit: number) {}

  publish(event: ChangeEvent): void {
    const set = this.listeners[event.type] as Set<Listener<ChangeEvent>>;
    for (const listener of set) {
      let accepted = false;
      try {
        accepted = listener.accept(event);
      } catch {
        accepted = false;
      }
      if (accepted) listener.iterator.push(event);
    }
  }

  subscribe<K extends EventType>(type: K, accept: (event: ChangeEventByType[K]) => boolean): BoundedQueueIterator<ChangeEventByType[K]> {
    const set = this.listeners[type] as Set<Listener<ChangeEventByType[K]>>;
    const listener: Listener<ChangeEventByType[K]> = {
      accept,
      iterator: new BoundedQueueIterator<ChangeEventByType[K]>(
        this.queueLimit,
        () =>
          new GraphQLError(`Subscription ended: more than ${this.queueLimit} events were waiting for this client. Refetch and subscribe again.`, {
            extensions: { code: ErrorCode.SubscriptionOverflow, limit: this.queueLimit },
          }),
        () => set.delete(listener),
      ),
    };
    set.add(listener);
    return listener.iterator;
  }

  /** Number of live subscriptions, for metrics and leak tests. */
  get subscriberCount(): number {
    return this.listeners.Job.size + this.listeners.Pipeline.size + this.listeners.Runner.size;
  }
}
