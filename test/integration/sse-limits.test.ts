import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';
import { openRawSocket } from '../helpers/raw-ws.ts';

const LIMIT = 3;
const RUNNERS = 'subscription { runnerUpdated { runner { name } } }';

describe('per-identity connection limit over SSE', () => {
  let stack: Stack;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    const apiKeys = [];
    for (const id of ['busy', 'other']) {
      const k = await createApiKey(id);
      keys[id] = k.key;
      apiKeys.push({ id, hash: k.hash, scopes: [{ backends: ['*'] }] });
    }
    stack = await startStack({ sim: { repositories: ['api'], history: 1 }, config: { limits: { maxConnectionsPerIdentity: LIMIT }, auth: { mode: 'required', apiKeys } } });
  });
  afterAll(() => stack.close());

  /** Opens an SSE subscription; `res` is the response (its body stays open until abort). */
  const openSse = async (key: string) => {
    const controller = new AbortController();
    const res = await fetch(`${stack.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: RUNNERS }),
      signal: controller.signal,
    });
    return { res, close: () => controller.abort() };
  };

  it('should refuse SSE streams past the identity\'s limit (429), share the limit with WebSockets, and free slots on close', async () => {
    const streams = [];
    for (let i = 0; i < LIMIT; i++) streams.push(await openSse(keys.busy!));
    expect(streams.map((s) => s.res.status)).toEqual([200, 200, 200]);
    await waitFor(() => stack.gateway.subscriptionCount === LIMIT, 5000, 'the SSE subscriptions');

    const refused = await openSse(keys.busy!);
    expect(refused.res.status).toBe(429);
    expect(JSON.stringify(await refused.res.json())).toContain('CONNECTION_LIMIT');
    // The same slots count WebSocket connections.
    const ws = await openRawSocket(`${stack.base.replace('http', 'ws')}/graphql`);
    ws.send({ type: 'connection_init', payload: { authorization: `Bearer ${keys.busy}` } });
    expect((await ws.closing).code).toBe(4429);
    // Another identity is not affected.
    const other = await openSse(keys.other!);
    expect(other.res.status).toBe(200);

    // Closing one stream frees its slot.
    streams.pop()!.close();
    await waitFor(() => stack.gateway.connectionSlots === LIMIT, 5000, 'the closed stream\'s slot');
    const again = await openSse(keys.busy!);
    expect(again.res.status).toBe(200);

    for (const s of [...streams, other, again]) s.close();
    await waitFor(() => stack.gateway.connectionSlots === 0 && stack.gateway.subscriptionCount === 0, 5000, 'every slot and subscription released');
  });
});
