import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.ts';

/** The GraphQL-over-HTTP audit suite of the graphql-http package against the running gateway. */
describe('GraphQL over HTTP compliance (graphql-http serverAudits)', () => {
  let stack: Stack;
  const results: { name: string; status: string }[] = [];
  beforeAll(async () => {
    stack = await startStack({ sim: { repositories: ['api'], history: 1 } });
  });
  afterAll(async () => {
    const count = (s: string) => results.filter((r) => r.status === s).length;
    console.info(`graphql-http audits: ${count('ok')} ok, ${count('notice')} notice, ${count('warn')} warn, ${count('error')} error of ${results.length}`);
    await stack.close();
  });

  it('should pass every audit with no error', async () => {
    for (const audit of serverAudits({ url: () => `${stack.base}/graphql`, fetchFn: fetch })) {
      const result = await audit.fn();
      results.push({ name: audit.name, status: result.status });
    }
    const errors = results.filter((r) => r.status === 'error');
    expect(errors, JSON.stringify(errors)).toEqual([]);
    expect(results.length).toBeGreaterThan(50);
  });
});
