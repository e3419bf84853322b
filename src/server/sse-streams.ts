import type { ServerResponse } from 'node:http';
import type { Plugin } from 'graphql-yoga';

/**
 * Open SSE streams, as a yoga plugin that sees every response: on shutdown
 * they are ended so their clients reconnect elsewhere (and resume).
 */
export function createSseStreams() {
  const streams = new Set<ServerResponse>();
  const plugin: Plugin = {
    onResponse({ response, serverContext }) {
      if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) return;
      const res = (serverContext as { res?: ServerResponse } | undefined)?.res;
      if (!res || res.writableEnded) return;
      streams.add(res);
      res.once('close', () => streams.delete(res));
    },
  };
  return {
    plugin,
    get size(): number {
      return streams.size;
    },
    endAll(): void {
      for (const res of streams) res.end();
    },
  };
}
