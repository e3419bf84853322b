interface Flight<T> {
  readonly promise: Promise<T>;
  readonly controller: AbortController;
  /** Readers waiting that may still give up (a reader without a signal never does). */
  waiting: number;
  pinned: boolean;
}

/**
 * Identical requests in flight at once share one (single flight), and
 * cancellation stays each reader's own: a reader whose signal aborts stops
 * waiting at once, and the shared request is aborted only when every reader
 * waiting for it has given up (then a later reader starts a fresh one).
 */
export class SharedRequests<T> {
  private readonly flights = new Map<string, Flight<T>>();

  join(key: string, start: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const flight = this.flights.get(key) ?? this.begin(key, start);
    if (!signal) {
      flight.pinned = true;
      return flight.promise;
    }
    flight.waiting++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        reject(signal.reason);
        if (--flight.waiting === 0 && !flight.pinned) {
          if (this.flights.get(key) === flight) this.flights.delete(key);
          flight.controller.abort(signal.reason);
        }
      };
      signal.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
        (error: unknown) => (signal.removeEventListener('abort', onAbort), reject(error)),
      );
    });
  }

  private begin(key: string, start: (signal: AbortSignal) => Promise<T>): Flight<T> {
    const controller = new AbortController();
    const flight: Flight<T> = { controller, waiting: 0, pinned: false, promise: Promise.resolve(undefined as T) };
    const promise = start(controller.signal).finally(() => {
      if (this.flights.get(key) === flight) this.flights.delete(key);
    });
    Object.assign(flight, { promise });
    this.flights.set(key, flight);
    return flight;
  }
}
