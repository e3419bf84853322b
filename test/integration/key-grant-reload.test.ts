import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { readSse } from '../helpers/sse.ts';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';
import { openRawSocket } from '../helpers/raw-ws.ts';

const JOBS = 'subscription { jobUpdated { job { name project { fullName } } } }';

describe('a key whose grant is changed by a reload (SIGHUP)', () => {
  let stack: Stack;
  const keys: Record<string, string> = {};
  const apiKeys: { id: string; hash: string; scopes: unknown[] }[] = [];

  beforeAll(async () => {
    for (const id of ['narrowed', 'steady']) {
      const k = await createApiKey(id);
      keys[id] = k.key;
      apiKeys.push({ id, hash: k.hash, scopes: [{ backends: ['*'] }] });
    }
    stack = await startStack({ sim: { repositories: ['api', 'web'], history: 1 }, config: { auth: { mode: 'required', apiKeys } } });
  });
  afterAll(() => stack.close());

  const wsSubscription = async (key: string) => {
    const c = await openRawSocket(`${stack.base.replace('http', 'ws')}/graphql`);
    await c.init({ authorization: `Bearer ${key}` });
    c.send({ id: 'jobs', type: 'subscribe', payload: { query: JOBS } });
    return c;
  };

  it('should end its live WebSocket and SSE streams (4403), and leave other keys streaming', async () => {
    const narrowedWs = await wsSubscription(keys.narrowed!);
    const steadyWs = await wsSubscription(keys.steady!);
    const narrowedSse = readSse(`${stack.base}/graphql`, JOBS, undefined, { authorization: `Bearer ${keys.narrowed}` });
    const steadySse = readSse(`${stack.base}/graphql`, JOBS, undefined, { authorization: `Bearer ${keys.steady}` });
    await waitFor(() => stack.gateway.subscriptionCount === 4, 5000, 'four subscriptions');

    // Same key, same hash: only the scopes shrink to one project. A reloaded but unchanged key is rebuilt too (new objects).
    await stack.gateway.reloadApiKeys(apiKeys.map((k) => ({ ...k, scopes: k.id === 'narrowed' ? [{ backends: ['gh'], projects: ['octo-org/api'] }] : [{ backends: ['*'] }] })) as never);
    await narrowedWs.waitFor(() => narrowedWs.closed !== null, 3000);
    expect(narrowedWs.closed!.code).toBe(4403);
    await narrowedSse.done;
    await waitFor(() => stack.gateway.subscriptionCount === 2, 5000, 'the narrowed key\'s streams to end');

    // Sentinel: an event after the reload still reaches the unchanged key on both transports.
    await stack.sim.triggerRun({ repo: 'web', jobs: [{ name: 'after-reload', labels: ['self-hosted'] }] });
    await steadyWs.waitFor(() => steadyWs.messages.some((m) => m.type === 'next' && JSON.stringify(m).includes('after-reload')));
    await steadySse.until((items) => JSON.stringify(items).includes('after-reload'));
    expect(steadyWs.closed).toBeNull();
    await stack.sim.runUntilIdle();
    steadyWs.ws.close(1000);

    // A new connection of the narrowed key gets the new grant.
    const again = await wsSubscription(keys.narrowed!);
    expect(again.closed).toBeNull();
    again.ws.close(1000);
  });
});
