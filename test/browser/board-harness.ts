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
  const events = new PipelineEvents(ws);
  await events.started;
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
    nextPipelineEvent: (match) => events.next(match),
    async close() {
      events.stop();
      await ws.dispose();
      await demo.close();
    },
  };
}

type Seen = { pipeline: { id: string; status: string } };

/**
 * The test's own watch on the gateway's pipeline events: one subscription for the whole run,
 * resubscribed when the gateway sheds it under load (the machine is shared), so an event is
 * never missed between an action and the wait for its outcome.
 */
class PipelineEvents {
  private waiters: { match: (e: Seen) => boolean; resolve: () => void }[] = [];
  private stopSubscription: (() => void) | null = null;
  private stopped = false;
  readonly started: Promise<void>;

  constructor(private readonly ws: Client) {
    this.started = new Promise((resolve) => this.subscribe(resolve));
  }

  private subscribe(onFirst: () => void): void {
    if (this.stopped) return;
    this.stopSubscription = this.ws.subscribe<{ pipelineUpdated: Seen }>(
      { query: 'subscription { pipelineUpdated { pipeline { id status } } }' },
      {
        next: ({ data }) => {
          onFirst();
          if (!data) return;
          const ready = this.waiters.filter((w) => w.match(data.pipelineUpdated));
          this.waiters = this.waiters.filter((w) => !ready.includes(w));
          for (const w of ready) w.resolve();
        },
        // Refused while the gateway sheds load: subscribe again shortly (the demo's events keep coming).
        error: () => void setTimeout(() => this.subscribe(onFirst), 500),
        complete: () => undefined,
      },
    );
  }

  /** Registered before the action that causes it, so it cannot be missed. */
  next(match: (e: Seen) => boolean): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  stop(): void {
    this.stopped = true;
    this.stopSubscription?.();
  }
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

/** Bytes on the wire for one URL with one Accept-Encoding (the body as sent, not decoded). */
async function wireBytes(url: string, encoding: string): Promise<{ bytes: number; headers: Headers }> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    request(url, { headers: { 'accept-encoding': encoding, accept: 'text/html' } }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => void (bytes += chunk.length));
      res.on('end', () => resolve({ bytes, headers: new Headers(res.headers as Record<string, string>) }));
      res.on('error', reject);
    }).on('error', reject).end();
  });
}

export interface PageWeight { raw: number; gzip: number; br: number; assets: string[] }

/** A page and the same-origin scripts, style sheets and icon it links, as this gateway serves them. */
export async function pageWeight(origin: string, path: string): Promise<PageWeight> {
  const html = await (await fetch(`${origin}${path}`, { headers: { accept: 'text/html' } })).text();
  const assets = [...html.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1]!);
  const urls = [`${origin}${path}`, ...assets.map((a) => `${origin}${a}`)];
  const total = async (encoding: string) => (await Promise.all(urls.map((u) => wireBytes(u, encoding)))).reduce((sum, r) => sum + r.bytes, 0);
  return { raw: await total('identity'), gzip: await total('gzip'), br: await total('br'), assets };
}
