import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAYLOAD, gid, startActionsStack, type ActionsStack } from '../helpers/actions-stack.ts';

/** Issue 15 item 3 and the bad-input list: declared inputs checked before any write, typed refusals, approvals. */
interface Payload { errors: { code: string; message: string; input: string | null; backend: string | null }[]; pipeline: { status: string } | null }
const TRIGGER = `mutation($p: ID!, $ref: String!, $inputs: [ActionInputEntry!]) { triggerPipeline(input: { project: $p, ref: $ref, inputs: $inputs }) { ${PAYLOAD} pipeline { status } } }`;
const APPROVE = (kind: 'approve' | 'reject') => `mutation($id: ID!, $inputs: [ActionInputEntry!]) { ${kind}(input: { id: $id, comment: "ok", inputs: $inputs }) { ${PAYLOAD} pipeline { status } } }`;
const WEB = gid('Project', 'tci', 'acme-web');

describe('actions: inputs and refusals (testci)', () => {
  let stack: ActionsStack;
  beforeAll(async () => {
    stack = await startActionsStack({ keys: { admin: [{ backends: ['*'], actions: ['*'] }] } });
    stack.upstream.world.declared.set('acme-web', [
      { name: 'target', type: 'choice', required: true, options: ['staging', 'production'] },
      { name: 'replicas', type: 'number', required: false },
      { name: 'api_token', type: 'string', required: false },
    ]);
  });
  afterAll(() => stack?.close());

  it('should refuse inputs that do not fit the declarations (INVALID_INPUT naming the input) before any write', async () => {
    const cases: [unknown[], string, RegExp][] = [
      [[{ name: 'target', value: 'qa' }], 'target', /expected one of "staging", "production", received the string "qa"/],
      [[{ name: 'target', value: 'staging' }, { name: 'replicas', value: 'three' }], 'replicas', /expected a number, received the string "three"/],
      [[{ name: 'target', value: 'staging' }, { name: 'colour', value: true }], 'colour', /not declared/],
      [[], 'target', /is required/],
    ];
    for (const [inputs, input, message] of cases) {
      const res = await stack.gql<{ triggerPipeline: Payload }>(stack.keys.admin!, TRIGGER, { p: WEB, ref: 'trunk', inputs });
      expect(res.data!.triggerPipeline.errors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', input, backend: 'tci' })]);
      expect(res.data!.triggerPipeline.errors[0]!.message).toMatch(message);
    }
    expect(stack.writes()).toEqual([]);
  });

  it('should refuse a value that is not a string, finite number or boolean with a clear GraphQL error', async () => {
    const res = await stack.gql(stack.keys.admin!, TRIGGER, { p: WEB, ref: 'trunk', inputs: [{ name: 'target', value: { nested: 1 } }] });
    expect(res.errors![0]!.message).toContain('ActionInputValue: expected a string, a finite number or a boolean, received an object');
    expect(stack.writes()).toEqual([]);
  });

  it('should trigger with fitting inputs, redacting secret-looking ones in the audit record', async () => {
    const res = await stack.gql<{ triggerPipeline: Payload }>(stack.keys.admin!, TRIGGER, { p: WEB, ref: 'trunk', inputs: [{ name: 'target', value: 'staging' }, { name: 'api_token', value: 'tci_abcdefghijklmnopqrstu' }] });
    expect(res.data!.triggerPipeline.errors).toEqual([]);
    expect(stack.writes()).toEqual([{ method: 'POST', path: '/api/projects/acme-web/builds', token: 'write' }]);
    const audited = (await stack.auditRecords()).filter((r) => r.kind === 'action').at(-1)!;
    expect(JSON.stringify(audited)).not.toContain('tci_abcdefghijklmnopqrstu');
    expect(audited.inputs).toMatchObject({ ref: 'trunk', inputs: { target: 'staging', api_token: '[redacted]' } });
  });

  it('should map an unknown ref to UNKNOWN_REF', async () => {
    const res = await stack.gql<{ triggerPipeline: Payload }>(stack.keys.admin!, TRIGGER, { p: gid('Project', 'tci', 'acme-api'), ref: 'no-such-branch', inputs: [] });
    expect(res.data!.triggerPipeline.errors).toEqual([expect.objectContaining({ code: 'UNKNOWN_REF', backend: 'tci' })]);
  });

  it('should approve waiting work with its inputs passed through, then refuse a second answer (NOT_WAITING)', async () => {
    const id = gid('Pipeline', 'tci', 'acme-web/builds/201');
    const ok = await stack.gql<{ approve: Payload }>(stack.keys.admin!, APPROVE('approve'), { id, inputs: [{ name: 'anything', value: 3 }] });
    expect(ok.data!.approve).toMatchObject({ errors: [], pipeline: { status: 'RUNNING' } });
    const again = await stack.gql<{ reject: Payload }>(stack.keys.admin!, APPROVE('reject'), { id, inputs: [] });
    expect(again.data!.reject.errors).toEqual([expect.objectContaining({ code: 'NOT_WAITING', backend: 'tci' })]);
    const audited = (await stack.auditRecords()).filter((r) => r.kind === 'action' && r.action === 'approve').at(-1)!;
    expect(audited.inputs).toMatchObject({ comment: 'ok', inputs: { anything: 3 } });
  });
});
