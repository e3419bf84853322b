import { GraphQLError, type ExecutionResult } from 'graphql';
import { ErrorCode, gatewayError } from '../errors.ts';

/**
 * Subscription multiplexing. Subscribers whose operation, variables and scope
 * are identical form a group that holds ONE subscription on the event bus:
 * each event is executed once and serialized once for the whole group, and the
 * same payload is written to every member's socket inside the member's own
 * frame: a graphql-ws `next` message with its operation id, or an SSE `next`
 * event with the event's `id:` line (sse-multiplex.ts). Only the few bytes
 * around the shared payload are built per member. Groups that differ only in
 * their selection share one event source in turn (shared-sources.ts): one bus
 * listener, each group's selection executed once per event.
 *
 * Writes are batched per turn of the event loop: events that were executed
 * back to back (because they arrived together, or because the gateway is
 * behind) reach each socket in one system call. Idle, a frame leaves on the
 * next turn; under load, batches grow and the per-frame cost falls, which is
 * where one core's fan-out ceiling is (the write system calls).
 *
 * Each member is bounded by what its client has not read yet (frames and
 * bytes, kernel buffers included: see socket-flow.ts), so one client that
 * stops reading is ended with SUBSCRIPTION_OVERFLOW without slowing the group
 * or the others. Credentials
 * are checked per member on every event: a member whose token expired or was
 * revoked receives nothing more.
 */

/** What a member writes to: a `ws` WebSocket (graphql-ws.ts) or an SSE response (sse-frame-socket.ts). */
export interface FrameSocket {
  /** 1 while frames may be written (WebSocket.OPEN). */
  readonly readyState: number;
  /** Frames and bytes written that the peer has not read (as far as the transport can tell: socket-flow.ts, sse-frame-socket.ts). */
  readonly unreadFrames: number;
  readonly unreadBytes: number;
  /** True while the peer owes an answer: a client that caught up may take one burst beyond the bound. */
  readonly awaitingPeer: boolean;
  send(data: string): void;
  /** Hold writes between cork and uncork in user space, so several frames leave in one system call. */
  cork?(): void;
  uncork?(): void;
}

/** Wraps the group's serialized result of `event` in this member's frame (the payload is shared, never re-serialized). */
export type FrameWriter = (payload: string, event: unknown) => string;

/** A graphql-ws `next` message for operation `id`: only the prefix is the member's own. */
export function graphqlWsNextFrame(id: string): FrameWriter {
  const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  return (payload) => prefix + payload + '}';
}

export interface MemberOptions {
  readonly frame: FrameWriter;
  readonly socket: FrameSocket;
  /** False once the member's credentials stopped being valid. */
  readonly stillValid: (now: number) => boolean;
  /** The member's own filter, for groups that share one execution across filters; absent = every event. */
  readonly accepts?: ((event: unknown) => boolean) | undefined;
  /** Told when this member is ended for falling behind, instead of the multiplexer's `onOverflow` (per-transport metrics). */
  readonly onOverflow?: (() => void) | undefined;
}

/** A member's stream, as join() returns it; `end` lets its transport end it too (a credential watcher's push). */
export interface MemberStream extends AsyncIterableIterator<ExecutionResult> {
  /** Ends the member: `error` is its last result (null completes it). */
  end(error: GraphQLError | null): void;
}

export interface MultiplexerOptions {
  /** Frames a member's client may have unread; one more and it is ended. */
  readonly queueLimit: number;
  /** Bytes a member's client may have unread; more and it is ended. */
  readonly queueBytes: number;
  readonly now?: () => number;
  /** Told when a member is ended for falling behind (/metrics). */
  readonly onOverflow?: () => void;
}

/**
 * Starts a group's subscription: a stream of results, or a result (errors) for
 * the subscriber. `observe` must be told each source event as it is executed
 * (before its result is yielded), so members with their own filter can be served.
 */
export type GroupStart = (observe: (event: unknown) => void) => Promise<AsyncIterable<ExecutionResult> | ExecutionResult>;

const OPEN = 1;

export class SubscriptionMultiplexer {
  private readonly groups = new Map<string, Promise<Group | ExecutionResult>>();
  private readonly now: () => number;

  constructor(private readonly options: MultiplexerOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Adds a subscriber to the group for `key`, starting the group's one
   * subscription with `start` if there is none. Returns the member's own stream
   * (for graphql-ws to track; it yields only a final error) or, when the
   * subscription could not start, the result to send instead.
   */
  async join(key: string, start: GroupStart, member: MemberOptions): Promise<MemberStream | ExecutionResult> {
    let pending = this.groups.get(key);
    if (!pending) {
      pending = this.startGroup(key, start);
      this.groups.set(key, pending);
    }
    const group = await pending;
    if (!(group instanceof Group)) return group;
    if (group.closed) return this.join(key, start, member);
    return group.add(member);
  }

  private memberCount = 0;

  /** Groups and members, for metrics and leak tests. */
  get size(): { groups: number; members: number } {
    return { groups: this.groups.size, members: this.memberCount };
  }

  private async startGroup(key: string, start: GroupStart): Promise<Group | ExecutionResult> {
    let stream: AsyncIterable<ExecutionResult> | ExecutionResult;
    // In execution order; each source event yields exactly one result, so results take them in turn.
    const seen: unknown[] = [];
    try {
      stream = await start((event) => {
        seen.push(event);
      });
    } catch (error) {
      // A result, never a throw: graphql-ws would close the whole socket (4500) on a throw.
      this.groups.delete(key);
      return { errors: [error instanceof GraphQLError ? error : new GraphQLError('Unexpected error.')] };
    }
    if (!(Symbol.asyncIterator in stream)) {
      this.groups.delete(key);
      return stream;
    }
    return new Group(stream[Symbol.asyncIterator](), seen, this.options, this.now, {
      joined: () => this.memberCount++,
      left: () => this.memberCount--,
      closed: () => {
        this.groups.delete(key);
      },
    });
  }
}

interface GroupHooks {
  joined(): void;
  left(): void;
  closed(): void;
}

class Group {
  private readonly members = new Set<Member>();
  /** Payloads executed since the last flush, in order, and the events they came from. */
  private batch: string[] = [];
  private batchEvents: unknown[] = [];
  private flushScheduled = false;
  closed = false;

  constructor(
    private readonly source: AsyncIterator<ExecutionResult>,
    /** Source events as the start function observed them executing, not yet matched to a result. */
    private readonly seen: unknown[],
    private readonly options: MultiplexerOptions,
    private readonly now: () => number,
    private readonly hooks: GroupHooks,
  ) {
    void this.pump();
  }

  add(options: MemberOptions): Member {
    const member = new Member(options, (m) => this.remove(m));
    // It receives what is executed from now on, not the batch already waiting.
    member.from = this.batch.length;
    this.members.add(member);
    this.hooks.joined();
    return member;
  }

  private remove(member: Member): void {
    if (!this.members.delete(member)) return;
    this.hooks.left();
    if (this.members.size === 0) this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.hooks.closed();
    void this.source.return?.();
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        const next = await this.source.next();
        if (next.done) break;
        this.broadcast(next.value, this.seen.shift());
      }
      this.endAll(null);
    } catch (error) {
      this.endAll(error instanceof GraphQLError ? error : new GraphQLError('Unexpected error.'));
    }
  }

  /** One serialization per event; per member only the frame around it differs. */
  private broadcast(result: ExecutionResult, event: unknown): void {
    if (this.members.size === 0) return;
    this.batch.push(JSON.stringify(result));
    this.batchEvents.push(event);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.batch;
    const events = this.batchEvents;
    this.batch = [];
    this.batchEvents = [];
    if (batch.length === 0) return;
    const now = this.now();
    const { queueLimit, queueBytes } = this.options;
    for (const member of this.members) {
      const from = member.from;
      member.from = 0;
      const { socket, accepts } = member;
      if (from >= batch.length || socket.readyState !== OPEN) continue;
      // Which of the batch this member wants: all of it, or what its own filter accepts.
      let wanted: number[] | null = null;
      if (accepts) {
        wanted = [];
        for (let i = from; i < batch.length; i++) if (events[i] !== undefined && accepts(events[i])) wanted.push(i);
        if (wanted.length === 0) continue;
      }
      const count = wanted ? wanted.length : batch.length - from;
      if (!member.stillValid(now)) {
        member.end(gatewayError(ErrorCode.Unauthenticated, 'Credentials expired or revoked'));
        continue;
      }
      // The member builds its frames (a few bytes around the shared payload); their length is what the bound counts.
      // One event per flush is the common case when idle: no array for it.
      let single: string | null = null;
      let frames: string[] | null = null;
      let bytes = 0;
      if (count === 1) {
        const i = wanted ? wanted[0]! : from;
        single = member.frame(batch[i]!, events[i]);
        bytes = single.length;
      } else {
        frames = [];
        if (wanted) for (const i of wanted) frames.push(member.frame(batch[i]!, events[i]));
        else for (let i = from; i < batch.length; i++) frames.push(member.frame(batch[i]!, events[i]));
        for (const frame of frames) bytes += frame.length;
      }
      // Past the bound the client is ended rather than written to, so it never has more
      // than the bound unread; only a client that had confirmed everything may take a
      // burst beyond it (a batch is at most the group's own queue, so that stays bounded).
      if (socket.awaitingPeer && (socket.unreadFrames + count > queueLimit || socket.unreadBytes + bytes > queueBytes)) {
        member.end(overflowError(queueLimit, queueBytes));
        if (member.onOverflow) member.onOverflow();
        else this.options.onOverflow?.();
        continue;
      }
      if (single !== null) {
        socket.send(single);
        continue;
      }
      socket.cork?.();
      for (const frame of frames!) socket.send(frame);
      socket.uncork?.();
    }
  }

  private endAll(error: GraphQLError | null): void {
    // What was executed before the end is still delivered, before the end itself.
    this.flush();
    this.close();
    for (const member of [...this.members]) member.end(error);
  }
}

function overflowError(limit: number, bytes: number): GraphQLError {
  return gatewayError(ErrorCode.SubscriptionOverflow, `Subscription ended: more than ${limit} events or ${bytes} bytes would have been unread by this client. Resume from your last cursor, or refetch and subscribe again.`, {
    extensions: { limit, bytes },
  });
}

/**
 * One subscriber in a group, as its transport sees it: an async iterator that
 * yields nothing (frames are written directly) and ends when the client
 * completes, the socket closes, or the group ends it (with an error, which
 * graphql-ws sends as this operation's `error` message and SSE as a last
 * `next` event with errors, then `complete`).
 */
class Member implements MemberStream {
  readonly socket: FrameSocket;
  readonly frame: FrameWriter;
  readonly stillValid: (now: number) => boolean;
  readonly accepts: ((event: unknown) => boolean) | undefined;
  readonly onOverflow: (() => void) | undefined;
  /** Index in the group's pending batch from which this member receives. */
  from = 0;
  private settle: ((result: IteratorResult<ExecutionResult>) => void) | null = null;
  private fail: ((error: unknown) => void) | null = null;
  private outcome: { error: GraphQLError | null } | null = null;

  constructor(options: MemberOptions, private readonly leave: (member: Member) => void) {
    this.socket = options.socket;
    this.stillValid = options.stillValid;
    this.accepts = options.accepts;
    this.onOverflow = options.onOverflow;
    this.frame = options.frame;
  }

  /** Ends this member: `error` is sent as the operation's `error` message, null completes it. */
  end(error: GraphQLError | null): void {
    if (this.outcome) return;
    this.outcome = { error };
    this.leave(this);
    this.flush();
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.outcome) return this.finish();
    return new Promise((resolve, reject) => {
      this.settle = resolve;
      this.fail = reject;
    });
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    const leaving = !this.outcome;
    this.outcome = { error: null };
    if (leaving) this.leave(this);
    this.flush();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private flush(): void {
    if (!this.settle) return;
    const settle = this.settle;
    const fail = this.fail!;
    this.settle = null;
    this.fail = null;
    void this.finish().then(settle, fail);
  }

  private finish(): Promise<IteratorResult<ExecutionResult>> {
    const error = this.outcome?.error ?? null;
    if (this.outcome) this.outcome = { error: null };
    return error ? Promise.reject(error) : Promise.resolve({ value: undefined, done: true });
  }
}
