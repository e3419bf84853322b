import { describe, expect, it } from 'vitest';
import { createWebhookHandler, signatureOf, verifySignature } from '../../adapters/github/webhooks.ts';
import type { WebhookRequest } from '../../src/adapter-contract.ts';

const req = (body: string, headers: Record<string, string | undefined>): WebhookRequest => ({ headers, rawBody: Buffer.from(body, 'utf8') });

describe('github webhook signature', () => {
  // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
  const SECRET = "It's a Secret to Everybody";
  const BODY = 'Hello, World!';
  const SIG = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

  it('matches the documented test vector', () => {
    expect(signatureOf(SECRET, BODY)).toBe(SIG);
    expect(verifySignature([SECRET], req(BODY, { 'x-hub-signature-256': SIG }))).toEqual({ ok: true });
    expect(verifySignature([SECRET], req(BODY, { 'x-hub-signature-256': SIG.toUpperCase().replace('SHA256=', 'sha256=') }))).toEqual({ ok: true });
  });

  it('rejects a forged signature and a changed body', () => {
    const forged = `sha256=${'0'.repeat(64)}`;
    expect(verifySignature([SECRET], req(BODY, { 'x-hub-signature-256': forged }))).toEqual({ ok: false, reason: 'signature mismatch' });
    expect(verifySignature([SECRET], req(`${BODY} `, { 'x-hub-signature-256': SIG })).ok).toBe(false);
    expect(verifySignature(['another secret'], req(BODY, { 'x-hub-signature-256': SIG })).ok).toBe(false);
  });

  it('rejects a missing header', () => {
    expect(verifySignature([SECRET], req(BODY, {}))).toEqual({ ok: false, reason: 'missing X-Hub-Signature-256' });
    expect(verifySignature([SECRET], req(BODY, { 'x-hub-signature-256': '' }))).toEqual({ ok: false, reason: 'missing X-Hub-Signature-256' });
  });

  it('rejects wrong lengths and formats without throwing', () => {
    for (const bad of [SIG.slice(0, -2), `${SIG}00`, 'sha256=', 'sha1=757107ea0eb2509fc211221cce984b8a37570b6d', SIG.slice('sha256='.length), `sha256=${'z'.repeat(64)}`]) {
      expect(verifySignature([SECRET], req(BODY, { 'x-hub-signature-256': bad }))).toEqual({ ok: false, reason: 'malformed X-Hub-Signature-256' });
    }
  });

  it('accepts any configured secret during a rotation', () => {
    const handler = createWebhookHandler({ backend: 'gh', secrets: ['new secret', SECRET], covers: () => true });
    expect(handler.verify(req(BODY, { 'x-hub-signature-256': SIG }))).toEqual({ ok: true });
    expect(handler.verify(req(BODY, { 'x-hub-signature-256': signatureOf('new secret', BODY) }))).toEqual({ ok: true });
    expect(handler.verify(req(BODY, { 'x-hub-signature-256': signatureOf('old, removed', BODY) })).ok).toBe(false);
  });

  it('uses X-GitHub-Delivery as the delivery id', () => {
    const handler = createWebhookHandler({ backend: 'gh', secrets: [SECRET], covers: () => true });
    expect(handler.deliveryId(req(BODY, { 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' }))).toBe('72d3162e-cc78-11e3-81ab-4c9367dc0958');
    expect(handler.deliveryId(req(BODY, {}))).toBeUndefined();
  });

  it('normalizes by the x-github-event header', () => {
    const handler = createWebhookHandler({ backend: 'gh', secrets: [SECRET], covers: (id) => id === 'o/r' });
    const payload = { repository: { full_name: 'O/R' }, workflow_run: { id: 5, status: 'in_progress', created_at: '2024-01-01T00:00:00Z' } };
    expect(handler.normalize(req('', { 'x-github-event': 'workflow_run' }), payload)).toMatchObject([{ type: 'Pipeline', nativeId: 'o/r/runs/5', status: 'RUNNING' }]);
    expect(handler.normalize(req('', { 'x-github-event': 'workflow_job' }), payload)).toEqual([]);
    expect(handler.normalize(req('', { 'x-github-event': 'ping' }), { zen: 'hi' })).toEqual([]);
    expect(handler.normalize(req('', { 'x-github-event': 'workflow_run' }), { ...payload, repository: { full_name: 'other/repo' } })).toEqual([]);
  });
});
