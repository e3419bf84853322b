import { CloseCode, createClient, type Client } from 'graphql-ws';
import { ErrorCode, WsCloseCode } from '../../error-codes.ts';

const GRAPHQL = '/graphql';
const KEY_ITEM = 'switchyard.apiKey';

/** The gateway refused the credential (HTTP 401/403, WebSocket 4401/4403). */
export class CredentialRefused extends Error {}

/** The browser session's API key: sessionStorage only, gone when the tab closes. */
export const apiKey = {
  get: (): string | null => sessionStorage.getItem(KEY_ITEM),
  set: (key: string) => sessionStorage.setItem(KEY_ITEM, key),
  clear: () => sessionStorage.removeItem(KEY_ITEM),
};

interface GraphQLError { message: string; extensions?: { code?: string } }

/** One transport pair to the gateway, both carrying the same key. */
export class GatewayApi {
  private readonly ws: Client;

  constructor(private readonly key: string | null, onLink: (up: boolean) => void) {
    this.ws = createClient({
      url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${GRAPHQL}`,
      // connection_init carries the key (a browser WebSocket cannot set headers).
      connectionParams: () => (key ? { authorization: `Bearer ${key}` } : {}),
      lazy: true,
      // Retries are ours (resume below): each one resubscribes with the latest cursor.
      retryAttempts: 0,
      keepAlive: 10_000,
      on: { connected: () => onLink(true), closed: () => onLink(false) },
    });
  }

  async query<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
    if (this.key) headers['authorization'] = `Bearer ${this.key}`;
    const res = await fetch(GRAPHQL, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    const body = (await res.json().catch(() => ({}))) as { data?: T | null; errors?: GraphQLError[] };
    const message = body.errors?.map((e) => e.message).join('; ') || `HTTP ${res.status}`;
    if (res.status === 401 || res.status === 403) throw new CredentialRefused(message);
    if (!body.data) throw new Error(message);
    return body.data;
  }

  /**
   * A subscription that survives network drops: it resubscribes with `after` = the last event's
   * cursor, so the gateway replays what was missed. HISTORY_LOST, or a retry before any event
   * gave a cursor, calls `lost` (read the current state again) and starts afresh.
   */
  resume<T>(spec: {
    query: string;
    variables: (after: string | null) => Record<string, unknown>;
    cursorOf: (data: T) => string | null;
    next: (data: T) => void;
    lost?: () => void;
    refused: (message: string) => void;
  }): () => void {
    let after: string | null = null;
    let stop: (() => void) | null = null;
    let stopped = false;
    let delay = 250;
    const retry = () => {
      if (stopped) return;
      // No event yet, so no cursor to resume from: what happened meanwhile is read afresh.
      setTimeout(() => {
        if (after === null) spec.lost?.();
        start();
      }, delay);
      delay = Math.min(delay * 2, 2000);
    };
    const start = () => {
      if (stopped) return;
      stop = this.ws.subscribe<T>({ query: spec.query, variables: spec.variables(after) }, {
        next: ({ data }) => {
          if (!data) return;
          delay = 250;
          after = spec.cursorOf(data) ?? after;
          spec.next(data);
        },
        error: (error) => {
          // The gateway no longer holds events after the cursor: the retry starts afresh (lost, below).
          if (Array.isArray(error) && error.some((e: GraphQLError) => e.extensions?.code === ErrorCode.HistoryLost)) {
            after = null;
          }
          const code = (error as { code?: number }).code;
          if (code === CloseCode.Unauthorized || code === WsCloseCode.Forbidden) return spec.refused((error as { reason?: string }).reason || 'the gateway refused the API key');
          retry();
        },
        complete: retry,
      });
    };
    start();
    return () => {
      stopped = true;
      stop?.();
    };
  }

  close(): void {
    // dispose() awaits the last connection attempt, which rejects when the gateway refused it.
    Promise.resolve(this.ws.dispose()).catch(() => undefined);
  }
}
