import { GraphQLError, parse, type ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { FULL_ACCESS } from '../../src/context.ts';
import { compileScope } from '../../src/auth/scope.ts';
import { multiplexKey } from '../../src/server/multiplex-key.ts';
import { graphqlWsNextFrame, SubscriptionMultiplexer, type FrameSocket } from '../../src/server/subscription-multiplexer.ts';

/** A socket that records frames; a `stalled` peer leaves them unread and owes an answer. */
class FakeSocket implements FrameSocket {
  readyState = 1;
  frames: string[] = [];
  stalled = false;
  unreadFrames = 0;
  unreadBytes = 0;
  get awaitingPeer(): boolean {
    return this.unreadFrames > 0;
  }
  cork?: () => void;
  uncork?: () => void;
  send(data: string): void {
    this.frames.push(data);
    if (this.stalled) {
      this.unreadFrames++;
      this.unreadBytes += data.length;
    }
  }
  payloads(): unknown[] {
    return this.frames.map((f) => (JSON.parse(f) as { payload: unknown }).payload);
  }
}

/** A source stream the test pushes results into, counting how often it is read. */
function source() {
  const queue: ExecutionResult[] = [];
  let wake: (() => void) | null = null;
  let ended: unknown = undefined;
  let returned = 0;
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      while (queue.length === 0 && ended === undefined) await new Promise<void>((r) => (wake = r));
      if (queue.length > 0) return { value: queue.shift()!, done: false };
      if (ended instanceof Error) throw ended;
      return { value: undefined, done: true };
    },
    async return() {
      returned++;
      ended = null;
      wake?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return {
    iterator,
    push(result: ExecutionResult) {
      queue.push(result);
      wake?.();
    },
    fail(error: Error) {
      ended = error;
      wake?.();
    },
    get returned() {
      return returned;
    },
  };
}

/** Lets the group execute what was pushed and flush its batch (on the next turn of the event loop). */
const tick = async () => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
};
const always = () => true;

describe('SubscriptionMultiplexer', () => {
  it('starts one subscription per group and writes each result, serialized once, to every member', async () => {
    const mux = new SubscriptionMultiplexer({ queueLimit: 10, queueBytes: 1 << 20 });
    const s = source();
    let starts = 0;
    const start = async () => {
      starts++;
      return s.iterator;
    };
    const sockets = Array.from({ length: 5 }, () => new FakeSocket());
    await Promise.all(sockets.map((socket, i) => mux.join('k', start, { frame: graphqlWsNextFrame(`op-${i}`), socket, stillValid: always })));
    expect(starts).toBe(1);
    expect(mux.size).toEqual({ groups: 1, members: 5 });

    const result = { data: { jobUpdated: { job: { name: 'build' } } } };
    let stringified = 0;
    const toJSON = () => {
      stringified++;
      return result.data;
    };
    s.push({ data: { toJSON } } as unknown as ExecutionResult);
    await tick();
    expect(stringified).toBe(1);
    sockets.forEach((socket, i) => {
      expect(socket.frames).toHaveLength(1);
      expect(JSON.parse(socket.frames[0]!)).toEqual({ id: `op-${i}`, type: 'next', payload: { data: result.data } });
    });
  });

  it('ends only a member that stops reading (by frames or bytes) with SUBSCRIPTION_OVERFLOW', async () => {
    const mux = new SubscriptionMultiplexer({ queueLimit: 3, queueBytes: 1 << 20 });
    const s = source();
    const slow = new FakeSocket();
    const fast = new FakeSocket();
    slow.stalled = true;
    const slowStream = (await mux.join('k', async () => s.iterator, { frame: graphqlWsNextFrame('slow'), socket: slow, stillValid: always })) as AsyncIterableIterator<ExecutionResult>;
    await mux.join('k', async () => s.iterator, { frame: graphqlWsNextFrame('fast'), socket: fast, stillValid: always });
    const told = slowStream.next().catch((e: unknown) => e);
    for (let i = 0; i < 10; i++) {
      s.push({ data: { n: i } });
      await tick();
    }
    expect(fast.payloads()).toEqual(Array.from({ length: 10 }, (_, i) => ({ data: { n: i } })));
    expect(slow.frames).toHaveLength(3);
    expect(await told).toMatchObject({ extensions: { code: 'SUBSCRIPTION_OVERFLOW' } });
    expect(mux.size).toEqual({ groups: 1, members: 1 });

    // Bytes: a member whose unsent bytes exceed the bound is ended at the next event.
    const bytes = new SubscriptionMultiplexer({ queueLimit: 1000, queueBytes: 100 });
    const t = source();
    const big = new FakeSocket();
    big.stalled = true;
    const bigStream = (await bytes.join('k', async () => t.iterator, { frame: graphqlWsNextFrame('big'), socket: big, stillValid: always })) as AsyncIterableIterator<ExecutionResult>;
    const bigTold = bigStream.next().catch((e: unknown) => e);
    t.push({ data: { text: 'x'.repeat(150) } });
    await tick();
    t.push({ data: { text: 'y' } });
    await tick();
    expect(big.frames).toHaveLength(1);
    expect(await bigTold).toMatchObject({ extensions: { code: 'SUBSCRIPTION_OVERFLOW' } });
  });

  it('counts frames only while they wait: a reader that keeps up is never ended', async () => {
    const mux = new SubscriptionMultiplexer({ queueLimit: 2, queueBytes: 1 << 20 });
    const s = source();
    const socket = new FakeSocket();
    await mux.join('k', async () => s.iterator, { frame: graphqlWsNextFrame('a'), socket, stillValid: always });
    for (let i = 0; i < 50; i++) {
      s.push({ data: { n: i } });
      if (i % 5 === 0) await tick();
    }
    await tick();
    expect(socket.payloads()).toEqual(Array.from({ length: 50 }, (_, i) => ({ data: { n: i } })));
  });

  it('lets a client that confirmed everything take one burst beyond the bound, then holds it to the bound', async () => {
    const mux = new SubscriptionMultiplexer({ queueLimit: 3, queueBytes: 1 << 20 });
    const s = source();
    const socket = new FakeSocket();
    socket.stalled = true;
    const stream = (await mux.join('k', async () => s.iterator, { frame: graphqlWsNextFrame('a'), socket, stillValid: always })) as AsyncIterableIterator<ExecutionResult>;
    const told = stream.next().catch((e: unknown) => e);
    // Five events executed back to back: one batch, written although it exceeds 3.
    for (let i = 0; i < 5; i++) s.push({ data: { n: i } });
    await tick();
    expect(socket.frames).toHaveLength(5);
    // The client now owes an answer and is over the bound: the next event ends it.
    s.push({ data: { n: 5 } });
    await tick();
    expect(socket.frames).toHaveLength(5);
    expect(await told).toMatchObject({ extensions: { code: 'SUBSCRIPTION_OVERFLOW' } });
  });

  it('writes events executed back to back as one corked batch per socket, in order', async () => {
    const mux = new SubscriptionMultiplexer({ queueLimit: 100, queueBytes: 1 << 20 });
    const s = source();
    const calls: string[] = [];
    const socket = new FakeSocket();
    socket.cork = () => calls.push('cork');
    socket.uncork = () => calls.push('uncork');
    const send = socket.send.bind(socket);
    socket.send = (data) => {
      calls.push('send');
      send(data);
    };
    await mux.join('k', async () => s.iterator, { frame: graphqlWsNextFrame('a'), socket, stillValid: always });
    for (let i = 0; i < 3; i++) s.push({ data: { n: i } });
    await tick();
    s.push({ data: { n: 3 } });
    await tick();
    expect(calls).toEqual(['cork', 'send', 'send', 'send', 'uncork', 'send']);
    expect(socket.payloads()).toEqual([0, 1, 2, 3].map((n) => ({ data: { n } })));
  });

  it('gives a member that joins mid-batch only what is executed after it joined', async () => {
    const mux = new SubscriptionMultiplexer({ queueLimit: 100, queueBytes: 1 << 20 });
    const s = source();
    const early = new FakeSocket();
    await mux.join('k', async () => s.iterator, { frame: graphqlWsNextFrame('early'), socket: early, stillValid: always });
    s.push({ data: { n: 0 } });
    await Promise.resolve();
    await Promise.resolve();
    const late = new FakeSocket();
    await mux.join('k', async () => s.iterator, { frame: graphqlWsNextFrame('late'), socket: late, stillValid: always });
    s.push({ data: { n: 1 } });
    await tick();
    expect(early.payloads()).toEqual([{ data: { n: 0 } }, { data: { n: 1 } }]);
    expect(late.payloads()).toEqual([{ data: { n: 1 } }]);
  });

  it('delivers nothing to a member whose credentials stopped being valid, and ends it', async () => {
    let clock = 0;
    const mux = new SubscriptionMultiplexer({ queueLimit: 10, queueBytes: 1 << 20, now: () => clock });
    const s = source();
    const expiring = new FakeSocket();
    const other = new FakeSocket();
    const stream = (await mux.join('k', async () => s.iterator, { frame: graphqlWsNextFrame('e'), socket: expiring, stillValid: (now) => now < 100 })) as AsyncIterableIterator<ExecutionResult>;
    await mux.join('k', async () => s.iterator, { frame: graphqlWsNextFrame('o'), socket: other, stillValid: always });
    const ended = stream.next().catch((e: unknown) => e);
    s.push({ data: { n: 1 } });
    await tick();
    clock = 100;
    s.push({ data: { n: 2 } });
    await tick();
    expect(expiring.payloads()).toEqual([{ data: { n: 1 } }]);
    expect(other.payloads()).toEqual([{ data: { n: 1 } }, { data: { n: 2 } }]);
    expect(await ended).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('releases the group when its last member leaves, and starts a fresh one for the next', async () => {
    const mux = new SubscriptionMultiplexer({ queueLimit: 10, queueBytes: 1 << 20 });
    const first = source();
    const a = (await mux.join('k', async () => first.iterator, { frame: graphqlWsNextFrame('a'), socket: new FakeSocket(), stillValid: always })) as AsyncIterableIterator<ExecutionResult>;
    const b = (await mux.join('k', async () => first.iterator, { frame: graphqlWsNextFrame('b'), socket: new FakeSocket(), stillValid: always })) as AsyncIterableIterator<ExecutionResult>;
    await a.return!();
    expect(first.returned).toBe(0);
    await b.return!();
    expect(first.returned).toBe(1);
    expect(mux.size).toEqual({ groups: 0, members: 0 });
    const second = source();
    let started = false;
    await mux.join('k', async () => {
      started = true;
      return second.iterator;
    }, { frame: graphqlWsNextFrame('c'), socket: new FakeSocket(), stillValid: always });
    expect(started).toBe(true);
  });

  it('ends every member with the error when the group stream fails, masking unexpected errors', async () => {
    for (const [error, expected] of [
      [new GraphQLError('History lost', { extensions: { code: 'HISTORY_LOST' } }), { message: 'History lost', extensions: { code: 'HISTORY_LOST' } }],
      [new Error('secret upstream detail http://token@host'), { message: 'Unexpected error.' }],
    ] as const) {
      const mux = new SubscriptionMultiplexer({ queueLimit: 10, queueBytes: 1 << 20 });
      const s = source();
      const streams = await Promise.all(['a', 'b'].map((id) => mux.join('k', async () => s.iterator, { frame: graphqlWsNextFrame(id), socket: new FakeSocket(), stillValid: always }))) as AsyncIterableIterator<ExecutionResult>[];
      const outcomes = streams.map((st) => st.next().then(() => 'completed', (e: GraphQLError) => ({ message: e.message, ...(e.extensions && Object.keys(e.extensions).length ? { extensions: e.extensions } : {}) })));
      s.fail(error);
      expect(await Promise.all(outcomes)).toEqual([expected, expected]);
      expect(mux.size).toEqual({ groups: 0, members: 0 });
    }
  });

  it('filters per member when the group shares one execution across filters', async () => {
    const mux = new SubscriptionMultiplexer({ queueLimit: 100, queueBytes: 1 << 20 });
    const s = source();
    let observe: (event: unknown) => void = () => undefined;
    const start = async (o: (event: unknown) => void) => {
      observe = o;
      return s.iterator;
    };
    const even = new FakeSocket();
    const all = new FakeSocket();
    await mux.join('k', start, { frame: graphqlWsNextFrame('even'), socket: even, stillValid: always, accepts: (e) => (e as { n: number }).n % 2 === 0 });
    await mux.join('k', start, { frame: graphqlWsNextFrame('all'), socket: all, stillValid: always });
    // As graphql-js does: the root resolver sees the event, then the result is yielded.
    const emit = (n: number) => {
      const push = s.push;
      observe({ n });
      push({ data: { n } });
    };
    for (let n = 0; n < 5; n++) {
      emit(n);
      await tick();
    }
    expect(even.payloads()).toEqual([0, 2, 4].map((n) => ({ data: { n } })));
    expect(all.payloads()).toEqual([0, 1, 2, 3, 4].map((n) => ({ data: { n } })));
  });

  it('gives every joiner the start result when the subscription cannot start', async () => {
    const mux = new SubscriptionMultiplexer({ queueLimit: 10, queueBytes: 1 << 20 });
    const failure: ExecutionResult = { errors: [new GraphQLError('bad filter')] };
    const results = await Promise.all([1, 2].map((i) => mux.join('k', async () => failure, { frame: graphqlWsNextFrame(String(i)), socket: new FakeSocket(), stillValid: always })));
    expect(results).toEqual([failure, failure]);
    expect(mux.size).toEqual({ groups: 0, members: 0 });
  });

  it('turns a start that throws into an error result (masked unless a GraphQLError), never a throw', async () => {
    const mux = new SubscriptionMultiplexer({ queueLimit: 10, queueBytes: 1 << 20 });
    const thrown = await mux.join('k', async () => {
      throw new Error('internal detail');
    }, { frame: graphqlWsNextFrame('a'), socket: new FakeSocket(), stillValid: always });
    expect(thrown).toEqual({ errors: [new GraphQLError('Unexpected error.')] });
    const limited = await mux.join('k', async () => {
      throw new GraphQLError('Too many', { extensions: { code: 'RATE_LIMITED' } });
    }, { frame: graphqlWsNextFrame('b'), socket: new FakeSocket(), stillValid: always });
    expect((limited as ExecutionResult).errors?.[0]).toMatchObject({ message: 'Too many', extensions: { code: 'RATE_LIMITED' } });
    expect(mux.size).toEqual({ groups: 0, members: 0 });
  });
});

describe('multiplexKey', () => {
  const key = (source: string, variables: Record<string, unknown> | null = null, scope = FULL_ACCESS as Parameters<typeof multiplexKey>[0]['scope']) =>
    multiplexKey({ document: parse(source), source, operationName: null, variables, scope })?.key ?? null;

  it('groups equal subscriptions by text, variables and scope', () => {
    const op = 'subscription ($f: JobFilter) { jobUpdated(filter: $f) { job { id } } }';
    expect(key(op, { f: { backends: ['a'] } })).toBe(key(op, { f: { backends: ['a'] } }));
    expect(key(op, { f: { backends: ['a'] } })).not.toBe(key(op, { f: { backends: ['b'] } }));
    const a = compileScope({ backends: ['gh'], projects: ['octo-org/*'] });
    const sameAsA = compileScope({ backends: ['gh'], projects: ['octo-org/*'] });
    const b = compileScope({ backends: ['gh'], projects: ['other/*'] });
    expect(key(op, null, a)).toBe(key(op, null, sameAsA));
    expect(key(op, null, a)).not.toBe(key(op, null, b));
    expect(key(op, null, a)).not.toBe(key(op, null, FULL_ACCESS));
  });

  it('shares one key across values of a `filter` variable, and only then', () => {
    const filterable = new Set(['jobUpdated']);
    const plan = (source: string, variables: Record<string, unknown> | null) =>
      multiplexKey({ document: parse(source), source, operationName: null, variables, scope: FULL_ACCESS, filterableFields: filterable });
    const op = 'subscription ($f: JobFilter) { jobUpdated(filter: $f) { job { id } } }';
    const a = plan(op, { f: { backends: ['a'] } });
    expect(a?.memberFilter).toEqual({ field: 'jobUpdated', variable: 'f' });
    expect(a?.key).toBe(plan(op, { f: { backends: ['b'] } })?.key);
    // The variable also used in the selection, a default value, or a field without a known filter: exact variables.
    expect(plan('subscription ($f: JobFilter) { jobUpdated(filter: $f) { job { id } } x: jobUpdated(filter: $f) { cursor } }', { f: {} })?.memberFilter).toBeNull();
    expect(plan('subscription ($f: JobFilter = {}) { jobUpdated(filter: $f) { job { id } } }', { f: {} })?.memberFilter).toBeNull();
    expect(plan('subscription ($f: RunnerFilter) { runnerUpdated(filter: $f) { runner { id } } }', { f: {} })?.memberFilter).toBeNull();
    expect(plan('subscription ($b: String) { jobUpdated(filter: { branch: $b }) { job { id } } }', { b: 'x' })?.key)
      .not.toBe(plan('subscription ($b: String) { jobUpdated(filter: { branch: $b }) { job { id } } }', { b: 'y' })?.key);
  });

  it('groups a filter with projectNames (matched with the live state\'s names) only with equal variables', () => {
    const OP = 'subscription ($f: JobFilter) { jobUpdated(filter: $f) { job { id } } }';
    const plan = (variables: Record<string, unknown>) => multiplexKey({
      document: parse(OP), source: OP, operationName: null, variables, scope: FULL_ACCESS, filterableFields: new Set(['jobUpdated']),
    });
    const named = plan({ f: { projectNames: ['acme/*'] } });
    expect(named?.memberFilter).toBeNull();
    expect(named?.key).toBe(plan({ f: { projectNames: ['acme/*'] } })?.key);
    expect(named?.key).not.toBe(plan({ f: { projectNames: ['acme/**'] } })?.key);
    expect(named?.key).not.toBe(plan({ f: { projectNames: ['acme/*'], statusChanged: true } })?.key);
    expect(named?.key).not.toBe(plan({ f: null })?.key);
    // statusChanged alone is decided on the event: a member filter as any other.
    expect(plan({ f: { statusChanged: true } })?.memberFilter).toEqual({ field: 'jobUpdated', variable: 'f' });
    expect(plan({ f: { projectNames: null } })?.memberFilter).toEqual({ field: 'jobUpdated', variable: 'f' });
  });

  it('runs resumes (`after`), queries and root fragments on their own', () => {
    expect(key('subscription { jobUpdated(after: "c1") { cursor } }')).toBeNull();
    expect(key('subscription ($a: String) { jobUpdated(after: $a) { cursor } }', { a: 'c1' })).toBeNull();
    expect(key('subscription ($a: String = "c1") { jobUpdated(after: $a) { cursor } }')).toBeNull();
    expect(key('subscription ($a: String) { jobUpdated(after: $a) { cursor } }', { a: null })).not.toBeNull();
    expect(key('subscription { jobUpdated(after: null) { cursor } }')).not.toBeNull();
    expect(key('query { backends { name } }')).toBeNull();
    expect(key('subscription { ... on Subscription { jobUpdated { cursor } } }')).toBeNull();
  });
});
