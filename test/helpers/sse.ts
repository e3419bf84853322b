import { createParser } from 'eventsource-parser';

/**
 * A GraphQL-over-SSE subscription with fetch (distinct-connections mode): each
 * `next` event's data is collected until `until` is satisfied.
 */
export function readSse(url: string, query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const items: unknown[] = [];
  let notify: () => void = () => undefined;
  const done = (async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
      body: JSON.stringify({ query, variables }),
      signal: controller.signal,
    });
    if (!res.ok || !res.body) throw new Error(`SSE request failed: ${res.status}`);
    const parser = createParser({
      onEvent(event) {
        if ((event.event ?? 'message') === 'next' || event.event === undefined) {
          items.push(JSON.parse(event.data));
          notify();
        }
      },
    });
    const decoder = new TextDecoder();
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
  })().catch((error: unknown) => {
    if ((error as Error).name !== 'AbortError') throw error;
  });
  return {
    items,
    done,
    async until(predicate: (items: unknown[]) => boolean, timeoutMs = 10_000): Promise<unknown[]> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(items)) {
        if (Date.now() > deadline) {
          controller.abort();
          throw new Error(`SSE: timed out with ${items.length} events: ${JSON.stringify(items).slice(0, 1000)}`);
        }
        await new Promise<void>((resolve) => {
          notify = resolve;
          setTimeout(resolve, 50);
        });
      }
      controller.abort();
      return items;
    },
  };
}

/** One `next` event of an SSE stream: its `id:` line (undefined without one) and its parsed data. */
export interface SseEvent {
  readonly id: string | undefined;
  readonly data: { data?: unknown; errors?: unknown[] };
}

export interface SseStreamOptions {
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  /** GET puts the operation in the URL, as a browser EventSource does; POST sends it as JSON. */
  readonly method?: 'GET' | 'POST';
  /** Sent as the `Last-Event-ID` header, as EventSource does when it reconnects. */
  readonly lastEventId?: string;
  readonly headers?: Record<string, string>;
}

/**
 * A GraphQL-over-SSE subscription (distinct-connections mode) that keeps each
 * event's `id:` line; `close()` drops the connection as a network failure would.
 */
export function openSseStream(url: string, options: SseStreamOptions) {
  const controller = new AbortController();
  const events: SseEvent[] = [];
  let completed = false;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of waiters) w();
  };
  const method = options.method ?? 'POST';
  const target = new URL(url);
  if (method === 'GET') {
    target.searchParams.set('query', options.query);
    if (options.variables) target.searchParams.set('variables', JSON.stringify(options.variables));
  }
  const headers: Record<string, string> = {
    accept: 'text/event-stream',
    ...(method === 'POST' ? { 'content-type': 'application/json' } : { 'x-switchyard-client': 'test' }),
    ...(options.lastEventId !== undefined ? { 'last-event-id': options.lastEventId } : {}),
    ...options.headers,
  };
  const done = (async () => {
    const res = await fetch(target, {
      method,
      headers,
      ...(method === 'POST' ? { body: JSON.stringify({ query: options.query, variables: options.variables }) } : {}),
      signal: controller.signal,
    });
    if (!res.ok || !res.body) throw new Error(`SSE request failed: ${res.status} ${await res.text()}`);
    const parser = createParser({
      onEvent(event) {
        if (event.event === 'complete') completed = true;
        else if ((event.event ?? 'next') === 'next') events.push({ id: event.id, data: JSON.parse(event.data) as SseEvent['data'] });
        wake();
      },
    });
    const decoder = new TextDecoder();
    const reader = res.body.getReader();
    for (;;) {
      const { done: ended, value } = await reader.read();
      if (ended) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
    completed = true;
    wake();
  })().catch((error: unknown) => {
    if ((error as Error).name !== 'AbortError') throw error;
  });
  return {
    events,
    done,
    get completed() {
      return completed;
    },
    close: () => controller.abort(),
    /** Resolves once `predicate` holds for the events so far; rejects on timeout. */
    async until(predicate: (events: SseEvent[]) => boolean, timeoutMs = 10_000): Promise<SseEvent[]> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(events)) {
        if (Date.now() > deadline) throw new Error(`SSE: timed out with ${events.length} events: ${JSON.stringify(events).slice(0, 1500)}`);
        await new Promise<void>((resolve) => {
          const waiter = () => {
            waiters.delete(waiter);
            resolve();
          };
          waiters.add(waiter);
          setTimeout(waiter, 100);
        });
      }
      return events;
    },
  };
}
