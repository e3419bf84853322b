/** Thrown by HashingGate.run when its queue is full. */
export class HashingBusyError extends Error {
  constructor() {
    super('too many key verifications in progress');
  }
}

/**
 * At most `maxConcurrent` scrypt computations at a time, at most `maxQueued`
 * waiting. scrypt runs on libuv's threadpool (4 threads by default), which the
 * audit file's writes and DNS share: without a cap, a flood of bogus keys fills
 * it and every other request waits behind it. Past the queue bound new work is
 * refused at once rather than queued for seconds.
 */
export class HashingGate {
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(readonly maxConcurrent: number, readonly maxQueued: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.maxConcurrent) {
      if (this.#waiting.length >= this.maxQueued) throw new HashingBusyError();
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    this.#active++;
    try {
      return await task();
    } finally {
      this.#active--;
      this.#waiting.shift()?.();
    }
  }
}
