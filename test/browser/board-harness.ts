/**
 * What the board test drives around the browser: the demo gateway (authentication on or off),
 * a recorder of every request the page makes, a switch that drops and holds off the page's
 * WebSockets, and a client of its own that acts on a simulator and watches the gateway's events.
 */
import type { BrowserContext, WebSocketRoute } from 'playwright-core';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { adapterFactories } from '../../src/adapters.ts';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { startDemo, type Demo } from '../../src/demo/start-demo.ts';
import { isLocalUrl } from './chromium.ts';

export interface BoardDemo {
  readonly demo: Demo;
  readonly origin: string;
  /** The API key the board is given (null: authentication off). */
  readonly key: string | null;
  gql<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
  /** Resolves with the first pipeline event the gateway emits that `match` accepts. */
  nextPipelineEvent(match: (e: { pipeline: { id: string; status: string } }) => boolean): Promise<void>;
  close(): Promise<void>;
}

export async function startBoardDemo(auth: boolean): Promise<BoardDemo> {
  const created = auth ? await createApiKey('board') : null;
  const demo = await startDemo({
    factories: adapterFactories, port: 0, host: '127.0.0.1', logLevel: 'silent',
    ...(created ? { auth: { mode: 'required', apiKeys: [{ id: 'board', hash: created.hash, scopes: { backends: ['*'], actions: ['*'] } }] } } : {}),
  });
  const origin = `http://127.0.0.1:${demo.port}`;
  const key = created?.key ?? null;
  const ws: Client = createClient({
    url: `ws://127.0.0.1:${demo.port}/graphql`, webSocketImpl: WebSocket, retryAttempts: 5,
    connectionParams: key ? { authorization: `Bearer ${key}` } : {},
  });
  return {
    demo, origin, key,
    async gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
      const res = await fetch(`${origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: T; errors?: unknown[] };
      if (!body.data || body.errors) throw new Error(`query failed: ${JSON.stringify(body.errors)}`);
      return body.data;
    },
    nextPipelineEvent(match) {
      return new Promise((resolve, reject) => {
        const stop = ws.subscribe<{ pipelineUpdated: { pipeline: { id: string; status: string } } }>(
          { query: 'subscription { pipelineUpdated { pipeline { id status } } }' },
          {
            next: ({ data }) => {
              if (data && match(data.pipelineUpdated)) {
                stop();
                resolve();
              }
            },
            error: reject,
            complete: () => undefined,
          },
        );
      });
    },
    async close() {
      await ws.dispose();
      await demo.close();
    },
  };
}

/** Every request and WebSocket of the page, what left loopback, and the page's sockets to drop. */
export class PageNetwork {
  readonly requests: string[] = [];
  readonly outside: string[] = [];
  /** connection_init payloads and subscribe payloads the page sent, in order. */
  readonly frames: { type: string; payload: unknown }[] = [];
  readonly authorizations: string[] = [];
  private readonly open = new Set<WebSocketRoute>();
  private held = false;

  async attach(context: BrowserContext): Promise<void> {
    await context.route('**/*', async (route) => {
      const request = route.request();
      this.requests.push(request.url());
      if (request.url().endsWith('/graphql')) this.authorizations.push((await request.headerValue('authorization')) ?? '');
      if (isLocalUrl(request.url())) return route.continue();
      this.outside.push(request.url());
      return route.abort('internetdisconnected');
    });
    await context.routeWebSocket(/.*/, (ws) => {
      this.requests.push(ws.url());
      if (!isLocalUrl(ws.url())) {
        this.outside.push(ws.url());
        return void ws.close();
      }
      // Held off: the network is down, every new connection fails at once.
      if (this.held) return void ws.close({ code: 4000, reason: 'network down (test)' });
      const server = ws.connectToServer();
      this.open.add(ws);
      ws.onClose(() => void this.open.delete(ws));
      ws.onMessage((message) => {
        const frame = JSON.parse(String(message)) as { type: string; payload?: unknown };
        this.frames.push({ type: frame.type, payload: frame.payload });
        server.send(message);
      });
    });
  }

  /** Drops every open WebSocket of the page and refuses new ones until restore(). */
  async drop(): Promise<void> {
    this.held = true;
    await Promise.all([...this.open].map((ws) => ws.close({ code: 4000, reason: 'network down (test)' })));
    this.open.clear();
  }

  restore(): void {
    this.held = false;
  }
}
