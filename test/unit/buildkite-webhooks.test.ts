import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signatureHeader as simSignature } from '../../adapters/buildkite/simulator/index.ts';
import { createWebhookHandler, parseSignatureHeader, signatureHeader } from '../../adapters/buildkite/webhooks.ts';
import { restBuild, restJob } from '../../adapters/buildkite/testing.ts';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const SECRET = 'the-webhook-secret';
const now = () => new Date(NOW);
const signed = createWebhookHandler({ backend: 'bk', secret: SECRET, now, inScope: (s) => s === 'web' });
const tokened = createWebhookHandler({ backend: 'bk', token: SECRET, now, inScope: () => true });

const body = (payload: unknown) => Buffer.from(JSON.stringify(payload));
const jobEvent = (state: string, atMs = NOW) => ({ event: `job.${state === 'running' ? 'started' : 'finished'}`, job: restJob(state, atMs), build: restBuild('running', atMs), pipeline: { slug: 'web', name: 'Web' } });
const sign = (raw: Buffer, atSec = Math.floor(NOW / 1000), secret = SECRET) => ({
  rawBody: raw, headers: { 'x-buildkite-event': 'job.started', 'x-buildkite-signature': signatureHeader(secret, atSec, raw) },
});

describe('Buildkite webhook verification', () => {
  it('should sign exactly as the simulator (Buildkite) does', () => {
    const raw = body(jobEvent('running'));
    expect(signatureHeader(SECRET, 1_700_000_000, raw)).toBe(simSignature(SECRET, 1_700_000_000, raw.toString()));
  });

  it('should parse the header as k=v pairs in any order', () => {
    expect(parseSignatureHeader('signature=ab,timestamp=12')).toEqual({ timestamp: '12', signature: 'ab' });
    expect(parseSignatureHeader('timestamp=12')).toBeNull();
    expect(parseSignatureHeader(undefined)).toBeNull();
  });

  it('should refuse a wrong secret, a changed body, a missing header and a stale timestamp', () => {
    const raw = body(jobEvent('running'));
    expect(signed.verify(sign(raw))).toEqual({ ok: true });
    expect(signed.verify(sign(raw, undefined, 'guess')).ok).toBe(false);
    expect(signed.verify({ ...sign(raw), rawBody: body({ ...jobEvent('running'), event: 'job.finished' }) }).ok).toBe(false);
    expect(signed.verify({ rawBody: raw, headers: {} }).ok).toBe(false);
    expect(signed.verify(sign(raw, Math.floor(NOW / 1000) - 6 * 60)).ok).toBe(false);
    expect(signed.verify(sign(raw, Math.floor(NOW / 1000) + 6 * 60)).ok).toBe(false);
    // A valid signature in token mode's header does not count, nor a token in signature mode.
    expect(signed.verify({ rawBody: raw, headers: { 'x-buildkite-token': SECRET } }).ok).toBe(false);
  });

  it('should accept exactly the token in token mode (property: any other string is refused)', () => {
    expect(tokened.verify({ rawBody: Buffer.from('{}'), headers: { 'x-buildkite-token': SECRET } })).toEqual({ ok: true });
    fc.assert(fc.property(fc.string(), (guess) => {
      fc.pre(guess !== SECRET);
      expect(tokened.verify({ rawBody: Buffer.from('{}'), headers: { 'x-buildkite-token': guess } }).ok).toBe(false);
    }));
  });

  it('should refuse any flipped byte of a signed body (property)', () => {
    const raw = body(jobEvent('running'));
    fc.assert(fc.property(fc.integer({ min: 0, max: raw.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, xor) => {
      const changed = Buffer.from(raw);
      changed[at] = changed[at]! ^ xor;
      expect(signed.verify({ ...sign(raw), rawBody: changed }).ok).toBe(false);
    }));
  });
});

describe('Buildkite webhook delivery ids and payloads', () => {
  it('should give a redelivery (same content, later send time) the same id, and a new state a new one', () => {
    const raw = body(jobEvent('running'));
    const first = signed.deliveryId(sign(raw));
    expect(signed.deliveryId(sign(raw, Math.floor(NOW / 1000) + 90))).toBe(first);
    expect(signed.deliveryId(sign(body(jobEvent('passed'))))).not.toBe(first);
    expect(signed.deliveryId(sign(body(jobEvent('running', NOW + 1000))))).not.toBe(first);
  });

  it('should publish the build and the job of a job event, and nothing outside the configured pipelines', () => {
    const entities = signed.normalize(sign(body(jobEvent('running'))), jobEvent('running'));
    expect(entities.map((e) => `${e.type}:${e.nativeId}`)).toEqual(['Pipeline:web/42', `Job:web/42/${restJob('running', NOW).id as string}`]);
    const foreign = { ...jobEvent('running'), pipeline: { slug: 'other' }, build: restBuild('running', NOW, { url: 'https://api.buildkite.com/v2/organizations/acme/pipelines/other/builds/1' }) };
    expect(signed.normalize(sign(body(foreign)), foreign)).toEqual([]);
  });

  it('should turn agent events into runners and ignore ping', () => {
    const agent = { event: 'agent.lost', agent: { id: 'a1', name: 'ci-1', connection_state: 'lost', meta_data: [] } };
    expect(signed.normalize(sign(body(agent)), agent)).toMatchObject([{ type: 'Runner', state: 'OFFLINE', revision: [NOW] }]);
    expect(signed.normalize(sign(body({ event: 'ping' })), { event: 'ping' })).toEqual([]);
  });
});
