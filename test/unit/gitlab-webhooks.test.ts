import { describe, expect, it } from 'vitest';
import type { WebhookRequest } from '../../src/adapter-contract.ts';
import { createWebhookHandler, deliveryIdOf, safeEqual, standardSignature } from '../../adapters/gitlab/webhooks.ts';
import { standardWebhookSignature } from '../../adapters/gitlab/simulator/index.ts';

const TOKEN = 'hook-token';
const SIGNING = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
const NOW = new Date('2025-06-01T12:00:00Z');
const nowSec = Math.floor(NOW.getTime() / 1000);
const body = JSON.stringify({ object_kind: 'build', build_id: 5, build_status: 'running', build_name: 'x', pipeline_id: 9, project_id: 3, project: { id: 3, path_with_namespace: 'platform/backend' }, runner: { id: 1 } });

function request(headers: Record<string, string | undefined>, raw = body): WebhookRequest {
  return { headers, rawBody: Buffer.from(raw) };
}
function signed(extra: Record<string, string> = {}, ts = nowSec, raw = body): Record<string, string> {
  return {
    'x-gitlab-event': 'Job Hook', 'x-gitlab-token': TOKEN, 'idempotency-key': 'idem-1', 'webhook-id': 'idem-1',
    'webhook-timestamp': String(ts), 'webhook-signature': standardSignature(SIGNING, 'idem-1', ts, raw), ...extra,
  };
}

describe('GitLab webhooks', () => {
  const handler = createWebhookHandler({ backend: 'gl', token: TOKEN, signingToken: SIGNING, now: () => NOW, covers: (_id, path) => path?.startsWith('platform/') ?? false });
  const tokenOnly = createWebhookHandler({ backend: 'gl', token: TOKEN, now: () => NOW, covers: () => true });

  it('should agree with the simulator on the Standard Webhooks signature', () => {
    expect(standardSignature(SIGNING, 'id', 123, 'payload')).toBe(standardWebhookSignature(SIGNING, 'id', 123, 'payload'));
  });

  it('should accept the right token (and signature) and reject everything else', () => {
    expect(tokenOnly.verify(request({ 'x-gitlab-token': TOKEN }))).toEqual({ ok: true });
    expect(tokenOnly.verify(request({ 'x-gitlab-token': 'nope' })).ok).toBe(false);
    expect(tokenOnly.verify(request({ 'x-gitlab-token': `${TOKEN}x` })).ok).toBe(false);
    expect(tokenOnly.verify(request({})).ok).toBe(false);
    expect(handler.verify(request(signed()))).toEqual({ ok: true });
    expect(handler.verify(request(signed({ 'x-gitlab-token': 'forged' })))).toMatchObject({ ok: false, reason: 'X-Gitlab-Token mismatch' });
    // Token right, signature missing or over another body.
    expect(handler.verify(request({ 'x-gitlab-token': TOKEN })).ok).toBe(false);
    expect(handler.verify(request(signed(), body.replace('running', 'success'))).ok).toBe(false);
    // Rotation: several entries, one valid.
    const multi = signed({ 'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')} ${signed()['webhook-signature']}` });
    expect(handler.verify(request(multi)).ok).toBe(true);
  });

  it('should enforce the ±5 minute replay window', () => {
    expect(handler.verify(request(signed({}, nowSec - 299))).ok).toBe(true);
    expect(handler.verify(request(signed({}, nowSec + 299))).ok).toBe(true);
    expect(handler.verify(request(signed({}, nowSec - 301)))).toMatchObject({ ok: false, reason: 'webhook-timestamp outside the replay window' });
    expect(handler.verify(request(signed({}, nowSec + 301))).ok).toBe(false);
    expect(handler.verify(request(signed({ 'webhook-timestamp': 'soon' }))).ok).toBe(false);
  });

  it('should dedupe by Idempotency-Key, then X-Gitlab-Event-UUID — never the per-attempt X-Gitlab-Webhook-UUID', () => {
    expect(deliveryIdOf(request({ 'idempotency-key': 'a', 'x-gitlab-event-uuid': 'b', 'x-gitlab-webhook-uuid': 'c' }))).toBe('a');
    expect(deliveryIdOf(request({ 'x-gitlab-event-uuid': 'b', 'x-gitlab-webhook-uuid': 'c' }))).toBe('b');
    expect(deliveryIdOf(request({ 'x-gitlab-webhook-uuid': 'c' }))).toBeUndefined();
  });

  it('should dedupe a signed delivery on its signed webhook-id, whatever unsigned Idempotency-Key comes with it', () => {
    expect(handler.deliveryId(request(signed({ 'idempotency-key': 'fresh-unsigned' })))).toBe('idem-1');
    expect(handler.deliveryId(request(signed({ 'x-gitlab-event-uuid': 'other' })))).toBe('idem-1');
    expect(tokenOnly.deliveryId(request({ 'idempotency-key': 'a', 'webhook-id': 'w' }))).toBe('a');
  });

  it('should normalize Job Hooks of covered projects only, and ignore other events', () => {
    const entities = handler.normalize(request(signed()), JSON.parse(body));
    expect(entities.map((e) => [e.type, e.nativeId])).toEqual([['Job', '3/jobs/5']]);
    const foreign = { ...JSON.parse(body), project: { id: 4, path_with_namespace: 'other/app' }, project_id: 4 };
    expect(handler.normalize(request(signed()), foreign)).toEqual([]);
    expect(handler.normalize(request({ 'x-gitlab-event': 'Push Hook' }), { object_kind: 'push' })).toEqual([]);
    expect(handler.normalize(request({ 'x-gitlab-event': 'Job Hook' }), { object_kind: 'build', project: { path_with_namespace: 'platform/x', id: 3 } })).toEqual([]);
    expect(handler.normalize(request({ 'x-gitlab-event': 'Job Hook' }), 'not an object')).toEqual([]);
  });

  it('should compare tokens in constant length', () => {
    expect(safeEqual('a', 'a')).toBe(true);
    expect(safeEqual('a', 'a'.repeat(1000))).toBe(false);
  });
});
