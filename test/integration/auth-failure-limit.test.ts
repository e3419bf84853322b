import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, scryptCounter } from '../../src/auth/api-keys.ts';
import { postFrom } from '../helpers/post-from.ts';
import { openRawSocket } from '../helpers/raw-ws.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

const MAX_FAILURES = 3;
const QUERY = '{ backends { name } }';
const bogus = (i: number) => ({ authorization: `Bearer sy_ci-bot_${String(i).padStart(43, 'x')}` });

describe('failed authentications from one address', () => {
  let stack: Stack;
  let valid: string;
  beforeAll(async () => {
    const k = await createApiKey('ci-bot');
    valid = k.key;
    stack = await startStack({
      sim: { repositories: ['api'], history: 1 },
      config: { auth: { mode: 'required', apiKeys: [{ id: 'ci-bot', hash: k.hash, scopes: [{ backends: ['*'] }] }], failureLimit: { maxFailures: MAX_FAILURES, windowSeconds: 600 } } },
    });
  });
  afterAll(() => stack.close());

  it('should answer the failure past the limit with 429 and Retry-After (WebSocket 4429), while other addresses still authenticate', async () => {
    const url = `${stack.base}/graphql`;
    for (let i = 0; i < MAX_FAILURES; i++) expect((await postFrom('127.0.0.2', url, QUERY, bogus(i))).status).toBe(401);
    const refused = await postFrom('127.0.0.2', url, QUERY, bogus(99));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.parse(refused.body)).toMatchObject({ errors: [{ extensions: { code: 'TOO_MANY_AUTH_FAILURES' } }] });
    // The refused address gets no verification work, not even for a valid key.
    const runs = scryptCounter.runs;
    expect((await postFrom('127.0.0.2', url, QUERY, { authorization: `Bearer ${valid}` })).status).toBe(429);
    const ws = await openRawSocket(`${stack.base.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', { localAddress: '127.0.0.2' });
    ws.send({ type: 'connection_init', payload: { authorization: `Bearer ${valid}` } });
    expect((await ws.closing).code).toBe(4429);
    expect(scryptCounter.runs).toBe(runs);
    // Another address is not affected.
    const ok = await postFrom('127.0.0.1', url, QUERY, { authorization: `Bearer ${valid}` });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ data: { backends: [{ name: 'gh' }] } });
  });

  it('should not run scrypt again for a bogus key it has just refused', async () => {
    const url = `${stack.base}/graphql`;
    expect((await postFrom('127.0.0.3', url, QUERY, bogus(500))).status).toBe(401);
    const runs = scryptCounter.runs;
    expect((await postFrom('127.0.0.3', url, QUERY, bogus(500))).status).toBe(401);
    expect(scryptCounter.runs).toBe(runs);
  });
});
