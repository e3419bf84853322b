import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';
import { openRawSocket } from '../helpers/raw-ws.ts';

/** graphql-transport-ws close codes, plus normal closure and going away: nothing else may end a socket. */
const PROTOCOL_CLOSE_CODES = new Set([1000, 1001, 4400, 4401, 4403, 4406, 4408, 4409, 4429]);
const LIVE = 'subscription { runnerUpdated { runner { name } } }';
const BOGUS_KEY = `sy_nobody_${'A'.repeat(43)}`;

describe('graphql-transport-ws protocol errors', () => {
  let stack: Stack;
  let url: string;
  beforeAll(async () => {
    stack = await startStack({ sim: { repositories: ['api'], history: 1 }, config: { auth: { mode: 'open', failureLimit: { maxFailures: 100_000 } } } });
    url = `${stack.base.replace('http', 'ws')}/graphql`;
  });
  afterAll(() => stack.close());

  const closeCodeAfter = async (frames: unknown[], init = true) => {
    const c = await openRawSocket(url);
    if (init) await c.init();
    for (const f of frames) c.send(f);
    return (await c.closing).code;
  };

  it('should close a client-sent connection_ack, next or error with 4400, not 4500', async () => {
    expect(await closeCodeAfter([{ type: 'connection_ack' }])).toBe(4400);
    expect(await closeCodeAfter([{ type: 'next', id: '1', payload: { data: null } }])).toBe(4400);
    expect(await closeCodeAfter([{ type: 'error', id: '1', payload: [{ message: 'x' }] }])).toBe(4400);
    expect(await closeCodeAfter([{ type: 'connection_ack' }], false)).toBe(4400);
  });

  it('should use the exact protocol code for each mistake', async () => {
    expect(await closeCodeAfter([{ id: 'x', type: 'subscribe', payload: { query: '{ backends { name } }' } }], false)).toBe(4401);
    expect(await closeCodeAfter([{ type: 'connection_init', payload: { authorization: `Bearer ${BOGUS_KEY}` } }], false)).toBe(4403);
    expect(await closeCodeAfter([{ type: 'connection_init', payload: {} }])).toBe(4429);
    const live = { id: 'a', type: 'subscribe', payload: { query: LIVE } };
    expect(await closeCodeAfter([live, live])).toBe(4409);
    const noSubprotocol = await openRawSocket(url, null);
    expect((await noSubprotocol.closing).code).toBe(4406);
    // No connection_init at all: graphql-ws's 3 s initialisation timeout.
    const silent = await openRawSocket(url);
    expect((await silent.closing).code).toBe(4408);
    await waitFor(() => stack.gateway.connectionSlots === 0 && stack.gateway.subscriptionCount === 0, 5000, 'slots and subscriptions back to zero');
  });

  it('should survive a fuzz of invalid frames with protocol close codes only, slots and subscriptions back to zero', async () => {
    const type = fc.constantFrom('connection_init', 'connection_ack', 'ping', 'pong', 'subscribe', 'next', 'error', 'complete', 'nope', '');
    const id = fc.constantFrom('a', 'b', '', 1, null);
    const frame = fc.oneof(
      { weight: 12, arbitrary: fc.constantFrom<unknown>(
        { type: 'connection_ack' },
        { type: 'next', id: 'a', payload: { data: null } },
        { type: 'error', id: 'a', payload: [{ message: 'x' }] },
        { type: 'connection_init', payload: {} },
        { type: 'connection_init', payload: { authorization: `Bearer ${BOGUS_KEY}` } },
        { type: 'ping' },
        { type: 'pong' },
        { type: 'complete', id: 'a' },
        { type: 'subscribe', id: 'a', payload: { query: LIVE } },
        { type: 'subscribe', id: 'b', payload: { query: '{ backends { name } }' } },
        { type: 'subscribe', id: 'b', payload: { query: '{ nope' } },
        'not json', 'null', '[]', '{}', '"text"',
      ) },
      { weight: 1, arbitrary: fc.record({ type, id, payload: fc.jsonValue() }, { requiredKeys: ['type'] }) },
      { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
      { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    );
    const codes = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(frame, { minLength: 20, maxLength: 20 }), async (init, frames) => {
        const c = await openRawSocket(url);
        if (init) c.send({ type: 'connection_init', payload: {} });
        // One frame at a time, each followed by a ping: its pong (or the close) shows the frame was handled,
        // so a later frame cannot pre-empt the close code an earlier one causes.
        for (const [seq, f] of frames.entries()) {
          if (c.closed) break;
          c.send(f);
          c.send({ type: 'ping', payload: { seq } });
          await c.waitFor(() => c.closed !== null || c.messages.some((m) => m.type === 'pong' && (m.payload as { seq?: number } | undefined)?.seq === seq));
        }
        if (!c.closed) c.ws.close(1000);
        const { code } = await c.closing;
        codes.set(code, (codes.get(code) ?? 0) + 1);
        expect(PROTOCOL_CLOSE_CODES.has(code), `close code ${code} after ${JSON.stringify(frames)}`).toBe(true);
      }),
      { numRuns: 200 },
    );
    console.info(`ws fuzz close codes: ${JSON.stringify(Object.fromEntries(codes))}`);
    await waitFor(() => stack.gateway.connectionSlots === 0 && stack.gateway.subscriptionCount === 0, 5000, 'slots and subscriptions back to zero');
    // The gateway still serves.
    const c = await openRawSocket(url);
    await c.init();
    c.ws.close(1000);
  });
});
