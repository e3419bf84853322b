import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../../src/audit/verify.ts';
import { PAYLOAD, gid, startActionsStack, type ActionsStack } from '../helpers/actions-stack.ts';

/**
 * Issue 15 items 1-2 through a real gateway over the test-only provider (testci): permissions
 * (read-only by default, per backend and project), typed payload errors for every refusal the
 * core decides, zero upstream writes for a denied action, and the write token used only for actions.
 */
interface Payload {
  errors: { code: string; message: string; backend: string | null; input: string | null; upstreamStatus: number | null }[];
  upstream: { backend: { name: string }; calls: { method: string; path: string; status: number | null }[] } | null;
  pipeline?: { id: string; status: string; attempt: number } | null;
  dryRun: boolean;
  replayed: boolean;
}

const CANCEL = `mutation($id: ID!) { cancelPipeline(input: { id: $id }) { ${PAYLOAD} pipeline { id status attempt } } }`;
const RETRY = `mutation($id: ID!) { retryPipeline(input: { id: $id }) { ${PAYLOAD} pipeline { id status attempt } } }`;

describe('actions: permissions and typed refusals (testci)', () => {
  let stack: ActionsStack;

  beforeAll(async () => {
    stack = await startActionsStack({
      keys: {
        reader: [{ backends: ['*'] }],
        operator: [{ backends: ['*'] }, { backends: ['tci'], projects: ['acme-api'], actions: ['cancel'] }],
        admin: [{ backends: ['*'], actions: ['*'] }],
      },
    });
  });
  afterAll(() => stack?.close());

  it('should refuse every action to a key without an actions grant, with no upstream write, and audit it as denied', async () => {
    const res = await stack.gql<{ cancelPipeline: Payload }>(stack.keys.reader!, CANCEL, { id: gid('Pipeline', 'tci', 'acme-api/builds/102') });
    expect(res.errors).toBeUndefined();
    expect(res.data!.cancelPipeline.errors).toEqual([expect.objectContaining({ code: 'FORBIDDEN', backend: 'tci' })]);
    expect(res.data!.cancelPipeline.errors[0]!.message).toContain('"cancel"');
    expect(stack.writes()).toEqual([]);
    const audited = (await stack.auditRecords()).filter((r) => r.kind === 'action');
    expect(audited.at(-1)).toMatchObject({ action: 'cancelPipeline', outcome: 'denied', errorCode: 'FORBIDDEN', backend: 'tci', identity: { id: 'key:reader' }, target: { nativeId: 'acme-api/builds/102' }, calls: [] });
  });

  it("should refuse an action outside the grant's projects or permissions (FORBIDDEN), sending nothing", async () => {
    const web = await stack.gql<{ cancelPipeline: Payload }>(stack.keys.operator!, CANCEL, { id: gid('Pipeline', 'tci', 'acme-web/builds/201') });
    expect(web.data!.cancelPipeline.errors.map((e) => e.code)).toEqual(['FORBIDDEN']);
    expect(web.data!.cancelPipeline.errors[0]!.message).toContain('project "acme-web"');
    const retry = await stack.gql<{ retryPipeline: Payload }>(stack.keys.operator!, RETRY, { id: gid('Pipeline', 'tci', 'acme-api/builds/101') });
    expect(retry.data!.retryPipeline.errors.map((e) => e.code)).toEqual(['FORBIDDEN']);
    expect(stack.writes()).toEqual([]);
  });

  it('should answer NOT_FOUND for malformed, mistyped, unknown and out-of-scope ids, sending nothing', async () => {
    const ids = ['not-an-id', gid('Job', 'tci', 'acme-api/jobs/1003'), gid('Pipeline', 'nope', 'x'), gid('Pipeline', 'tci', 'acme-api/builds/999'), gid('Pipeline', 'tci', 'other-team/builds/301')];
    for (const id of ids) {
      const res = await stack.gql<{ cancelPipeline: Payload }>(stack.keys.admin!, CANCEL, { id });
      expect(res.errors, id).toBeUndefined();
      expect(res.data!.cancelPipeline.errors.map((e) => e.code), id).toEqual(['NOT_FOUND']);
    }
    expect(stack.writes()).toEqual([]);
    // other-team is outside the backend's configured projects: refused without any request at all.
    expect(stack.upstream.requests.filter((p) => p.includes('/301'))).toEqual([]);
  });

  it('should name the missing write credentials (NOT_CONFIGURED) on a read-only backend', async () => {
    const res = await stack.gql<{ cancelPipeline: Payload }>(stack.keys.admin!, CANCEL, { id: gid('Pipeline', 'tci-ro', 'acme-api/builds/102') });
    expect(res.data!.cancelPipeline.errors).toEqual([expect.objectContaining({ code: 'NOT_CONFIGURED', backend: 'tci-ro' })]);
    expect(res.data!.cancelPipeline.errors[0]!.message).toContain('backends[1].writeToken');
    expect(stack.writes()).toEqual([]);
  });

  it('should refuse an action the provider cannot do (NOT_SUPPORTED), sending nothing', async () => {
    const res = await stack.gql<{ cancelPipeline: Payload }>(stack.keys.admin!, CANCEL, { id: gid('Pipeline', 'tci-limited', 'acme-api/builds/102') });
    expect(res.data!.cancelPipeline.errors).toEqual([expect.objectContaining({ code: 'NOT_SUPPORTED', backend: 'tci-limited' })]);
    expect(stack.writes()).toEqual([]);
  });

  it('should cancel within the grant through the action API with the write token only, and return the pipeline as now seen', async () => {
    const before = stack.upstream.log.length;
    const res = await stack.gql<{ cancelPipeline: Payload }>(stack.keys.operator!, CANCEL, { id: gid('Pipeline', 'tci', 'acme-api/builds/102') });
    expect(res.errors).toBeUndefined();
    const p = res.data!.cancelPipeline;
    expect(p.errors).toEqual([]);
    expect(p.upstream).toEqual({ backend: { name: 'tci' }, calls: [{ method: 'POST', path: '/api/builds/102/cancel', status: 202 }] });
    expect(p.pipeline).toMatchObject({ status: 'CANCELED' });
    const sent = stack.upstream.log.slice(before);
    expect(sent.filter((r) => r.method === 'POST')).toEqual([{ method: 'POST', path: '/api/builds/102/cancel', token: 'write' }]);
    // Reads (the target, the re-read) use the read token; the write token is used only for the action.
    expect(sent.filter((r) => r.token === 'write')).toHaveLength(1);
    const audited = (await stack.auditRecords()).filter((r) => r.kind === 'action').at(-1);
    expect(audited).toMatchObject({ outcome: 'ok', errorCode: null, backend: 'tci', calls: [{ method: 'POST', path: '/api/builds/102/cancel', status: 202 }], transport: 'http' });
  });

  it("should map the backend's refusal to its typed error (ALREADY_FINISHED, 409)", async () => {
    const res = await stack.gql<{ cancelPipeline: Payload }>(stack.keys.admin!, CANCEL, { id: gid('Pipeline', 'tci', 'acme-api/builds/101') });
    expect(res.data!.cancelPipeline.errors).toEqual([expect.objectContaining({ code: 'ALREADY_FINISHED', backend: 'tci', upstreamStatus: 409 })]);
    expect(res.data!.cancelPipeline.upstream!.calls).toEqual([{ method: 'POST', path: '/api/builds/101/cancel', status: 409 }]);
    const audited = (await stack.auditRecords()).filter((r) => r.kind === 'action').at(-1);
    expect(audited).toMatchObject({ outcome: 'refused', errorCode: 'ALREADY_FINISHED' });
  });

  it('should map an upstream 5xx to UPSTREAM_UNAVAILABLE and a write-token 403 to UPSTREAM_FORBIDDEN', async () => {
    stack.upstream.failNext('/api/builds/101/retry', 503, 'maintenance');
    const down = await stack.gql<{ retryPipeline: Payload }>(stack.keys.admin!, RETRY, { id: gid('Pipeline', 'tci', 'acme-api/builds/101') });
    expect(down.data!.retryPipeline.errors).toEqual([expect.objectContaining({ code: 'UPSTREAM_UNAVAILABLE', backend: 'tci', upstreamStatus: 503 })]);
    stack.upstream.failNext('/api/builds/101/retry', 403, 'no');
    const forbidden = await stack.gql<{ retryPipeline: Payload }>(stack.keys.admin!, RETRY, { id: gid('Pipeline', 'tci', 'acme-api/builds/101') });
    expect(forbidden.data!.retryPipeline.errors).toEqual([expect.objectContaining({ code: 'UPSTREAM_FORBIDDEN', upstreamStatus: 403 })]);
  });

  it('should keep a log with action records verifiable (`switchyard audit verify`), and catch an edited one', async () => {
    const records = await stack.auditRecords();
    const outcomes = new Set(records.filter((r) => r.kind === 'action').map((r) => r.outcome));
    expect([...outcomes].sort()).toEqual(['denied', 'error', 'ok', 'refused']);
    expect(await verifyAuditLog(stack.auditFile)).toMatchObject({ ok: true, records: records.length });
    // Tampering with an action record (who did it) is caught.
    const lines = readFileSync(stack.auditFile, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes('"kind":"action"') && l.includes('"outcome":"ok"'));
    const edited = join(dirname(stack.auditFile), 'edited.jsonl');
    writeFileSync(edited, lines.map((l, i) => (i === at ? l.replace('key:operator', 'key:someone') : l)).join('\n'));
    expect(await verifyAuditLog(edited)).toMatchObject({ ok: false, firstBadLine: at + 1 });
  });

  it('should refuse a mutation from an unauthenticated caller top-level, as for reads', async () => {
    const res = await stack.gql(null, CANCEL, { id: gid('Pipeline', 'tci', 'acme-api/builds/102') });
    expect(res.status).toBe(401);
    expect(res.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });
});

describe('actions in open mode', () => {
  it('should stay read-only by default, and act once auth.anonymousActions allows it', async () => {
    const closed = await startActionsStack();
    try {
      const res = await closed.gql<{ cancelPipeline: Payload }>(null, CANCEL, { id: gid('Pipeline', 'tci', 'acme-api/builds/102') });
      expect(res.data!.cancelPipeline.errors.map((e) => e.code)).toEqual(['FORBIDDEN']);
      expect(closed.writes()).toEqual([]);
    } finally {
      await closed.close();
    }
    const open = await startActionsStack({ config: { auth: { mode: 'open', anonymousActions: ['cancel'] } } });
    try {
      const res = await open.gql<{ cancelPipeline: Payload }>(null, CANCEL, { id: gid('Pipeline', 'tci', 'acme-api/builds/102') });
      expect(res.data!.cancelPipeline.errors).toEqual([]);
      expect(res.data!.cancelPipeline.pipeline!.status).toBe('CANCELED');
    } finally {
      await open.close();
    }
  });
});
