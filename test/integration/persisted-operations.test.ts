import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startStack, type Stack } from '../helpers/stack.ts';

const LISTED = '{ backends { name } }';
const LISTED_SUB = 'subscription { runnerUpdated { runner { name } } }';
const hash = (q: string) => createHash('sha256').update(q).digest('hex');

describe('persisted operations (trusted documents) on HTTP and WebSocket', () => {
  let stack: Stack;
  beforeAll(async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'switchyard-')), 'operations.json');
    writeFileSync(file, JSON.stringify({ [hash(LISTED)]: LISTED, [hash(LISTED_SUB)]: LISTED_SUB }));
    stack = await startStack({ sim: { repositories: ['api'], history: 1 }, config: { limits: { persistedOperationsFile: file } } });
  });
  afterAll(() => stack.close());

  const post = (body: unknown) =>
    fetch(`${stack.base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: (await r.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] } }));

  it('should run listed operations by hash and refuse everything else over HTTP', async () => {
    const ok = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: hash(LISTED) } } });
    expect(ok.body.data).toEqual({ backends: [{ name: 'gh' }] });
    const arbitrary = await post({ query: '{ runners { nodes { name } } }' });
    expect(JSON.stringify(arbitrary.body)).toMatch(/PERSISTED_QUERY_ONLY|PERSISTED_QUERY_NOT_IN_LIST|not allowed|PersistedQuery/i);
    expect(arbitrary.body.data ?? null).toBeNull();
    const unknown = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: hash('{ nope }') } } });
    expect(unknown.body.data ?? null).toBeNull();
  });

  it('should hold over WebSocket too: arbitrary documents get an error, listed ones run', async () => {
    const client = createClient({ url: `${stack.base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    const refused = await new Promise<unknown>((resolve) => {
      client.subscribe({ query: 'subscription { jobUpdated { job { name } } }' }, { next: () => resolve('delivered?!'), error: resolve, complete: () => resolve('completed') });
    });
    expect(JSON.stringify(refused)).toMatch(/PERSISTED_QUERY_NOT_IN_LIST/);
    const listed = await new Promise<unknown>((resolve) => {
      client.subscribe(
        { query: '', extensions: { persistedQuery: { version: 1, sha256Hash: hash(LISTED) } } },
        { next: (v) => resolve(v.data), error: resolve, complete: () => undefined },
      );
    });
    expect(listed).toEqual({ backends: [{ name: 'gh' }] });
    await client.dispose();
  });
});
