import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRawSocket } from '../helpers/raw-ws.ts';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';

describe('operation limits over WebSocket keep the socket open', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ sim: { repositories: ['api'], history: 1 }, config: { limits: { maxSubscriptionsPerConnection: 3, maxDepth: 8 } } });
  });
  afterAll(() => stack.close());

  it('should answer each rejected operation with an error message, never close 4500, and keep serving', async () => {
    const c = await openRawSocket(`${stack.base.replace('http', 'ws')}/graphql`);
    await c.init();
    c.send({ id: 'live', type: 'subscribe', payload: { query: 'subscription { jobUpdated { job { name status } } }' } });
    const deep = 'subscription { jobUpdated { job { pipeline { project { pipelines { nodes { jobs { nodes { pipeline { name } } } } } } } } } }';
    const aliases = `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: backends { name }`).join(' ')} }`;
    const huge = `{ backends { name } } # ${'x'.repeat(20_000)}`;
    const rejected = [
      ['deep', deep],
      ['aliases', aliases],
      ['huge', huge],
      ['syntax', '{ backends { name '],
      ['unknown', '{ nope }'],
    ] as const;
    for (const [id, query] of rejected) c.send({ id, type: 'subscribe', payload: { query } });
    await c.waitFor(() => rejected.every(([id]) => c.messages.some((m) => m.id === id && m.type === 'error')));
    const errorOf = (id: string) => JSON.stringify(c.messages.find((m) => m.id === id && m.type === 'error'));
    expect(errorOf('deep')).toMatch(/depth limit of 8/i);
    expect(errorOf('aliases')).toMatch(/aliases/i);
    expect(errorOf('huge')).toMatch(/over the limit/);
    expect(c.closed).toBeNull();
    // The live subscription still delivers.
    await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'still-alive', labels: ['self-hosted'] }] });
    await c.waitFor(() => c.messages.some((m) => m.id === 'live' && m.type === 'next' && JSON.stringify(m).includes('still-alive')));
    await stack.sim.runUntilIdle();
    c.ws.close();
  });

  it('should refuse operations past the per-connection limit with an error, not a close', async () => {
    const c = await openRawSocket(`${stack.base.replace('http', 'ws')}/graphql`);
    await c.init();
    for (let i = 0; i < 4; i++) c.send({ id: `s${i}`, type: 'subscribe', payload: { query: 'subscription { runnerUpdated { runner { name } } }' } });
    await c.waitFor(() => c.messages.some((m) => m.id === 's3' && m.type === 'error'));
    expect(JSON.stringify(c.messages.find((m) => m.id === 's3'))).toMatch(/SUBSCRIPTION_LIMIT/);
    // Completing one frees a slot. The gateway drops s0's stream and then its slot in one
    // chain of promise callbacks, so once the count has dropped the slot is free too.
    const active = stack.gateway.subscriptionCount;
    c.send({ id: 's0', type: 'complete' });
    await waitFor(() => stack.gateway.subscriptionCount === active - 1, 5000, 's0 to end');
    c.send({ id: 's4', type: 'subscribe', payload: { query: 'subscription { runnerUpdated { runner { name } } }' } });
    // Not "no error after a while" but proof that s4 is live: it receives the next runner change.
    await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'slot-freed', labels: ['self-hosted'] }] });
    await stack.sim.runUntilIdle();
    await c.waitFor(() => c.messages.some((m) => m.id === 's4' && m.type !== 'complete'));
    expect(c.messages.filter((m) => m.id === 's4').map((m) => m.type)).toContain('next');
    expect(c.messages.some((m) => m.id === 's4' && m.type === 'error')).toBe(false);
    expect(c.closed).toBeNull();
    c.ws.close();
  });

  it('should close malformed frames with protocol codes only (4400), never 4500', async () => {
    const codes: number[] = [];
    for (const frame of ['not json', '{"type":"nope"}', '{"type":"subscribe","id":1}', '[]', '{}']) {
      const c = await openRawSocket(`${stack.base.replace('http', 'ws')}/graphql`);
      await c.init();
      c.send(frame);
      await c.waitFor(() => c.closed !== null);
      codes.push(c.closed!.code);
    }
    expect(codes).toEqual([4400, 4400, 4400, 4400, 4400]);
    // A subscribe before connection_init is 4401; the server stays up for others.
    const early = await openRawSocket(`${stack.base.replace('http', 'ws')}/graphql`);
    early.send({ id: 'x', type: 'subscribe', payload: { query: '{ backends { name } }' } });
    await early.waitFor(() => early.closed !== null);
    expect(early.closed!.code).toBe(4401);
    expect((await stack.query<{ backends: unknown[] }>('{ backends { name } }')).data?.backends).toHaveLength(1);
  });
});

describe('connections per identity', () => {
  it('should refuse connections past the per-identity limit with 4429 and accept them again once others close', async () => {
    const stack = await startStack({ sim: { repositories: ['api'], history: 1 }, config: { limits: { maxConnectionsPerIdentity: 2 } } });
    try {
      const url = `${stack.base.replace('http', 'ws')}/graphql`;
      const a = await openRawSocket(url);
      await a.init();
      const b = await openRawSocket(url);
      await b.init();
      const c = await openRawSocket(url);
      c.send({ type: 'connection_init', payload: {} });
      await c.waitFor(() => c.closed !== null);
      expect(c.closed!.code).toBe(4429);
      a.ws.close();
      await a.waitFor(() => a.closed !== null);
      // The server frees a's slot when it sees the close: wait for that, not for a fixed time.
      await waitFor(() => stack.gateway.connectionSlots === 1, 5000, "a's slot to be freed");
      const d = await openRawSocket(url);
      await d.init();
      expect(d.closed).toBeNull();
      b.ws.close();
      d.ws.close();
    } finally {
      await stack.close();
    }
  });
});
