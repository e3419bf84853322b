import type { ChangeEvent } from '../events/event-types.ts';

/**
 * Matches the event store's reports (EventStoreHooks.appended) to the events
 * the Ingestor published, so a caller can wait until its changes are stored,
 * e.g. a webhook route that must not acknowledge what it could not publish.
 */
export class PublishConfirmations {
  private readonly pending = new Map<ChangeEvent, { resolve: () => void; reject: (error: Error) => void }>();

  /** Call before publishing `event`: a store may report synchronously. */
  expect(event: ChangeEvent): Promise<void> {
    return new Promise((resolve, reject) => this.pending.set(event, { resolve, reject }));
  }

  /** The store's report; events nobody waits for are ignored. */
  readonly settle = (event: ChangeEvent, error: Error | null): void => {
    const waiter = this.pending.get(event);
    if (!waiter) return;
    this.pending.delete(event);
    if (error) waiter.reject(error);
    else waiter.resolve();
  };

  /** Events published and not yet reported: for leak checks. */
  get size(): number {
    return this.pending.size;
  }
}
