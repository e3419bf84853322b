/**
 * An async iterator fed by push(), with its own bounded queue. One per
 * subscription, so a subscriber that stops reading affects nobody else: when its
 * queue is full it is ended with `overflowError` (the client can resubscribe)
 * instead of growing memory or throwing inside the publisher (yoga's default
 * pubsub crashes the process there; its shared SlidingBuffer mixes subscribers).
 */
export class BoundedQueueIterator<T> implements AsyncIterableIterator<T> {
  private readonly queue: T[] = [];
  private head = 0;
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private rejectWaiting: ((error: unknown) => void) | null = null;
  private failure: unknown = null;
  private done = false;
  private spaceWaiter: (() => void) | null = null;

  constructor(
    private readonly limit: number,
    private readonly overflowError: () => Error,
    private readonly onClose: () => void,
  ) {}

  /** Returns false when the subscriber has been ended (closed or overflowed). */
  push(value: T): boolean {
    if (this.done || this.failure) return false;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      this.rejectWaiting = null;
      resolve({ value, done: false });
      return true;
    }
    if (this.queue.length - this.head >= this.limit) {
      this.fail(this.overflowError());
      return false;
    }
    this.queue.push(value);
    return true;
  }

  get size(): number {
    return this.queue.length - this.head;
  }

  /** True once the subscriber has been ended (closed, failed or overflowed). */
  get closed(): boolean {
    return this.done || this.failure !== null;
  }

  /** True when push() would overflow. */
  get full(): boolean {
    return this.size >= this.limit;
  }

  /**
   * Resolves when the queue is at most half full, or the subscriber is gone:
   * lets a producer with a backlog (history replay) feed at the reader's pace.
   */
  waitForSpace(): Promise<void> {
    if (this.closed || this.size * 2 <= this.limit) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.spaceWaiter;
      this.spaceWaiter = () => {
        previous?.();
        resolve();
      };
    });
  }

  private wakeProducer(): void {
    const waiter = this.spaceWaiter;
    this.spaceWaiter = null;
    waiter?.();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.queue.length) {
      const value = this.queue[this.head++] as T;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      if (this.spaceWaiter && this.size * 2 <= this.limit) this.wakeProducer();
      return Promise.resolve({ value, done: false });
    }
    if (this.failure) {
      const error = this.failure;
      this.failure = null;
      this.finish();
      return Promise.reject(error);
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.rejectWaiting = reject;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.finish();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Ends the subscriber with an error (e.g. its credentials expired); a waiting next() rejects. */
  end(error: Error): void {
    if (this.done || this.failure) return;
    this.fail(error);
  }

  private fail(error: Error): void {
    // Drop what is buffered: the subscriber is told it fell behind and must refetch.
    this.queue.length = 0;
    this.head = 0;
    this.onClose();
    this.wakeProducer();
    if (this.rejectWaiting) {
      const reject = this.rejectWaiting;
      this.waiting = null;
      this.rejectWaiting = null;
      this.done = true;
      reject(error);
      return;
    }
    this.failure = error;
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.queue.length = 0;
    this.head = 0;
    this.onClose();
    this.wakeProducer();
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      this.rejectWaiting = null;
      resolve({ value: undefined, done: true });
    }
  }
}
