import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCiServer, type TestCiServer } from '../fixtures/test-provider/index.ts';
import { PAYLOAD, READ_TOKEN, WRITE_TOKEN, gid, startActionsStack, type ActionsStack } from '../helpers/actions-stack.ts';

/** Issue 15 item 4: an idempotency key makes duplicates one upstream effect, in one instance and across two on Redis. */
interface Payload {
  errors: { code: string; message: string }[];
  replayed: boolean;
  upstream: { calls: { method: string; path: string; status: number | null }[] } | null;
  pipeline: { status: string; attempt: number } | null;
}
const RETRY = `mutation($id: ID!, $key: String, $failedOnly: Boolean) { retryPipeline(input: { id: $id, idempotencyKey: $key, failedOnly: $failedOnly }) { ${PAYLOAD} pipeline { status attempt } } }`;
const KEYS = { admin: [{ backends: ['*'], actions: ['*'] }], other: [{ backends: ['*'], actions: ['*'] }] };

describe('actions: idempotency in one instance', () => {
  let stack: ActionsStack;
  beforeAll(async () => {
    stack = await startActionsStack({ keys: KEYS });
  });
  afterAll(() => stack?.close());

  it('should make 20 concurrent duplicates one upstream call, answer the same outcome to all, 19 of them replayed', async () => {
    const id = gid('Pipeline', 'tci', 'acme-api/builds/101');
    const results = await Promise.all(Array.from({ length: 20 }, () => stack.gql<{ retryPipeline: Payload }>(stack.keys.admin!, RETRY, { id, key: 'retry-101' })));
    expect(stack.writes()).toEqual([{ method: 'POST', path: '/api/builds/101/retry', token: 'write' }]);
    const payloads = results.map((r) => r.data!.retryPipeline);
    expect(payloads.every((p) => p.errors.length === 0)).toBe(true);
    expect(payloads.filter((p) => p.replayed)).toHaveLength(19);
    expect(new Set(payloads.map((p) => JSON.stringify(p.upstream)))).toEqual(new Set([JSON.stringify({ backend: { name: 'tci' }, calls: [{ method: 'POST', path: '/api/builds/101/retry', status: 202 }] })]));
    // Later too: the same key and input answer the first outcome, with the pipeline as now seen.
    const again = await stack.gql<{ retryPipeline: Payload }>(stack.keys.admin!, RETRY, { id, key: 'retry-101' });
    expect(again.data!.retryPipeline).toMatchObject({ replayed: true, errors: [], pipeline: { attempt: 2 } });
    expect(stack.writes()).toHaveLength(1);
    const audited = (await stack.auditRecords()).filter((r) => r.kind === 'action');
    expect(audited.filter((r) => r.outcome === 'ok')).toHaveLength(1);
    expect(audited.filter((r) => r.outcome === 'replayed')).toHaveLength(20);
  });

  it('should refuse the same key with another input (IDEMPOTENCY_CONFLICT) with no call, and keep keys apart per identity', async () => {
    const id = gid('Pipeline', 'tci', 'acme-api/builds/101');
    const conflict = await stack.gql<{ retryPipeline: Payload }>(stack.keys.admin!, RETRY, { id, key: 'retry-101', failedOnly: true });
    expect(conflict.data!.retryPipeline.errors.map((e) => e.code)).toEqual(['IDEMPOTENCY_CONFLICT']);
    expect(stack.writes()).toHaveLength(1);
    // Another identity's key of the same text is its own: its request is performed (and refused upstream: still running).
    const other = await stack.gql<{ retryPipeline: Payload }>(stack.keys.other!, RETRY, { id, key: 'retry-101' });
    expect(other.data!.retryPipeline).toMatchObject({ replayed: false, errors: [{ code: 'NOT_RETRYABLE' }] });
    expect(stack.writes()).toHaveLength(2);
    const tooLong = await stack.gql<{ retryPipeline: Payload }>(stack.keys.admin!, RETRY, { id, key: 'k'.repeat(257) });
    expect(tooLong.data!.retryPipeline.errors.map((e) => e.code)).toEqual(['INVALID_INPUT']);
    expect(stack.writes()).toHaveLength(2);
    expect((await stack.auditRecords()).filter((r) => r.kind === 'action').some((r) => r.outcome === 'conflict')).toBe(true);
  });
});

describe('actions: idempotency across two instances on Redis', () => {
  let upstream: TestCiServer;
  const stacks: ActionsStack[] = [];
  beforeAll(async () => {
    upstream = await startTestCiServer(READ_TOKEN, WRITE_TOKEN);
    const events = { store: 'redis', streamPrefix: `test:actions:${randomUUID()}:` };
    for (let i = 0; i < 2; i++) stacks.push(await startActionsStack({ keys: KEYS, upstream, config: { events } }));
  });
  afterAll(async () => {
    await Promise.all(stacks.map((s) => s.close()));
    await upstream?.close();
  });

  it('should make 20 concurrent duplicates spread over both instances one upstream call', async () => {
    const id = gid('Pipeline', 'tci', 'acme-api/builds/101');
    // Keys are hashed with their identity id (`key:admin`), the same on both instances.
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => stacks[i % 2]!.gql<{ retryPipeline: Payload }>(stacks[i % 2]!.keys.admin!, RETRY, { id, key: 'two-instances' })));
    expect(upstream.log.filter((r) => r.method === 'POST')).toEqual([{ method: 'POST', path: '/api/builds/101/retry', token: 'write' }]);
    expect(results.map((r) => r.data!.retryPipeline).filter((p) => p.replayed)).toHaveLength(19);
    expect(results.every((r) => r.data!.retryPipeline.errors.length === 0)).toBe(true);
  });
});
