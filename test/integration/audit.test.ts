import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/audit-record.ts';
import { verifyAuditLog } from '../../src/audit/verify.ts';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { openRawSocket } from '../helpers/raw-ws.ts';
import { GITHUB_TOKEN, startStack, WEBHOOK_SECRET } from '../helpers/stack.ts';

describe('audit trail of a running gateway', () => {
  it('should record operations, auth failures and webhooks in a verifiable chain with no secrets', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'switchyard-audit-')), 'audit.jsonl');
    const { key, hash } = await createApiKey('auditor');
    const stack = await startStack({
      sim: { repositories: ['api'], history: 1 },
      config: {
        audit: { file },
        auth: { mode: 'required', apiKeys: [{ id: 'auditor', hash, scopes: [{ backends: ['*'] }] }] },
        limits: { maxDepth: 6 },
        rateLimit: { fields: { 'Query.backends': { max: 1, window: '1m' } } },
      },
    });
    const post = (query: string, variables: Record<string, unknown> = {}, auth = true) =>
      fetch(`${stack.base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
    try {
      await post('query Ok($token: ID!, $note: String) { backends { name } node(id: $token) { id } projects(filter: { search: $note }) { nodes { id } } }', { token: 'ghp_leakedsecret0123456789abcdef', note: 'hello' });
      await post('query Limited { backends { name } }');
      await post('{ pipelines { nodes { jobs { nodes { pipeline { jobs { nodes { name } } } } } } } }');
      await post('{ backends { name } }', {}, false);
      await fetch(`${stack.base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sy_wrong_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, body: '{"query":"{ backends { name } }"}' });
      const body = JSON.stringify({ zen: 'hi' });
      const sig = (secret: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
      for (const s of [WEBHOOK_SECRET, 'forged']) {
        await fetch(`${stack.base}/webhooks/gh`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'ping', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': sig(s) }, body });
      }
    } finally {
      await stack.close();
    }
    const text = readFileSync(file, 'utf8');
    const records = text.trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    const graphql = records.filter((r) => r.kind === 'graphql');
    expect(graphql.map((r) => (r.kind === 'graphql' ? [r.operationName, r.outcome] : null))).toEqual([
      ['Ok', 'ok'],
      ['Limited', 'limited'],
      [null, 'denied'],
    ]);
    const ok = graphql[0]!;
    expect(ok.kind === 'graphql' && ok.identity).toMatchObject({ id: 'key:auditor', kind: 'api-key' });
    expect(ok.kind === 'graphql' && ok.variables).toEqual({ token: '[redacted]', note: 'hello' });
    expect(records.filter((r) => r.kind === 'auth-failure').map((r) => (r.kind === 'auth-failure' ? r.credentialKind : null))).toEqual(['none', 'api-key']);
    expect(records.filter((r) => r.kind === 'webhook').map((r) => (r.kind === 'webhook' ? [r.verified, r.effect] : null))).toEqual([
      [true, 'ignored'],
      [false, 'rejected'],
    ]);
    const verdict = await verifyAuditLog(file);
    expect(verdict.ok).toBe(true);
    expect(verdict.records).toBe(records.length);
    for (const secret of [key, GITHUB_TOKEN, WEBHOOK_SECRET, 'ghp_leakedsecret0123456789abcdef', hash]) expect(text).not.toContain(secret);
  });

  it('should record the remote address of WebSocket authentication failures', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'switchyard-audit-')), 'audit.jsonl');
    const { hash } = await createApiKey('auditor');
    const stack = await startStack({
      sim: { repositories: ['api'], history: 1 },
      config: { audit: { file }, auth: { mode: 'required', apiKeys: [{ id: 'auditor', hash, scopes: [{ backends: ['*'] }] }] } },
    });
    try {
      // From a second loopback address, so the record cannot be right by accident.
      const c = await openRawSocket(`${stack.base.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', { localAddress: '127.0.0.2' });
      c.send({ type: 'connection_init', payload: { authorization: 'Bearer sy_wrong_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } });
      expect((await c.closing).code).toBe(4403);
    } finally {
      await stack.close();
    }
    const records = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    const failures = records.filter((r) => r.kind === 'auth-failure');
    expect(failures).toEqual([expect.objectContaining({ transport: 'ws', credentialKind: 'api-key', remoteAddress: '127.0.0.2' })]);
  });

  it('should raise an alarm (log error, audit record, /readyz flag) when restarted on a truncated keyed log', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'switchyard-audit-')), 'audit.jsonl');
    const env = { SWITCHYARD_AUDIT_KEY: 'k'.repeat(40) };
    const config = { audit: { file, hmacKey: { env: 'SWITCHYARD_AUDIT_KEY' } } };
    const first = await startStack({ sim: { repositories: ['api'], history: 1 }, config, env });
    try {
      for (let i = 0; i < 5; i++) await fetch(`${first.base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ backends { name } }"}' });
      expect(await (await fetch(`${first.base}/readyz`)).json()).toMatchObject({ audit: 'ok' });
    } finally {
      await first.close();
    }
    expect(await verifyAuditLog(file, { hmacKey: env.SWITCHYARD_AUDIT_KEY })).toMatchObject({ ok: true });
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    writeFileSync(file, lines.slice(0, -2).join('\n') + '\n');

    const logs: string[] = [];
    const second = await startStack({ sim: { repositories: ['api'], history: 1 }, config, env, logSink: (line) => logs.push(line) });
    try {
      expect(await (await fetch(`${second.base}/readyz`)).json()).toMatchObject({ status: 'ready', audit: 'integrity-alarm' });
      expect(logs.some((l) => l.includes('audit log integrity alarm') && l.includes('truncated'))).toBe(true);
    } finally {
      await second.close();
    }
    const records = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    expect(records[lines.length - 2]).toMatchObject({ kind: 'audit-integrity', fileSeq: lines.length - 2, headSeq: lines.length });
    expect((await verifyAuditLog(file, { hmacKey: env.SWITCHYARD_AUDIT_KEY })).ok).toBe(false);
  });

  it('should refuse to start with an audit key that is unset or short, naming audit.hmacKey', async () => {
    const config = (file: string) => ({ audit: { file, hmacKey: { env: 'SWITCHYARD_AUDIT_KEY' } } });
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-audit-'));
    await expect(startStack({ sim: { repositories: ['api'], history: 1 }, config: config(join(dir, 'a.jsonl')), env: {} })).rejects.toThrow(/audit\.hmacKey: environment variable SWITCHYARD_AUDIT_KEY is not set/);
    await expect(startStack({ sim: { repositories: ['api'], history: 1 }, config: config(join(dir, 'b.jsonl')), env: { SWITCHYARD_AUDIT_KEY: 'short' } })).rejects.toThrow(/audit\.hmacKey: .* at least 32/);
  });
});
