import { describe, expect, it } from 'vitest';
import { basicAuthSecret, createWebhookHandler, pushTarget, verifyToken } from '../../adapters/jenkins/webhooks.ts';
import type { WebhookRequest } from '../../src/adapter-contract.ts';
import type { EntityModel } from '../../src/model.ts';

const SECRET = 'notify-secret';

/** Notification plugin JSON (jenkinsci/notification-plugin JobState/BuildState; snake_case, nulls omitted). */
const push = {
  name: 'lint',
  display_name: 'lint',
  url: 'job/team-a/job/lint/',
  build: { full_url: 'https://ci.example.com/job/team-a/job/lint/41/', number: 41, queue_id: 900, phase: 'COMPLETED', status: 'SUCCESS', url: 'job/team-a/job/lint/41/', scm: { commit: 'abc' } },
};

const req = (headers: Record<string, string>, body: unknown = push, query?: Record<string, string>): WebhookRequest => ({
  headers, rawBody: Buffer.from(JSON.stringify(body)), ...(query ? { query } : {}),
});

describe('jenkins webhooks: verify', () => {
  it('accepts the shared secret as header or URL token', () => {
    expect(verifyToken(SECRET, req({ 'x-switchyard-token': SECRET }))).toEqual({ ok: true });
    expect(verifyToken(SECRET, req({}, push, { token: SECRET }))).toEqual({ ok: true });
  });

  /** What the Notification plugin sends for an endpoint URL with userinfo: Basic base64(userinfo as written). */
  const basic = (userInfo: string) => ({ authorization: `Basic ${Buffer.from(userInfo).toString('base64')}` });

  it('accepts the secret as URL userinfo (Authorization: Basic): the password, or the user when there is none', () => {
    expect(verifyToken(SECRET, req(basic(`jenkins:${SECRET}`)))).toEqual({ ok: true });
    expect(verifyToken(SECRET, req(basic(SECRET)))).toEqual({ ok: true });
    expect(verifyToken(SECRET, req(basic(`${SECRET}:`)))).toEqual({ ok: true });
    // percent-encoded in the URL, sent encoded by the plugin
    expect(verifyToken('p@ss:w/rd', req(basic(`jenkins:${encodeURIComponent('p@ss:w/rd')}`)))).toEqual({ ok: true });
    expect(basicAuthSecret('Basic %%%')).toBeUndefined();
    expect(basicAuthSecret(`Bearer ${SECRET}`)).toBeUndefined();
  });

  it.each([
    [{}, undefined, /missing/],
    [{ 'x-switchyard-token': '' }, undefined, /missing/],
    [{ 'x-switchyard-token': 'wrong' }, undefined, /mismatch/],
    [{ 'x-switchyard-token': `${SECRET}x` }, undefined, /mismatch/],
    [{}, { token: 'wrong' }, /mismatch/],
    [{ authorization: `Basic ${Buffer.from('jenkins:wrong').toString('base64')}` }, undefined, /mismatch/],
    [{ authorization: `Basic ${Buffer.from(`${SECRET}:wrong`).toString('base64')}` }, undefined, /mismatch/],
    [{ authorization: `Basic ${Buffer.from('jenkins:').toString('base64')}` }, undefined, /mismatch/],
    [{ authorization: `Bearer ${SECRET}` }, undefined, /missing/],
  ])('rejects %j %j', (headers, query, reason) => {
    const r = verifyToken(SECRET, req(headers as Record<string, string>, push, query));
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.reason).toMatch(reason);
  });
});

describe('jenkins webhooks: hints', () => {
  it('names the build from its URL, and builds a stable delivery id', () => {
    expect(pushTarget(push)).toEqual({ fullName: 'team-a/lint', number: 41, phase: 'COMPLETED', queueId: 900 });
    expect(pushTarget({ name: 'solo', build: { number: 3, phase: 'STARTED' } })).toEqual({ fullName: 'solo', number: 3, phase: 'STARTED', queueId: null });
    expect(pushTarget({ name: 'x' })).toBeNull();
    expect(pushTarget({ build: { url: 'job/a/5/', number: 6 } })).toBeNull();
    const h = createWebhookHandler({ secret: SECRET, source: { covers: () => true, load: async () => null } });
    expect(h.deliveryId(req({}))).toBe('team-a/lint#41#COMPLETED');
    expect(h.normalize(req({}), push)).toEqual([]);
  });

  it('publishes only what the API confirms', async () => {
    const pipeline = { type: 'Pipeline', nativeId: 'team-a/lint#41' } as unknown as EntityModel;
    const loads: string[] = [];
    const h = createWebhookHandler({
      secret: SECRET,
      source: {
        covers: (n) => n.startsWith('team-a/'),
        load: async (fullName, number) => {
          loads.push(`${fullName}#${number}`);
          return fullName === 'team-a/lint' && number === 41 ? { entities: [pipeline], queueId: 900 } : null;
        },
      },
    });
    expect(await h.confirm!(req({}), push)).toEqual([pipeline]);
    // Unknown build (404).
    expect(await h.confirm!(req({}), { ...push, build: { ...push.build, number: 99, url: 'job/team-a/job/lint/99/' } })).toEqual([]);
    // Another build's queue id: not this build.
    expect(await h.confirm!(req({}), { ...push, build: { ...push.build, queue_id: 1 } })).toEqual([]);
    // Outside this backend's roots: not even read.
    expect(await h.confirm!(req({}), { ...push, url: 'job/other/', build: { number: 1, url: 'job/other/1/' } })).toEqual([]);
    expect(loads).toEqual(['team-a/lint#41', 'team-a/lint#99', 'team-a/lint#41']);
  });
});
