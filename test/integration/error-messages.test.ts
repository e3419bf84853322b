/**
 * The exact answer to each misuse (dataloader's habit): a client that gets an
 * id, an argument, a page or a credential wrong reads what went wrong and which
 * code, and a change to any of these messages is a decision, not an accident.
 * Every case goes over HTTP to a real gateway in front of the GitHub simulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { toGlobalId } from '../../src/ids.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

const LIMITS = { maxDepth: 6, maxAliases: 15, maxTokens: 1000, maxDirectives: 50, maxCost: 5000, maxDocumentLength: 15_000 };
const RATE_LIMITED_MAX = 2;

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

interface Misuse {
  readonly misuse: string;
  readonly send: (s: Sender) => Promise<Answer>;
  readonly status: number;
  /** The whole JSON answer, or just its errors as [message, code] pairs. */
  readonly errors?: readonly (readonly [message: string, code: string | undefined])[];
  readonly body?: unknown;
}

interface Sender {
  query(query: string, headers?: Record<string, string>): Promise<Answer>;
  /** A subscription over GraphQL-over-SSE, read to its end. */
  subscribe(query: string): Promise<Answer>;
  raw(path: string, init: RequestInit): Promise<Answer>;
  readonly keys: { readonly revoked: string; readonly otherProject: string };
}

const pipelineId = toGlobalId('Pipeline', 'gh', '1');
const jobId = toGlobalId('Job', 'gh', '1');
const times = (n: number, item: (i: number) => string) => Array.from({ length: n }, (_, i) => item(i)).join(' ');

const CASES: readonly Misuse[] = [
  // Ids
  {
    misuse: 'a malformed id in a filter',
    send: (s) => s.query('{ pipelines(filter: { ids: ["not-an-id"] }) { nodes { id } } }'),
    status: 200,
    errors: [['filter.ids: "not-an-id" is not a Pipeline ID', 'BAD_USER_INPUT']],
  },
  {
    misuse: 'an id of the wrong type in a filter',
    send: (s) => s.query(`{ jobs(filter: { pipelines: ["${jobId}"] }) { nodes { id } } }`),
    status: 200,
    errors: [[`filter.pipelines: "${jobId}" is not a Pipeline ID`, 'BAD_USER_INPUT']],
  },
  {
    misuse: 'a malformed id in node (reads as nothing, not as an error)',
    send: (s) => s.query('{ node(id: "not-an-id") { id } }'),
    status: 200,
    body: { data: { node: null } },
  },
  {
    misuse: 'an unknown id of a known backend (reads as nothing)',
    send: (s) => s.query(`{ node(id: "${toGlobalId('Pipeline', 'gh', '987654321')}") { id } }`),
    status: 200,
    body: { data: { node: null } },
  },
  {
    misuse: 'more ids than nodes accepts',
    send: (s) => s.query(`{ nodes(ids: [${times(101, () => `"${pipelineId}"`)}]) { id } }`),
    status: 200,
    errors: [['nodes accepts at most 100 ids, got 101', 'BAD_USER_INPUT']],
  },
  // Unknown backends
  {
    misuse: 'an id of an unknown backend (reads as nothing)',
    send: (s) => s.query(`{ node(id: "${toGlobalId('Pipeline', 'nope', '1')}") { id } }`),
    status: 200,
    body: { data: { node: null } },
  },
  {
    misuse: 'an unknown backend in a filter (selects nothing)',
    send: (s) => s.query('{ pipelines(filter: { backends: ["nope"] }) { nodes { id } } }'),
    status: 200,
    body: { data: { pipelines: { nodes: [] } } },
  },
  {
    misuse: 'a webhook for an unknown backend',
    send: (s) => s.raw('/webhooks/nope', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
    status: 404,
    body: { error: 'unknown backend', backend: 'nope' },
  },
  // Arguments and filters
  {
    misuse: 'a timestamp that is not ISO-8601',
    send: (s) => s.query('{ pipelines(filter: { createdAfter: "yesterday" }) { nodes { id } } }'),
    status: 200,
    errors: [['DateTime must be an ISO-8601 timestamp such as 2026-11-24T15:00:00Z, got "yesterday"', 'BAD_USER_INPUT']],
  },
  {
    misuse: 'a status that does not exist',
    send: (s) => s.query('{ pipelines(filter: { status: [BROKEN] }) { nodes { id } } }'),
    status: 200,
    errors: [['Value "BROKEN" does not exist in "CiStatus" enum.', 'GRAPHQL_VALIDATION_FAILED']],
  },
  {
    misuse: 'an unknown filter field',
    send: (s) => s.query('{ pipelines(filter: { colour: "red" }) { nodes { id } } }'),
    status: 200,
    errors: [['Field "colour" is not defined by type "PipelineFilter".', 'GRAPHQL_VALIDATION_FAILED']],
  },
  {
    misuse: 'an unknown field',
    send: (s) => s.query('{ pipeline { id } }'),
    status: 200,
    // Suggestions are masked only while introspection is off (no-suggestions.test.ts).
    errors: [['Cannot query field "pipeline" on type "Query". Did you mean "pipelines"?', 'GRAPHQL_VALIDATION_FAILED']],
  },
  // Pagination
  {
    misuse: 'first: 0',
    send: (s) => s.query('{ pipelines(first: 0) { nodes { id } } }'),
    status: 200,
    errors: [['first must be between 1 and 100, got 0', 'BAD_USER_INPUT']],
  },
  {
    misuse: 'first past the page limit',
    send: (s) => s.query('{ jobs(first: 101) { nodes { id } } }'),
    status: 200,
    errors: [['first must be between 1 and 100, got 101', 'BAD_USER_INPUT']],
  },
  {
    misuse: 'an `after` that is no cursor',
    send: (s) => s.query('{ pipelines(after: "page-2") { nodes { id } } }'),
    status: 200,
    errors: [['Invalid cursor "page-2": pass an endCursor or edge cursor from a previous page.', 'BAD_USER_INPUT']],
  },
  {
    misuse: '`last` (lists only page forward)',
    send: (s) => s.query('{ pipelines(last: 5) { nodes { id } } }'),
    status: 200,
    errors: [['Unknown argument "last" on field "Query.pipelines".', 'GRAPHQL_VALIDATION_FAILED']],
  },
  {
    misuse: 'first that is not an integer',
    send: (s) => s.query('{ pipelines(first: "ten") { nodes { id } } }'),
    status: 200,
    errors: [['Int cannot represent non-integer value: "ten"', 'GRAPHQL_VALIDATION_FAILED']],
  },
  // Subscriptions
  {
    misuse: 'a subscription resumed from a cursor this gateway never gave',
    send: (s) => s.subscribe('subscription { pipelineUpdated(after: "page-2") { cursor } }'),
    status: 200,
    errors: [['`after` is not a cursor given by this gateway.', 'BAD_USER_INPUT']],
  },
  {
    misuse: 'a subscription filter with a malformed id',
    send: (s) => s.subscribe('subscription { jobUpdated(filter: { ids: ["not-an-id"] }) { cursor } }'),
    status: 200,
    errors: [['filter.ids: "not-an-id" is not a Job ID', 'BAD_USER_INPUT']],
  },
  // Operation limits
  {
    misuse: 'a document past the depth limit',
    send: (s) => s.query('{ pipelines { nodes { jobs { nodes { pipeline { project { name } } } } } } }'),
    status: 200,
    // graphql-armor's rejections carry no code.
    errors: [['Syntax Error: Query depth limit of 6 exceeded, found 7.', undefined]],
  },
  {
    misuse: 'a document past the cost limit',
    send: (s) => s.query(`{ ...F3 } fragment F3 on Query { ${times(10, () => '...F2')} } fragment F2 on Query { ${times(10, () => '...F1')} } fragment F1 on Query { ${times(20, () => 'backends { name }')} }`),
    status: 200,
    errors: [['Syntax Error: Query Cost limit of 5000 exceeded, found 81853.375.', undefined]],
  },
  {
    misuse: 'a document past the alias limit',
    send: (s) => s.query(`{ ${times(16, (i) => `a${i}: gatewayLoad { overloaded }`)} }`),
    status: 200,
    errors: [['Syntax Error: Aliases limit of 15 exceeded, found 16.', undefined]],
  },
  {
    misuse: 'a document past the directive limit',
    send: (s) => s.query(`{ ${times(51, () => '__typename @include(if: true)')} }`),
    status: 200,
    errors: [['Directives limit of 50 exceeded.', 'DIRECTIVE_LIMIT']],
  },
  {
    misuse: 'a document past the length limit',
    send: (s) => s.query(`{ __typename }\n#${'x'.repeat(15_001 - 16)}`),
    status: 400,
    errors: [['Document of 15001 characters is over the limit of 15000', 'DOCUMENT_TOO_LARGE']],
  },
  // Rate limits: the third read of `backends` in the window (two allowed, one of them here).
  {
    misuse: 'a field read past its rate limit',
    send: async (s) => {
      for (let i = 0; i < RATE_LIMITED_MAX; i++) await s.query('{ backends { name } }');
      return s.query('{ backends { name } }');
    },
    status: 429,
    errors: [["You are trying to access 'backends' too often", 'RATE_LIMITED']],
  },
  // Authentication
  {
    misuse: 'no credentials',
    send: (s) => s.query('{ backends { name } }', { authorization: '' }),
    status: 401,
    errors: [['Authentication required', 'UNAUTHENTICATED']],
  },
  {
    misuse: 'an API key that does not exist',
    send: async (s) => s.query('{ backends { name } }', { authorization: `Bearer ${(await createApiKey('unknown')).key}` }),
    status: 401,
    errors: [['Invalid credentials', 'UNAUTHENTICATED']],
  },
  {
    misuse: 'an Authorization header that is not a bearer token',
    send: (s) => s.query('{ backends { name } }', { authorization: 'Basic dXNlcjpwYXNz' }),
    status: 401,
    errors: [['Invalid credentials', 'UNAUTHENTICATED']],
  },
  {
    misuse: 'a revoked API key (answered like an unknown one)',
    send: (s) => s.query('{ backends { name } }', { authorization: `Bearer ${s.keys.revoked}` }),
    status: 401,
    errors: [['Invalid credentials', 'UNAUTHENTICATED']],
  },
  {
    misuse: 'a read outside the key\'s scope (nothing there, no error)',
    send: (s) => s.query('{ pipelines { nodes { id } } }', { authorization: `Bearer ${s.keys.otherProject}` }),
    status: 200,
    body: { data: { pipelines: { nodes: [] } } },
  },
  // The request itself
  {
    misuse: 'a body larger than the limit',
    send: (s) => s.raw('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ __typename }\n#${'x'.repeat(1_100_000)}` }) }),
    status: 413,
    errors: [['Request body larger than 1048576 bytes', 'PAYLOAD_TOO_LARGE']],
  },
];

describe('the exact answer to each misuse, over HTTP', () => {
  let stack: Stack;
  let key: string;
  let sender: Sender;

  beforeAll(async () => {
    const created = await createApiKey('caller');
    const revoked = await createApiKey('revoked');
    const otherProject = await createApiKey('other-project');
    key = created.key;
    stack = await startStack({
      sim: { repositories: ['api'], history: 1 },
      config: {
        limits: LIMITS,
        rateLimit: { fields: { 'Query.backends': { max: RATE_LIMITED_MAX, window: '1h' } } },
        auth: {
          mode: 'required',
          apiKeys: [
            { id: 'caller', hash: created.hash, scopes: [{ backends: ['*'] }] },
            { id: 'revoked', hash: revoked.hash, scopes: [{ backends: ['*'] }], revoked: true },
            { id: 'other-project', hash: otherProject.hash, scopes: [{ backends: ['gh'], projects: ['octo-org/not-here'] }] },
          ],
        },
      },
    });
    const answer = async (res: Response): Promise<Answer> => {
      const text = await res.text();
      return { status: res.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
    };
    const headers = (extra: Record<string, string> = {}) => ({ 'content-type': 'application/json', authorization: `Bearer ${key}`, ...extra });
    sender = {
      query: async (query, extra) => answer(await fetch(stack.graphqlUrl, { method: 'POST', headers: headers(extra), body: JSON.stringify({ query }) })),
      subscribe: async (query) => {
        const res = await fetch(stack.graphqlUrl, { method: 'POST', headers: headers({ accept: 'text/event-stream' }), body: JSON.stringify({ query }) });
        // The stream ends after the error; its `next` events carry the results.
        const events = (await res.text()).split('\n\n').filter((e) => e.startsWith('event: next'));
        const results = events.map((e) => JSON.parse(e.slice(e.indexOf('data: ') + 6)) as { errors?: unknown[] });
        return { status: res.status, body: { errors: results.flatMap((r) => r.errors ?? []) } };
      },
      keys: { revoked: revoked.key, otherProject: otherProject.key },
      raw: async (path, init) => answer(await fetch(`${stack.base}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string>) } })),
    };
  });
  afterAll(() => stack?.close());

  it.each(CASES)('should answer $misuse exactly', async ({ send, status, errors, body }) => {
    const got = await send(sender);
    if (body !== undefined) expect(got.body, JSON.stringify(got.body)).toEqual(body);
    if (errors !== undefined) {
      const pairs = ((got.body as { errors?: { message: string; extensions?: { code?: string } }[] }).errors ?? []).map((e) => [e.message, e.extensions?.code]);
      expect(pairs, JSON.stringify(got.body)).toEqual(errors);
    }
    expect(got.status).toBe(status);
  });
});
