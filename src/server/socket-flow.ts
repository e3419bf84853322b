import type { WebSocket } from 'ws';

/** The most a socket's peer may have unread: frames and bytes. */
export interface FlowWindow {
  readonly frames: number;
  readonly bytes: number;
}

interface Mark {
  readonly payload: string;
  readonly frames: number;
  readonly bytes: number;
}

const MARK_PREFIX = 'sy:';
const flows = new WeakMap<WebSocket, SocketFlow>();

/**
 * One pong listener for every socket (not a closure per socket: an idle
 * subscriber's memory is mostly what is allocated per connection).
 */
function onPong(this: WebSocket, data: Buffer): void {
  flows.get(this)?.answered(data);
}

/**
 * What a WebSocket's peer has not read yet, kernel buffers included.
 *
 * Node cannot see (or shrink) the kernel's send and receive buffers, which on
 * loopback absorb several MB: counting only what waits in user space let a
 * paused client receive 7.8 MiB before it was cut, or never be cut when its
 * events were small. So the peer itself is asked: every eighth of the window
 * a WebSocket ping carrying a mark follows the frames. A client answers a
 * ping (RFC 6455; browsers and `ws` do it unasked) only once it has read
 * everything sent before it, so the pong of a mark proves those frames were
 * read. Frames written since the last answered mark are unread.
 *
 * Every frame must be counted: the gateway's writers send through `send`, or
 * report what they wrote with `sent` (graphql-ws's own messages).
 */
export class SocketFlow {
  private sentFrames = 0;
  private sentBytes = 0;
  private readFrames = 0;
  private readBytes = 0;
  private markedFrames = 0;
  private markedBytes = 0;
  private nextMark = 0;
  /** Marks sent and not yet answered, oldest first (allocated with the first mark). */
  private marks: Mark[] | null = null;
  /** Callers of whenOpen; null while nobody waits (most sockets never do). */
  private waiters: (() => void)[] | null = null;
  private readonly markEveryFrames: number;
  private readonly markEveryBytes: number;

  private constructor(
    private readonly ws: WebSocket,
    private readonly window: FlowWindow,
  ) {
    this.markEveryFrames = Math.max(1, Math.floor(window.frames / 8));
    this.markEveryBytes = Math.max(1, Math.floor(window.bytes / 8));
    ws.on('pong', onPong);
  }

  /** The socket's flow, created on first use. */
  static of(ws: WebSocket, window: FlowWindow): SocketFlow {
    let flow = flows.get(ws);
    if (!flow) {
      flow = new SocketFlow(ws, window);
      flows.set(ws, flow);
    }
    return flow;
  }

  get unreadFrames(): number {
    return this.sentFrames - this.readFrames;
  }

  get unreadBytes(): number {
    return this.sentBytes - this.readBytes;
  }

  /** True while a mark is unanswered: the peer has not confirmed everything it was asked about. */
  get awaitingPeer(): boolean {
    return this.marks !== null && this.marks.length > 0;
  }

  /** True while the peer's unread frames and bytes are within the window. */
  get open(): boolean {
    return this.unreadFrames < this.window.frames && this.unreadBytes < this.window.bytes;
  }

  /** Resolves once the window is open again, or the socket closed. */
  whenOpen(): Promise<void> {
    if (this.open || this.ws.readyState > 1) return Promise.resolve();
    if (!this.waiters) {
      this.waiters = [];
      // Only a socket someone waits on needs to hear of its close.
      this.ws.once('close', () => this.wake());
    }
    const waiters = this.waiters;
    return new Promise((resolve) => waiters.push(resolve));
  }

  /** Writes one frame to the socket and counts it. */
  send(data: string): void {
    this.ws.send(data);
    this.sent(data.length);
  }

  /** Counts a frame written to the socket by someone else. */
  sent(bytes: number): void {
    this.sentFrames++;
    this.sentBytes += bytes;
    if (this.sentFrames - this.markedFrames >= this.markEveryFrames || this.sentBytes - this.markedBytes >= this.markEveryBytes) this.mark();
  }

  private mark(): void {
    if (this.ws.readyState !== 1) return;
    const mark = { payload: `${MARK_PREFIX}${this.nextMark++}`, frames: this.sentFrames, bytes: this.sentBytes };
    this.markedFrames = mark.frames;
    this.markedBytes = mark.bytes;
    (this.marks ??= []).push(mark);
    this.ws.ping(mark.payload);
  }

  /** A pong arrived (onPong). */
  answered(data: Buffer): void {
    if (!this.marks) return;
    const payload = data.toString();
    if (!payload.startsWith(MARK_PREFIX)) return;
    const at = this.marks.findIndex((m) => m.payload === payload);
    if (at < 0) return;
    // Pongs come in order: this mark and every earlier one are read.
    const mark = this.marks[at]!;
    this.marks.splice(0, at + 1);
    this.readFrames = mark.frames;
    this.readBytes = mark.bytes;
    if (this.open) this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    if (!waiters || waiters.length === 0) return;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * A subscription's results, pulled from `source` only while the peer's window
 * is open: a solo subscription (a resume, say) never has more than the window
 * unread, and what waits beyond it stays in the subscription's own bounded
 * queue, which ends it with SUBSCRIPTION_OVERFLOW when full.
 */
export function pacedByPeer<T>(source: AsyncIterableIterator<T>, flow: SocketFlow): AsyncIterableIterator<T> {
  return {
    async next() {
      await flow.whenOpen();
      return source.next();
    },
    return: () => source.return?.() ?? Promise.resolve({ value: undefined, done: true }),
    throw: (error?: unknown) => source.throw?.(error) ?? Promise.reject(error),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
