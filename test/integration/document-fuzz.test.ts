import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * §6 row 4: fuzzed GraphQL documents, variables and request bodies. Whatever a
 * client sends, the gateway answers with a GraphQL error or data: never a 5xx
 * over HTTP, never close 4500 over WebSocket, and it stays up for everyone.
 */

const FIELDS = ['projects', 'pipelines', 'jobs', 'runners', 'backends', 'node', 'nodes', 'id', 'name', 'status', 'nodes', 'edges',
  'pageInfo', 'health', 'steps', 'runner', 'project', '__typename', '__schema', '__type', 'jobUpdated', 'types', 'fields', 'x', 'ünï', '_9'];
const VALUES = ['1', '-1', '0', '2147483648', '1e400', '"a"', '""', 'null', 'true', '$v', '$undeclared', '[1, "a", null]', '{ a: 1 }',
  '{ status: [FAILURE, NOPE] }', 'SUCCESS', '"UGlwZWxpbmU6Z2g6MQ"', '"\\u0000"', `"${'z'.repeat(300)}"`];
const DIRECTIVES = ['@include(if: true)', '@skip(if: $v)', '@deprecated', '@rateLimit(max: 1)', '@nope', '@include', '@skip(if: 1)'];

/** Syntactically plausible documents: nested selections, arguments, aliases, directives, fragments (cycles too). */
const selectionSet: fc.Arbitrary<string> = fc.letrec<{ set: string; field: string }>((tie) => ({
  field: fc.tuple(
    fc.option(fc.constantFrom('a', 'b', 'x1'), { nil: undefined }),
    fc.constantFrom(...FIELDS),
    fc.array(fc.tuple(fc.constantFrom('first', 'after', 'id', 'ids', 'filter', 'last', 'bogus'), fc.constantFrom(...VALUES)), { maxLength: 2 }),
    fc.array(fc.constantFrom(...DIRECTIVES), { maxLength: 2 }),
    fc.option(tie('set'), { nil: undefined, freq: 2 }),
  ).map(([alias, name, args, dirs, sub]) =>
    `${alias ? `${alias}: ` : ''}${name}${args.length ? `(${args.map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''} ${dirs.join(' ')} ${sub ?? ''}`),
  set: fc.array(fc.oneof({ weight: 4, arbitrary: tie('field') }, fc.constantFrom('...F', '...G @include(if: true)', '... on Query { __typename }', '... on Nope { id }')), { minLength: 1, maxLength: 4 })
    .map((items) => `{ ${items.join(' ')} }`),
})).set;

const operation = fc.tuple(
  fc.constantFrom('', 'query', 'query Q', 'query Q($v: Boolean)', 'query ($v: Int!)', 'subscription', 'subscription S', 'mutation', 'query Q($v: [ID!]!)'),
  selectionSet,
  fc.array(fc.tuple(fc.constantFrom('F', 'G', 'H'), fc.constantFrom('Query', 'Job', 'Nope'), selectionSet), { maxLength: 2 }),
).map(([head, set, fragments]) => `${head} ${set} ${fragments.map(([n, on, s]) => `fragment ${n} on ${on} ${s}`).join(' ')}`);

/** A plausible document, with a slice cut out or junk put in a third of the time. */
const document = fc.oneof(
  { weight: 6, arbitrary: operation },
  { weight: 2, arbitrary: fc.tuple(operation, fc.nat(), fc.nat(), fc.string({ maxLength: 8 })).map(([d, a, b, junk]) => d.slice(0, a % (d.length + 1)) + junk + d.slice(b % (d.length + 1))) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
);

const variables = fc.oneof(fc.constant(undefined), fc.constant(null), fc.jsonValue({ maxDepth: 3 }),
  fc.record({ v: fc.oneof(fc.boolean(), fc.integer(), fc.string(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 })) }));

/** graphql-ws requires `variables` to be an object or null (anything else is a 4400 protocol error). */
const wsVariables = fc.oneof(fc.constant(null), fc.dictionary(fc.constantFrom('v', 'x', ''), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }));

/** Request bodies: mostly well-formed envelopes, some with non-string queries or not JSON at all. */
const body = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(document, variables, fc.option(fc.constantFrom('Q', 'S', 'nope', ''), { nil: undefined })).map(([query, vars, operationName]) => JSON.stringify({ query, variables: vars, operationName })) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((query) => JSON.stringify({ query })) },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 100 }), fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v))) },
);

const HTTP_RUNS = 10_000;
const WS_RUNS = 2_000;

describe('fuzzed GraphQL documents (§6 row 4)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ sim: { repositories: ['api'], history: 2 } });
  });
  afterAll(() => stack.close());

  it(`should answer ${HTTP_RUNS} fuzzed HTTP requests without a 5xx`, async () => {
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    const cases = fc.sample(body, HTTP_RUNS);
    // 16 requests in flight, as a busy client would send them.
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const text = cases[next++]!;
        const res = await fetch(stack.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' }, body: text });
        const answer = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        let graphqlShaped = false;
        try {
          const parsed = JSON.parse(answer) as { data?: unknown; errors?: { message: string }[] };
          graphqlShaped = parsed.data !== undefined || (parsed.errors?.length ?? 0) > 0;
        } catch {
          graphqlShaped = false;
        }
        // Every answer is a GraphQL response below 500: data, or errors that say what is wrong.
        if (res.status >= 500 || !graphqlShaped) failures.push(`${res.status} ${answer.slice(0, 200)} <- ${text.slice(0, 300)}`);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    console.info(`document fuzz, HTTP: ${cases.length} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(failures.slice(0, 5), `${failures.length} bad answers`).toEqual([]);
    // A plain query still works afterwards.
    expect((await stack.query<{ backends: unknown[] }>('{ backends { name } }')).data?.backends).toHaveLength(1);
  }, 180_000);

  it(`should answer ${WS_RUNS} fuzzed subscribe frames on one socket, never closing it`, async () => {
    const ws = new WebSocket(stack.graphqlUrl.replace('http', 'ws'), 'graphql-transport-ws');
    const answered = new Map<string, (m: string) => void>();
    let closed: number | null = null;
    const errors = { count: 0 };
    ws.on('message', (data) => {
      const text = String(data);
      const m = JSON.parse(text) as { id?: string; type: string };
      if (m.type === 'error') errors.count++;
      if (m.id) answered.get(m.id)?.(text);
    });
    const acked = new Promise<void>((resolve, reject) => {
      ws.on('message', (data) => String(data).includes('connection_ack') && resolve());
      ws.on('close', (code) => {
        closed = code;
        for (const resolveAnswer of answered.values()) resolveAnswer(`closed ${code}`);
        reject(new Error(`socket closed ${code}`));
      });
    });
    acked.catch(() => undefined);
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    await acked;
    // Batches of 100 frames, each ended by a sentinel query on the same socket: once its
    // answer arrives the socket has taken the batch and still serves.
    const cases = fc.sample(fc.tuple(document, wsVariables), WS_RUNS);
    for (let batch = 0; batch * 100 < cases.length; batch++) {
      const slice = cases.slice(batch * 100, (batch + 1) * 100);
      slice.forEach(([query, vars], i) => {
        const id = `f${batch}-${i}`;
        ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query, ...(vars != null ? { variables: vars } : {}) } }));
      });
      const sentinel = `s${batch}`;
      const answer = new Promise<string>((resolve) => answered.set(sentinel, resolve));
      ws.send(JSON.stringify({ id: sentinel, type: 'subscribe', payload: { query: '{ backends { name } }' } }));
      const text = await answer;
      answered.delete(sentinel);
      expect(closed, `closed after batch ${batch}: ${JSON.stringify(slice).slice(0, 3000)}`).toBeNull();
      expect(text).toContain('"name":"gh"');
      // A valid subscription in the batch would stay open: give them all back.
      slice.forEach((_, i) => ws.send(JSON.stringify({ id: `f${batch}-${i}`, type: 'complete' })));
    }
    console.info(`document fuzz, WebSocket: ${cases.length} frames, ${errors.count} error messages, socket open`);
    expect(errors.count).toBeGreaterThan(0);
    ws.close();
  }, 180_000);
});
