import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { Connection } from './connection.ts';

/** A failure to report in one line, exit 1 (gateway unreachable, 401, a GraphQL error, an action refused). */
export class CliError extends Error {}

interface GraphqlError {
  readonly message: string;
  readonly extensions?: { readonly code?: unknown };
  readonly path?: readonly unknown[];
}

/** `message [CODE] at path`, plus how many more there were: the whole story in one line. */
export function describeErrors(errors: readonly GraphqlError[], status?: number): string {
  const first = errors[0]!;
  const code = typeof first.extensions?.code === 'string' ? ` [${first.extensions.code}]` : '';
  const at = first.path?.length ? ` at ${first.path.join('.')}` : '';
  const http = status !== undefined && status !== 200 ? ` (HTTP ${status})` : '';
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''})` : '';
  return `${first.message.split('\n')[0]}${code}${at}${http}${more}`;
}

function describeFetchFailure(url: string, error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === CONNECTION_REFUSED) return `cannot reach the gateway at ${url}: connection refused (is it running? set SWITCHYARD_URL)`;
  if ((error as Error).name === 'TimeoutError') return `the gateway at ${url} did not answer in time`;
  return `cannot reach the gateway at ${url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`;
}

/** Node's network error code (errno), not one of the gateway's error codes. */
const CONNECTION_REFUSED = 'ECONNREFUSED';

function describeClose(url: string, event: unknown): string {
  if (Array.isArray(event)) return describeErrors(event as GraphqlError[]);
  if (event instanceof Error) return describeFetchFailure(url, event.message.includes(CONNECTION_REFUSED) ? { cause: { code: CONNECTION_REFUSED } } : event);
  const close = event as { code?: number; reason?: string };
  if (typeof close.code === 'number') return `the gateway closed the subscription: ${close.code}${close.reason ? ` ${close.reason}` : ''}`;
  return `subscription failed: ${JSON.stringify(event)}`;
}

export interface Subscription {
  /** Resolves when the gateway completes the subscription; rejects with a CliError on an error. */
  readonly done: Promise<void>;
  stop(): void;
}

/** A thin client of the public GraphQL API: queries over HTTP POST, subscriptions over graphql-ws. */
export class GatewayClient {
  private ws: Client | undefined;
  private readonly reconnectListeners: (() => void)[] = [];
  private connections = 0;

  constructor(private readonly connection: Connection) {}

  get url(): string {
    return this.connection.graphqlUrl;
  }

  async query<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.connection.graphqlUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...(this.connection.apiKey ? { authorization: `Bearer ${this.connection.apiKey}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (error) {
      throw new CliError(describeFetchFailure(this.connection.graphqlUrl, error));
    }
    const text = await res.text();
    let body: { data?: T | null; errors?: GraphqlError[] };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new CliError(`the gateway answered HTTP ${res.status} with no GraphQL response: ${text.slice(0, 200).replace(/\s+/g, ' ')}`);
    }
    if (body.errors?.length) throw new CliError(describeErrors(body.errors, res.status));
    if (body.data == null) throw new CliError(`the gateway answered HTTP ${res.status} with no data`);
    return body.data;
  }

  /** Called when the WebSocket connects again after a drop: a watcher reads its snapshot again. */
  onReconnected(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }

  private socket(): Client {
    this.ws ??= createClient({
      url: this.connection.graphqlUrl.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: this.connection.apiKey ? { authorization: `Bearer ${this.connection.apiKey}` } : {},
      // A dropped connection is retried a few times (with graphql-ws's backoff); subscriptions are resumed.
      retryAttempts: 5,
      on: { connected: () => (++this.connections > 1 ? this.reconnectListeners.forEach((l) => l()) : undefined) },
    });
    return this.ws;
  }

  subscribe<T>(query: string, variables: Record<string, unknown>, onData: (data: T) => void): Subscription {
    let stop: () => void = () => undefined;
    const done = new Promise<void>((resolve, reject) => {
      stop = this.socket().subscribe<T>({ query, variables }, {
        next: (value) => {
          if (value.errors?.length) reject(new CliError(describeErrors(value.errors as GraphqlError[])));
          else if (value.data) onData(value.data as T);
        },
        error: (error) => reject(new CliError(describeClose(this.connection.graphqlUrl, error))),
        complete: () => resolve(),
      });
    });
    return { done, stop: () => stop() };
  }

  /** Runs a query over the subscription socket, so it is answered after the subscriptions sent before it. */
  async queryOverSocket<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    let result: T | undefined;
    await this.subscribe<T>(query, variables, (data) => (result = data)).done;
    if (result === undefined) throw new CliError('the gateway answered no data');
    return result;
  }

  async close(): Promise<void> {
    await this.ws?.dispose();
  }
}
