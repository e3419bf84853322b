import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { AdapterContext, WebhookHandler, WebhookRequest } from '../../src/adapter-contract.ts';
import { adapterFactories } from '../../src/adapters.ts';
import { createSecretResolver } from '../../src/config/secret.ts';
import { BackendHealth } from '../../src/health.ts';

/**
 * Forgery resistance of every provider's webhook verification: starting from
 * one valid delivery, fast-check mutates body bytes and headers; a mutation
 * that changes anything the provider authenticates must never verify.
 */
const NOW = new Date('2026-11-24T15:00:00Z');
const tally: Record<string, { tried: number; accepted: number }> = {};

function handlerFor(provider: 'github' | 'gitlab' | 'jenkins', options: Record<string, unknown>): WebhookHandler {
  const factory = adapterFactories[provider]!;
  const ctx: AdapterContext = {
    name: provider, log: pino({ level: 'silent' }), health: new BackendHealth(() => NOW), now: () => NOW, secret: createSecretResolver({}),
  };
  const parsed = factory.configSchema.parse(options);
  const adapter = factory.create(parsed, ctx);
  if (!adapter.webhook) throw new Error(`${provider}: webhooks not enabled`);
  return adapter.webhook;
}

interface Case {
  readonly provider: 'github' | 'gitlab' | 'jenkins';
  readonly handler: WebhookHandler;
  readonly valid: WebhookRequest;
  /** Headers whose value authenticates the delivery. */
  readonly authHeaders: readonly string[];
}

const body = JSON.stringify({ action: 'completed', object_kind: 'build', build_id: 42, name: 'svc', build: { number: 7, phase: 'COMPLETED' } });

const GITHUB_SECRET = 'gh-secret';
const GITLAB_TOKEN = 'gl-token';
const GITLAB_SIGNING = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
const JENKINS_SECRET = 'jk-secret';

function gitlabSignature(id: string, ts: string, raw: string): string {
  const key = Buffer.from(GITLAB_SIGNING.slice('whsec_'.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${ts}.${raw}`).digest('base64')}`;
}

const ts = String(Math.floor(NOW.getTime() / 1000));
const cases: Case[] = [
  {
    provider: 'github',
    handler: handlerFor('github', { token: { value: 't' }, webhookSecret: { value: GITHUB_SECRET }, repositories: ['o/r'] }),
    valid: {
      headers: { 'x-github-event': 'workflow_job', 'x-github-delivery': 'd-1', 'x-hub-signature-256': `sha256=${createHmac('sha256', GITHUB_SECRET).update(body).digest('hex')}` },
      rawBody: Buffer.from(body),
    },
    authHeaders: ['x-hub-signature-256'],
  },
  {
    provider: 'gitlab',
    handler: handlerFor('gitlab', { token: { value: 't' }, webhookToken: { value: GITLAB_TOKEN }, webhookSigningToken: { value: GITLAB_SIGNING }, projects: ['g/p'] }),
    valid: {
      headers: {
        'x-gitlab-event': 'Job Hook', 'x-gitlab-token': GITLAB_TOKEN, 'idempotency-key': 'k-1',
        'webhook-id': 'k-1', 'webhook-timestamp': ts, 'webhook-signature': gitlabSignature('k-1', ts, body),
      },
      rawBody: Buffer.from(body),
    },
    authHeaders: ['x-gitlab-token', 'webhook-id', 'webhook-timestamp', 'webhook-signature'],
  },
  {
    provider: 'jenkins',
    handler: handlerFor('jenkins', { url: 'http://127.0.0.1:9', user: 'u', apiToken: { value: 't' }, notifySecret: { value: JENKINS_SECRET } }),
    valid: { headers: { 'x-switchyard-token': JENKINS_SECRET }, rawBody: Buffer.from(body) },
    // Jenkins' plugin signs nothing: only the shared secret authenticates (the body is confirmed upstream).
    authHeaders: ['x-switchyard-token'],
  },
];

const headerMutation = (names: readonly string[]) =>
  fc.record({
    name: fc.constantFrom(...names),
    kind: fc.constantFrom('drop', 'flip', 'append', 'truncate', 'replace'),
    at: fc.nat(),
    text: fc.string({ minLength: 1, maxLength: 12 }),
  });

function mutateHeader(value: string, m: { kind: string; at: number; text: string }): string | undefined {
  const i = value.length === 0 ? 0 : m.at % value.length;
  switch (m.kind) {
    case 'drop':
      return undefined;
    case 'flip':
      return value.slice(0, i) + String.fromCharCode(((value.charCodeAt(i) || 65) ^ 1) & 0x7f || 66) + value.slice(i + 1);
    case 'append':
      return value + m.text;
    case 'truncate':
      return value.slice(0, i);
    default:
      return m.text;
  }
}

/**
 * Changes that keep the authenticated value are not forgeries: surrounding
 * whitespace, hex case in GitHub's signature, and (Standard Webhooks) a
 * signature list that still holds the original valid entry among others.
 */
function sameCredential(name: string, original: string, next: string | undefined): boolean {
  if (next === undefined) return false;
  if (name === 'webhook-signature') return next.split(/\s+/).includes(original);
  if (name === 'x-hub-signature-256') return next.trim().toLowerCase() === original.toLowerCase();
  return next.trim() === original;
}

describe.each(cases)('webhook forgery: $provider', ({ provider, handler, valid, authHeaders }) => {
  const t = (tally[provider] = { tried: 0, accepted: 0 });

  it('should accept the valid delivery', () => {
    expect(handler.verify(valid)).toEqual({ ok: true });
  });

  it('should accept no mutated authentication header (fast-check)', () => {
    fc.assert(
      fc.property(headerMutation(authHeaders), (m) => {
        const original = valid.headers[m.name] ?? '';
        const next = mutateHeader(original, m);
        if (sameCredential(m.name, original, next)) return;
        const headers = { ...valid.headers, [m.name]: next };
        t.tried++;
        const verdict = handler.verify({ ...valid, headers });
        if (verdict.ok) t.accepted++;
        expect(verdict.ok).toBe(false);
      }),
      // 10,000 mutations per provider (§6 row 6): Jenkins signs no body, so all go to its header.
      { numRuns: provider === 'jenkins' ? 10_000 : 5_000 },
    );
  });

  if (provider !== 'jenkins') {
    it('should accept no mutated body (fast-check)', () => {
      fc.assert(
        fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), (pos, xor) => {
          const raw = Buffer.from(valid.rawBody);
          raw[pos % raw.length]! ^= xor;
          t.tried++;
          const verdict = handler.verify({ ...valid, rawBody: raw });
          if (verdict.ok) t.accepted++;
          expect(verdict.ok).toBe(false);
        }),
        { numRuns: 5_000 },
      );
    });
  }
});

afterAll(() => {
  console.info(`webhook forgery: ${Object.entries(tally).map(([p, c]) => `${p} ${c.accepted}/${c.tried} accepted`).join(', ')}`);
});
