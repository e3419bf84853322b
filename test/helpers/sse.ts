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
