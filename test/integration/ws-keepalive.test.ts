/**
 * WebSocket keep-alive: live peers stay, a peer that stops answering pings is
 * terminated within two intervals and its subscriptions are released.
 */
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';

// Long enough that a live client in this busy test process always answers in time.
const INTERVAL_MS = 500;
const QUERY = 'subscription { jobUpdated { job { name } } }';

describe('WebSocket keep-alive', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ sim: { repositories: ['api'], history: 1 }, config: { server: { port: 0, host: '127.0.0.1', keepAliveSeconds: INTERVAL_MS / 1000 } } });
  });
  afterAll(() => stack.close());

  it('keeps answering peers and reaps one that stopped answering pings', async () => {
    const url = `${stack.base.replace('http', 'ws')}/graphql`;
    const live = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0 });
    const liveClosed: unknown[] = [];
    live.on('closed', (e) => liveClosed.push(e));
    let livePings = 0;
    live.on('opened', (socket) => (socket as WebSocket).on('ping', () => livePings++));
    live.subscribe({ query: QUERY }, { next: () => undefined, error: () => undefined, complete: () => undefined });

    // A raw peer that subscribes, then stops reading: its pongs never come.
    const dead = new WebSocket(url, 'graphql-transport-ws');
    await new Promise<void>((resolve) => {
      dead.on('open', () => dead.send('{"type":"connection_init"}'));
      dead.on('message', (raw: Buffer) => {
        if ((JSON.parse(raw.toString()) as { type: string }).type !== 'connection_ack') return;
        dead.send(JSON.stringify({ id: 'd', type: 'subscribe', payload: { query: QUERY } }));
        resolve();
      });
    });
    await waitFor(() => stack.gateway.subscriptionCount === 2, 5000, 'both subscriptions');
    const startedAt = Date.now();
    (dead as unknown as { _socket: { pause(): void } })._socket.pause();

    await waitFor(() => stack.gateway.subscriptionCount === 1, 5000, 'the dead peer to be reaped');
    const reapedAfter = Date.now() - startedAt;
    // Pinged at the next tick, terminated at the one after: within about two intervals.
    expect(reapedAfter).toBeLessThan(INTERVAL_MS * 2 + 1500);

    // The live client answered every ping meanwhile and is still subscribed. Barrier: pings, not
    // a clock. Each heartbeat tick terminates a socket whose last ping is unanswered and pings
    // the others (heartbeat.ts), so a 4th further ping to the live client proves it passed 3 checks.
    const pingsAtReap = livePings;
    await waitFor(() => livePings >= pingsAtReap + 4 || liveClosed.length > 0, INTERVAL_MS * 12, 'four more pings to the live client');
    expect(liveClosed).toEqual([]);
    expect(stack.gateway.subscriptionCount).toBe(1);
    await live.dispose();
    dead.terminate();
  }, 20_000);
});
