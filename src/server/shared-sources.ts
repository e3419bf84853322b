import type { ExecutionResult } from 'graphql';

/**
 * Shared event sources for multiplexed subscriptions. Subscriptions with the
 * same scope, root field and root arguments listen to the same events, so they
 * share ONE source (one bus subscription: one filter and scope pass per event)
 * whatever they select. Each distinct selection under it (a multiplexer group)
 * has a feed: per event the feed executes its own selection with the event as
 * root value, which is what graphql-js `subscribe` does for each source event
 * (mapSourceToResponse), once per selection instead of once per subscriber.
 */

/** Executes one selection for one source event (graphql `execute` with rootValue = event). */
export type ExecuteEvent = (event: unknown) => ExecutionResult | Promise<ExecutionResult>;

/** Opens the source stream (graphql `createSourceEventStream`): events, or a result (errors) instead. */
export type OpenSource = () => Promise<AsyncIterable<unknown> | ExecutionResult>;

export class SharedSources {
  private readonly sources = new Map<string, Promise<SharedSource | ExecutionResult>>();

  /** Sources currently open: each holds one bus subscription. */
  get size(): number {
    return this.sources.size;
  }

  /**
   * A feed of `execute` results for each event of the source under `key`,
   * opening the source with `open` if it is not open yet; or the result of a
   * source that could not open (its errors).
   */
  async feed(key: string, open: OpenSource, execute: ExecuteEvent): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    let pending = this.sources.get(key);
    if (!pending) {
      pending = this.open(key, open);
      this.sources.set(key, pending);
    }
    const source = await pending;
    if (!(source instanceof SharedSource)) return source;
    if (source.closed) return this.feed(key, open, execute);
    return source.attach(execute);
  }

  private async open(key: string, open: OpenSource): Promise<SharedSource | ExecutionResult> {
    let stream: AsyncIterable<unknown> | ExecutionResult;
    try {
      stream = await open();
    } catch (error) {
      this.sources.delete(key);
      throw error;
    }
    if (!(Symbol.asyncIterator in stream)) {
      this.sources.delete(key);
      return stream;
    }
    return new SharedSource(stream[Symbol.asyncIterator](), () => this.sources.delete(key));
  }
}

/**
 * Results a feed may hold unread (executions still resolving, for resolvers
 * that wait on loaders) before the source stops reading events for it: the
 * bus's own bounded queue then fills and ends the source as it ended a group
 * that fell behind, instead of memory growing.
 */
const MAX_UNREAD = 64;

class SharedSource {
  private readonly feeds = new Set<SelectionFeed>();
  private pumping = false;
  closed = false;

  constructor(
    private readonly events: AsyncIterator<unknown>,
    private readonly onClose: () => void,
  ) {}

  attach(execute: ExecuteEvent): SelectionFeed {
    const feed = new SelectionFeed(execute, (f) => this.detach(f));
    this.feeds.add(feed);
    // Read from the first feed on: events buffered before it are its own (none is dropped for lack of a reader).
    if (!this.pumping) {
      this.pumping = true;
      void this.pump();
    }
    return feed;
  }

  private detach(feed: SelectionFeed): void {
    if (this.feeds.delete(feed) && this.feeds.size === 0) this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    void this.events.return?.();
  }

  private async pump(): Promise<void> {
    let end: { error: unknown } = { error: null };
    try {
      for (;;) {
        const next = await this.events.next();
        if (next.done || this.closed) break;
        for (const feed of this.feeds) feed.push(next.value);
        for (const feed of this.feeds) if (feed.unread >= MAX_UNREAD) await feed.readBelow(MAX_UNREAD);
      }
    } catch (error) {
      end = { error };
    }
    this.close();
    for (const feed of [...this.feeds]) feed.finish(end.error);
  }
}

/**
 * One selection's stream over a shared source: an async iterator of execution
 * results, one per source event, executed as the event arrives (so the
 * executions of an event run back to back for every selection, in order).
 * It is what the group's envelop `subscribe` returns, so yoga's result hooks
 * (error masking, metrics, suggestions) see each result as they would see
 * graphql-js's mapped stream.
 */
class SelectionFeed implements AsyncIterableIterator<ExecutionResult> {
  /** Results not read yet (a settled or pending execution each). */
  private readonly ready: Promise<IteratorResult<ExecutionResult>>[] = [];
  private waiting: ((step: Promise<IteratorResult<ExecutionResult>>) => void) | null = null;
  private ended: Promise<IteratorResult<ExecutionResult>> | null = null;
  private onRead: (() => void) | null = null;

  constructor(
    private readonly execute: ExecuteEvent,
    private readonly detach: (feed: SelectionFeed) => void,
  ) {}

  push(event: unknown): void {
    if (this.ended) return;
    this.deliver(this.step(event));
  }

  /** The source ended (error null) or failed. */
  finish(error: unknown): void {
    if (this.ended) return;
    this.ended = error === null ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(error);
    // Rejections are read by next(); unread ones must not count as unhandled.
    this.ended.catch(() => undefined);
    this.deliver(this.ended);
  }

  get unread(): number {
    return this.ready.length;
  }

  /** Resolves once fewer than `count` results are unread, or the feed ended. */
  readBelow(count: number): Promise<void> {
    return new Promise((resolve) => {
      this.onRead = () => {
        if (this.ready.length >= count && !this.ended) return;
        this.onRead = null;
        resolve();
      };
    });
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    const step = this.ready.shift();
    this.onRead?.();
    if (step) return step;
    if (this.ended) return this.ended;
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    this.ended ??= Promise.resolve({ value: undefined, done: true });
    this.ready.length = 0;
    this.onRead?.();
    this.detach(this);
    this.deliver(this.ended);
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private deliver(step: Promise<IteratorResult<ExecutionResult>>): void {
    const waiting = this.waiting;
    if (!waiting) {
      if (step !== this.ended) this.ready.push(step);
      return;
    }
    this.waiting = null;
    waiting(step);
  }

  private step(event: unknown): Promise<IteratorResult<ExecutionResult>> {
    let step: Promise<IteratorResult<ExecutionResult>>;
    try {
      const result = this.execute(event);
      step = result instanceof Promise ? result.then((value) => ({ value, done: false })) : Promise.resolve({ value: result, done: false });
    } catch (error) {
      step = Promise.reject(error);
    }
    // A failure is read by next() (and ends the group); one not read yet is not unhandled.
    step.catch(() => undefined);
    return step;
  }
}
