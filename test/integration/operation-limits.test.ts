/**
 * §6 row 3: every operation limit rejects one past its bound, over HTTP and over
 * WebSocket alike, and a rejection on a WebSocket is an `error` for that
 * operation only: the socket stays open and keeps serving.
 * Limits as in the anchor: depth 6, 15 aliases, 1,000 tokens, 50 directives,
 * cost 5,000, 15,000 characters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startStack, type Stack } from '../helpers/stack.ts';

const LIMITS = { maxDepth: 6, maxAliases: 15, maxTokens: 1000, maxDirectives: 50, maxCost: 5000, maxDocumentLength: 15_000 };

/** `n` times `item`, space-separated. */
const times = (n: number, item: (i: number) => string) => Array.from({ length: n }, (_, i) => item(i)).join(' ');
/** A document of exactly `length` characters: the query padded with a comment. */
const padded = (query: string, length: number) => `${query}\n#${'x'.repeat(length - query.length - 2)}`;

/** `{ pipelines(filter: { backends: [N strings] }) { nodes { name } } }`: 19 + N tokens; no backend matches, so no upstream call. */
const manyTokens = (n: number) => `{ pipelines(filter: { backends: [${times(n, () => '"x"')}] }) { nodes { name } } }`;

/** Each limit: a document just within it (accepted) and one just past it (rejected), and the error's words. */
const CASES = [
  {
    limit: 'depth',
    within: '{ pipelines { nodes { jobs { nodes { runner { name } } } } } }',
    past: '{ pipelines { nodes { jobs { nodes { pipeline { project { name } } } } } } }',
    error: /depth/i,
  },
  { limit: 'aliases', within: `{ ${times(15, (i) => `a${i}: backends { name }`)} }`, past: `{ ${times(16, (i) => `a${i}: backends { name }`)} }`, error: /aliases/i },
  // 19 tokens around a list of N strings (commas are not tokens): N = 981 makes 1,000.
  // (Not many repeated fields: graphql-js aborts validating ~800 of them, overlap checks being quadratic.)
  { limit: 'tokens', within: manyTokens(981), past: manyTokens(982), error: /token/i },
  {
    limit: 'directives',
    within: `{ ${times(50, () => '__typename @include(if: true)')} }`,
    past: `{ ${times(51, () => '__typename @include(if: true)')} }`,
    error: /directive/i,
  },
  {
    // Fragments multiply the cost without adding tokens: 10 × 10 spreads of 20 fields.
    limit: 'cost',
    within: '{ backends { name } }',
    past: `{ ...F3 } fragment F3 on Query { ${times(10, () => '...F2')} } fragment F2 on Query { ${times(10, () => '...F1')} } fragment F1 on Query { ${times(20, () => 'backends { name }')} }`,
    error: /cost/i,
  },
  { limit: 'length', within: padded('{ __typename }', 15_000), past: padded('{ __typename }', 15_001), error: /over the limit/i },
] as const;

describe('operation limits on HTTP and WebSocket (§6 row 3)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ sim: { repositories: ['api'], history: 1 }, config: { limits: LIMITS } });
  });
  afterAll(() => stack.close());

  it.each(CASES)('should accept a document within the $limit limit and reject one past it over HTTP', async ({ within, past, error }) => {
    const accepted = await stack.query(within);
    expect(accepted.errors, JSON.stringify(accepted.errors)).toBeUndefined();
    const rejected = await stack.query(past);
    expect(rejected.data).toBeUndefined();
    expect(rejected.errors?.map((e) => e.message).join('; ')).toMatch(error);
  });

  it('should do the same over one WebSocket, answering each rejection with an error and staying open', async () => {
    const ws = new WebSocket(stack.graphqlUrl.replace('http', 'ws'), 'graphql-transport-ws');
    const answers = new Map<string, { type: string; payload?: unknown }[]>();
    let closed: number | null = null;
    ws.on('close', (code) => (closed = code));
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { id?: string; type: string; payload?: unknown };
      if (m.id) answers.set(m.id, [...(answers.get(m.id) ?? []), m]);
    });
    await new Promise((r) => ws.once('open', r));
    const acked = new Promise<void>((resolve) => ws.on('message', (data) => String(data).includes('connection_ack') && resolve()));
    ws.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    await acked;
    const finished = (id: string) => answers.get(id)?.some((m) => m.type === 'error' || m.type === 'complete') ?? false;
    for (const { limit, within, past } of CASES) {
      ws.send(JSON.stringify({ id: `${limit}-within`, type: 'subscribe', payload: { query: within } }));
      ws.send(JSON.stringify({ id: `${limit}-past`, type: 'subscribe', payload: { query: past } }));
    }
    const ids = CASES.flatMap(({ limit }) => [`${limit}-within`, `${limit}-past`]);
    const deadline = Date.now() + 15_000;
    while (!ids.every(finished) && closed === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBeNull();
    for (const { limit, error } of CASES) {
      const within = answers.get(`${limit}-within`) ?? [];
      expect(within.map((m) => m.type), `${limit} within: ${JSON.stringify(within).slice(0, 300)}`).toEqual(['next', 'complete']);
      expect(JSON.stringify((within[0]?.payload as { errors?: unknown }).errors ?? null)).toBe('null');
      const past = answers.get(`${limit}-past`) ?? [];
      expect(past.map((m) => m.type), limit).toEqual(['error']);
      expect(JSON.stringify(past[0]?.payload)).toMatch(error);
    }
    ws.close();
  });
});
