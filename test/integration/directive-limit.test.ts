/**
 * The directive limit (50) counts every directive the operation would meet:
 * a fragment spread costs its own directives plus its fragment's, each time it
 * is spread. graphql-armor's rule counted a cached fragment and dropped the
 * directives of repeated spreads, so 51 passed as 27.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.ts';

/** `spreads` spreads carrying one directive each, `plain` without, of a fragment holding one directive. */
function viaSpreads(spreads: number, plain = 0): string {
  const spread = Array.from({ length: spreads }, () => '...F @include(if: true)').join(' ');
  return `query { backends { ${spread} ${'...F '.repeat(plain)} } } fragment F on Backend { name @skip(if: false) }`;
}

const FIFTY = viaSpreads(25);
const FIFTY_ONE = viaSpreads(25, 1);

describe('directive limit through repeated fragment spreads', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ sim: { repositories: ['api'], history: 1 } });
  });
  afterAll(() => stack.close());

  it('should reject 51 directives and accept 50 over HTTP', async () => {
    const rejected = await stack.query(FIFTY_ONE);
    expect(rejected.data).toBeUndefined();
    expect(rejected.errors?.[0]?.message).toMatch(/Directives limit of 50 exceeded/);
    expect(rejected.errors?.[0]?.extensions?.['code']).toBe('DIRECTIVE_LIMIT');
    const accepted = await stack.query(FIFTY);
    expect(accepted.errors).toBeUndefined();
    expect(accepted.data).toEqual({ backends: [{ name: 'gh' }] });
  });

  it('should reject 51 directives and accept 50 over WebSocket, keeping the socket open', async () => {
    const client = stack.wsClient();
    const run = (query: string) =>
      new Promise<{ data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] }>((resolve) => {
        let value: { data?: unknown } = {};
        client.subscribe({ query }, {
          next: (v) => (value = v),
          error: (errors) => resolve({ errors: errors as never }),
          complete: () => resolve(value),
        });
      });
    const rejected = await run(FIFTY_ONE);
    expect(rejected.errors?.[0]?.message).toMatch(/Directives limit of 50 exceeded/);
    expect(rejected.errors?.[0]?.extensions?.['code']).toBe('DIRECTIVE_LIMIT');
    // Same socket: the next operation runs.
    const accepted = await run(FIFTY);
    expect(accepted).toEqual({ data: { backends: [{ name: 'gh' }] } });
  });
});
