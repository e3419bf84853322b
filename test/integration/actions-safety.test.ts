import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAYLOAD, gid, startActionsStack, type ActionsStack } from '../helpers/actions-stack.ts';

/** Issue 15 items 5-6: no mutation over GET or SSE, WebSocket allowed, per-identity rate limits, dry runs. */
interface Payload {
  dryRun: boolean;
  errors: { code: string; message: string }[];
  upstream: { calls: { method: string; path: string; status: number | null }[] } | null;
  pipeline: { status: string } | null;
}
const CANCEL = (extra = '') => `mutation($id: ID!) { cancelPipeline(input: { id: $id ${extra} }) { ${PAYLOAD} pipeline { status } } }`;
const RUNNING = gid('Pipeline', 'tci', 'acme-api/builds/102');

describe('actions: transports, rate limits and dry runs (testci)', () => {
  let stack: ActionsStack;
  beforeAll(async () => {
    stack = await startActionsStack({
      keys: { admin: [{ backends: ['*'], actions: ['*'] }], second: [{ backends: ['*'], actions: ['*'] }] },
      config: { rateLimit: { fields: { 'Mutation.retryJob': { max: 2, window: '1m' } } } },
    });
  });
  afterAll(() => stack?.close());

  it('should refuse a mutation over GET (405) and send nothing', async () => {
    const url = `${stack.graphqlUrl}?query=${encodeURIComponent(CANCEL())}&variables=${encodeURIComponent(JSON.stringify({ id: RUNNING }))}`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${stack.keys.admin}`, 'x-switchyard-client': '1', accept: 'application/json' } });
    expect(res.status).toBe(405);
    expect(await res.text()).toContain('Can only perform a mutation operation from a POST request');
    expect(stack.writes()).toEqual([]);
  });

  it('should refuse a mutation over SSE with a clear error, send nothing, and audit it as denied', async () => {
    const res = await fetch(stack.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${stack.keys.admin}` },
      body: JSON.stringify({ query: CANCEL(), variables: { id: RUNNING } }),
    });
    const text = await res.text();
    expect(text).toContain('mutations are not accepted over SSE');
    expect(text).toContain('BAD_REQUEST');
    expect(stack.writes()).toEqual([]);
    const audited = (await stack.auditRecords()).filter((r) => r.kind === 'action').at(-1);
    expect(audited).toMatchObject({ outcome: 'denied', transport: 'sse', errorCode: 'BAD_REQUEST' });
  });

  it('should report a dry run (planned calls, no status) and send no write; refusals still apply', async () => {
    const dry = await stack.gql<{ cancelPipeline: Payload }>(stack.keys.admin!, CANCEL('dryRun: true'), { id: RUNNING });
    expect(dry.data!.cancelPipeline).toMatchObject({ dryRun: true, errors: [], upstream: { calls: [{ method: 'POST', path: '/api/builds/102/cancel', status: null }] }, pipeline: { status: 'RUNNING' } });
    expect(stack.writes()).toEqual([]);
    const ro = await stack.gql<{ cancelPipeline: Payload }>(stack.keys.admin!, CANCEL('dryRun: true'), { id: gid('Pipeline', 'tci-ro', 'acme-api/builds/102') });
    expect(ro.data!.cancelPipeline.errors.map((e) => e.code)).toEqual(['NOT_CONFIGURED']);
    const audited = (await stack.auditRecords()).filter((r) => r.kind === 'action');
    expect(audited.some((r) => r.outcome === 'dry-run' && (r.calls as unknown[]).length === 1)).toBe(true);
  });

  it('should accept a mutation over WebSocket and audit its transport', async () => {
    const client = createClient({ url: stack.graphqlUrl.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${stack.keys.admin}` } });
    const result = await new Promise<{ data?: { cancelPipeline: Payload } }>((resolve, reject) => {
      let value: { data?: { cancelPipeline: Payload } } = {};
      client.subscribe({ query: CANCEL(), variables: { id: RUNNING } }, { next: (v) => (value = v as never), error: reject, complete: () => resolve(value) });
    });
    await client.dispose();
    expect(result.data!.cancelPipeline).toMatchObject({ errors: [], pipeline: { status: 'CANCELED' } });
    expect(stack.writes()).toEqual([{ method: 'POST', path: '/api/builds/102/cancel', token: 'write' }]);
    const audited = (await stack.auditRecords()).filter((r) => r.kind === 'action').at(-1);
    expect(audited).toMatchObject({ outcome: 'ok', transport: 'ws' });
  });

  it("should limit each mutation per identity (the schema's 30/min, overridden by rateLimit.fields)", async () => {
    const retry = `mutation($id: ID!) { retryJob(input: { id: $id, dryRun: true }) { ${PAYLOAD} } }`;
    const id = gid('Job', 'tci', 'acme-api/jobs/1001');
    const codes: unknown[] = [];
    for (let i = 0; i < 3; i++) codes.push((await stack.gql(stack.keys.admin!, retry, { id })).errors?.[0]?.extensions?.code ?? 'ok');
    expect(codes).toEqual(['ok', 'ok', 'RATE_LIMITED']);
    // Another identity has its own budget.
    expect((await stack.gql(stack.keys.second!, retry, { id })).errors).toBeUndefined();
    // The schema's default applies to the others: 30 a minute.
    const cancel = CANCEL('dryRun: true');
    const results = [];
    for (let i = 0; i < 31; i++) results.push((await stack.gql(stack.keys.second!, cancel, { id: RUNNING })).errors?.[0]?.extensions?.code ?? 'ok');
    expect(results.filter((c) => c === 'ok')).toHaveLength(30);
    expect(results.at(-1)).toBe('RATE_LIMITED');
  });
});
