import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SseFrameSocket } from '../../src/server/sse-frame-socket.ts';
import { waitFor } from '../helpers/stack.ts';

/** A loopback SSE exchange: the server's response (head not yet sent) and the client's response once it is. */
async function exchange() {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const served = once(server, 'request') as Promise<[IncomingMessage, ServerResponse]>;
  const req = request(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { headers: { accept: 'text/event-stream' } });
  req.end();
  const [, res] = await served;
  const answered = once(req, 'response') as Promise<[IncomingMessage]>;
  return { server, res, answered: answered.then(([r]) => r) };
}

let servers: Server[] = [];
afterEach(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  servers = [];
});

describe('SseFrameSocket', () => {
  it('holds frames written before the response head and sends them right behind it, in order', async () => {
    const x = await exchange();
    servers.push(x.server);
    const socket = new SseFrameSocket(x.res);
    socket.send('event: next\ndata: 1\n\n');
    socket.send('event: next\ndata: 2\n\n');
    expect(x.res.headersSent).toBe(false);
    expect(socket.unreadFrames).toBe(2);
    expect(socket.awaitingPeer).toBe(true);
    // The head comes later, as yoga sends it after the subscription was returned.
    await new Promise((r) => setTimeout(r, 20));
    x.res.writeHead(200, { 'content-type': 'text/event-stream' });
    const client = await x.answered;
    client.setEncoding('utf8');
    let text = '';
    client.on('data', (c: string) => (text += c));
    await waitFor(() => text.includes('data: 2'), 2000, 'the held frames');
    expect(text).toBe('event: next\ndata: 1\n\nevent: next\ndata: 2\n\n');
  });

  it('counts as unread what a paused client leaves in the response buffer, and nothing once it read everything', async () => {
    const x = await exchange();
    servers.push(x.server);
    x.res.writeHead(200, { 'content-type': 'text/event-stream' });
    x.res.flushHeaders();
    const client = await x.answered;
    client.pause();
    client.socket.pause();
    const socket = new SseFrameSocket(x.res);
    const frame = `event: next\ndata: ${'x'.padEnd(64 * 1024, 'x')}\n\n`;
    // Until the kernel's buffers are full, everything leaves user space at once.
    let frames = 0;
    while (x.res.writableLength < 4 * frame.length && frames < 2000) {
      socket.send(frame);
      frames++;
    }
    expect(x.res.writableLength).toBeGreaterThanOrEqual(4 * frame.length);
    expect(socket.awaitingPeer).toBe(true);
    expect(socket.unreadBytes).toBe(x.res.writableLength);
    // The frames whose bytes are still buffered, give or take the one partly handed to the kernel.
    expect(socket.unreadFrames).toBeGreaterThanOrEqual(Math.floor(x.res.writableLength / frame.length));
    expect(socket.unreadFrames).toBeLessThanOrEqual(Math.ceil(x.res.writableLength / frame.length) + 1);

    client.resume();
    client.socket.resume();
    await once(x.res, 'drain');
    await waitFor(() => x.res.writableLength === 0, 5000, 'the buffer to empty');
    expect(socket.unreadFrames).toBe(0);
    expect(socket.awaitingPeer).toBe(false);
  });
});
