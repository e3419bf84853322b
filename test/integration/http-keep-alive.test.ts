import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.ts';

describe('HTTP keep-alive', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ sim: { repositories: ['api'], history: 1 } });
  });
  afterAll(() => stack.close());

  // Node's default (5 s) is shorter than clients' and load balancers' idle timeouts:
  // a peer reusing a connection the server is closing gets ECONNRESET.
  it('should keep idle connections for server.idleTimeoutSeconds (65 s by default) and say so', async () => {
    const res = await fetch(`${stack.base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    await res.text();
    expect(res.headers.get('keep-alive')).toBe('timeout=65');
  });
});
