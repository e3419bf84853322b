import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/audit-record.ts';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';

/**
 * The only audits not `ok`: GETs without the custom header CSRF prevention
 * requires (a browser could send them cross-site without a preflight).
 */
const CSRF_GET_NOTICES = [
  'MAY accept application/x-www-form-urlencoded formatted GET requests',
  'MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/graphql-response+json',
  'MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/json',
];

/** The GraphQL-over-HTTP audit suite of the graphql-http package against the running gateway. */
describe('GraphQL over HTTP compliance (graphql-http serverAudits)', () => {
  let stack: Stack;
  let auditFile: string;
  const results: { name: string; status: string }[] = [];
  beforeAll(async () => {
    auditFile = join(mkdtempSync(join(tmpdir(), 'switchyard-http-audit-')), 'audit.jsonl');
    stack = await startStack({ sim: { repositories: ['api'], history: 1 }, config: { audit: { file: auditFile } } });
  });
  afterAll(async () => {
    const count = (s: string) => results.filter((r) => r.status === s).length;
    console.info(`graphql-http audits: ${count('ok')} ok, ${count('notice')} notice, ${count('warn')} warn, ${count('error')} error of ${results.length}`);
    await stack.close();
  });

  it('should pass every audit, with notices only for the 3 GET audits under CSRF prevention', async () => {
    for (const audit of serverAudits({ url: () => `${stack.base}/graphql`, fetchFn: fetch })) {
      const result = await audit.fn();
      results.push({ name: audit.name, status: result.status });
    }
    const notOk = results.filter((r) => r.status !== 'ok');
    expect(notOk, JSON.stringify(notOk)).toEqual(CSRF_GET_NOTICES.map((name) => ({ name, status: 'notice' })));
    expect(results.length).toBeGreaterThan(50);
  });

  it('should answer a non-string query with 400 and audit it as denied', async () => {
    const post = (body: string) => fetch(`${stack.base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' }, body });
    // Audit writes are asynchronous: a named operation before and after marks where this test's records are.
    const records = async (name: string) => {
      await post(JSON.stringify({ query: `query ${name} { backends { name } }` }));
      let all: AuditRecord[] = [];
      await waitFor(() => {
        all = readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
        return all.some((r) => r.kind === 'graphql' && r.operationName === name);
      }, 5000, `audit record of ${name}`);
      return all;
    };
    const before = (await records('Before')).length;
    const bodies = ['{"query":1}', '{"query":{}}', '{"query":["{ backends { name } }"]}', '{"query":true,"variables":"x","operationName":7}'];
    for (const body of bodies) {
      const res = await post(body);
      expect(res.status, body).toBe(400);
      expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('BAD_REQUEST');
    }
    const added = (await records('After')).slice(before, -1);
    expect(added.map((r) => (r.kind === 'graphql' ? [r.outcome, r.errorCodes, r.operationType] : r.kind))).toEqual(bodies.map(() => ['denied', ['BAD_REQUEST'], 'unknown']));
  });
});
