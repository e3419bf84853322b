import type { ServerResponse } from 'node:http';
import type { FrameSocket } from './subscription-multiplexer.ts';

const OPEN = 1;
const CLOSED = 3;

/**
 * A multiplexed member's view of its SSE response (node's ServerResponse),
 * written to directly: the group's shared payload in the member's SSE frame.
 *
 * What the client has not read: SSE has no acknowledgement (a WebSocket peer
 * answers ping marks, socket-flow.ts), so the bound counts what is still
 * buffered in user space, `res.writableLength` (node's outgoing buffer plus the
 * TCP socket's), which grows once the kernel's send and receive buffers are
 * full (on loopback up to a few MB: a paused client is ended after those plus
 * the bound). Unread frames are the frames whose last byte has not left that
 * buffer. `awaitingPeer` is true while anything is buffered: a client that
 * took everything may take one batch beyond the bound, as on graphql-ws.
 *
 * yoga writes the response head (its SSE headers, CORS) when it sends the
 * response, which may come after the member joined: frames of that short
 * window wait here and go out right behind the head.
 */
export class SseFrameSocket implements FrameSocket {
  private written = 0;
  /** Cumulative `written` at the end of each frame that may still be buffered, oldest first. */
  private readonly frameEnds: number[] = [];
  private head = 0;
  private early: string[] | null = null;

  constructor(private readonly res: ServerResponse) {}

  get readyState(): number {
    return this.res.destroyed || this.res.writableEnded ? CLOSED : OPEN;
  }

  get unreadBytes(): number {
    return this.res.writableLength + this.earlyBytes();
  }

  get unreadFrames(): number {
    // Bytes that left user space: every frame ending at or before them was handed to the kernel.
    const flushed = this.written - Math.min(this.written, this.res.writableLength);
    while (this.head < this.frameEnds.length && this.frameEnds[this.head]! <= flushed) this.head++;
    if (this.head > 1024 && this.head * 2 > this.frameEnds.length) {
      this.frameEnds.splice(0, this.head);
      this.head = 0;
    }
    return this.frameEnds.length - this.head + (this.early?.length ?? 0);
  }

  get awaitingPeer(): boolean {
    return this.res.writableLength > 0 || this.early !== null;
  }

  send(frame: string): void {
    if (!this.res.headersSent) {
      this.holdUntilHead(frame);
      return;
    }
    this.write(frame);
  }

  cork(): void {
    if (this.res.headersSent) this.res.cork();
  }

  uncork(): void {
    if (this.res.headersSent) this.res.uncork();
  }

  private write(frame: string): void {
    // Nothing buffered: every earlier frame has left (and a client that keeps up never grows this list).
    if (this.res.writableLength === 0) {
      this.frameEnds.length = 0;
      this.head = 0;
    }
    this.res.write(frame);
    // String length, as graphql-ws frames are counted: bytes for the ASCII JSON we send.
    this.written += frame.length;
    this.frameEnds.push(this.written);
  }

  private holdUntilHead(frame: string): void {
    if (this.early) {
      this.early.push(frame);
      return;
    }
    this.early = [frame];
    // yoga sends the head within a few turns after the subscription was returned to it.
    const waitForHead = () => {
      if (this.readyState !== OPEN) {
        this.early = null;
        return;
      }
      if (!this.res.headersSent) {
        setImmediate(waitForHead);
        return;
      }
      const frames = this.early ?? [];
      this.early = null;
      for (const f of frames) this.write(f);
    };
    setImmediate(waitForHead);
  }

  private earlyBytes(): number {
    let bytes = 0;
    for (const f of this.early ?? []) bytes += f.length;
    return bytes;
  }
}
