import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { pacedByPeer, SocketFlow } from '../../src/server/socket-flow.ts';
import { waitFor } from '../helpers/stack.ts';

/** A loopback WebSocket pair: the server side (with its flow) and a real `ws` client. */
async function pair(window = { frames: 16, bytes: 1 << 20 }) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(wss, 'listening');
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  const [server] = (await once(wss, 'connection')) as [WebSocket];
  await once(client, 'open');
  const received: string[] = [];
  client.on('message', (data) => received.push(String(data)));
  const tcp = (client as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  return { wss, client, server, flow: SocketFlow.of(server, window), received, tcp };
}

let open: Awaited<ReturnType<typeof pair>>[] = [];
afterEach(() => {
  for (const p of open) {
    p.client.terminate();
    p.wss.close();
  }
  open = [];
});

describe('SocketFlow', () => {
  it('counts frames as read only once the peer answered a later mark', async () => {
    const p = await pair();
    open.push(p);
    p.tcp.pause();
    for (let i = 0; i < 20; i++) p.flow.send(`frame-${i}`);
    expect(p.flow.unreadFrames).toBe(20);
    expect(p.flow.awaitingPeer).toBe(true);
    expect(p.flow.open).toBe(false);
    let opened = false;
    void p.flow.whenOpen().then(() => (opened = true));
    p.tcp.resume();
    await waitFor(() => p.received.length === 20 && opened, 3000, 'the peer to read and answer');
    // Marks go every 2 frames (a window of 16): all 20 are confirmed.
    expect(p.flow.unreadFrames).toBe(0);
    expect(p.flow.awaitingPeer).toBe(false);
  });

  it('pulls a solo subscription only while the peer keeps its window', async () => {
    const p = await pair({ frames: 16, bytes: 1 << 20 });
    open.push(p);
    let pulled = 0;
    const source: AsyncIterableIterator<number> = {
      next: async () => ({ value: pulled++, done: false }),
      return: async () => ({ value: undefined, done: true }),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    const paced = pacedByPeer(source, p.flow);
    p.tcp.pause();
    const pump = (async () => {
      for (;;) {
        const next = await paced.next();
        if (next.done || p.server.readyState !== 1) return;
        p.flow.send(`n-${next.value}`);
      }
    })();
    // Barrier: the pump is parked once the window is full, and stays parked while the peer does not read.
    await waitFor(() => !p.flow.open, 3000, 'the window to fill');
    const parkedAt = pulled;
    await new Promise((r) => setImmediate(r));
    expect(pulled).toBe(parkedAt);
    expect(p.flow.unreadFrames).toBe(16);
    p.tcp.resume();
    await waitFor(() => p.received.length >= 100, 5000, 'the pump to go on as the peer reads');
    p.server.close();
    await pump;
  });
});
