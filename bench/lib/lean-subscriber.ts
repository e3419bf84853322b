/**
 * One graphql-ws subscriber without the library: the graphql-transport-ws
 * protocol spoken directly over `ws` (connection_init, connection_ack,
 * subscribe, next/error, ping/pong), one JSON.parse per message and nothing
 * else, so one load core can receive more than the gateway sends.
 */
import WebSocket from 'ws';

export interface LeanHandlers<T> {
  /** The `data` of each `next` message. */
  next: (data: T | null | undefined) => void;
  error: (error: unknown) => void;
  /** The subscription was sent (after connection_ack). */
  connected: () => void;
}

type ServerMessage = { type: string; payload?: unknown };

export function subscribeLean<T>(url: string, query: string, variables: Record<string, unknown> | undefined, on: LeanHandlers<T>): { dispose(): void } {
  const ws = new WebSocket(url, 'graphql-transport-ws');
  ws.on('open', () => ws.send('{"type":"connection_init"}'));
  ws.on('message', (raw: Buffer) => {
    const message = JSON.parse(raw.toString()) as ServerMessage;
    switch (message.type) {
      case 'next':
        on.next((message.payload as { data?: T | null }).data);
        break;
      case 'connection_ack':
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
        on.connected();
        break;
      case 'ping':
        ws.send('{"type":"pong"}');
        break;
      case 'error':
        on.error(message.payload);
        break;
    }
  });
  ws.on('error', on.error);
  ws.on('close', (code, reason) => code !== 1000 && on.error({ code, reason: reason.toString() }));
  return { dispose: () => ws.close(1000) };
}
