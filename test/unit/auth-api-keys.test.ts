import crypto from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createApiKey, createApiKeyVerifier, hashApiKey, parseApiKey, verifyApiKey, type ConfiguredApiKey,
} from '../../src/auth/api-keys.ts';
import { apiKeyEntrySchema, authConfigSchema } from '../../src/auth/auth-config.ts';
import { isAuthError, type AuthError, type Identity } from '../../src/auth/types.ts';

const NOW = new Date('2026-03-01T12:00:00Z');

function expectError(r: Identity | AuthError, code: AuthError['code']): void {
  expect(isAuthError(r)).toBe(true);
  const e = r as AuthError;
  expect(e.code).toBe(code);
  expect(e.message).toBe('Invalid credentials');
  expect(e.status).toBe(401);
}

describe('API keys', async () => {
  const bot = await createApiKey('ci-bot');
  const other = await createApiKey('other');
  const keys: ConfiguredApiKey[] = [
    { id: 'ci-bot', hash: bot.hash, scopes: [{ backends: ['github-main'], projects: ['octo-org/*'] }] },
    { id: 'other', hash: other.hash, scopes: { backends: ['*'] }, revoked: true },
  ];

  afterEach(() => vi.restoreAllMocks());

  it('should create sy_<id>_<43 base64url chars> keys and scrypt hashes the config accepts', async () => {
    expect(bot.key).toMatch(/^sy_ci-bot_[A-Za-z0-9_-]{43}$/);
    expect(bot.hash).toMatch(/^scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(bot.hash).not.toContain(bot.key.slice(10));
    expect(parseApiKey(bot.key)).toEqual({ id: 'ci-bot', secret: bot.key.slice('sy_ci-bot_'.length) });
    expect(apiKeyEntrySchema.safeParse({ id: 'ci-bot', hash: bot.hash, scopes: { backends: ['*'] } }).success).toBe(true);
    await expect(createApiKey('Bad_Id')).rejects.toThrow(/key id/);
  });

  it('should verify a valid key into an identity with its scope', async () => {
    const r = await verifyApiKey(bot.key, keys, NOW);
    expect(isAuthError(r)).toBe(false);
    const id = r as Identity;
    expect(id).toMatchObject({ id: 'key:ci-bot', kind: 'api-key', subject: 'ci-bot', expiresAt: null });
    expect(id.scope.allowsProject('github-main', 'octo-org/api')).toBe(true);
    expect(id.scope.allowsProject('github-main', 'evil/api')).toBe(false);
    expect(id.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(id)).not.toContain(bot.key);
    expect(id.isRevoked?.()).toBe(false);
  });

  it('should refuse wrong, unknown, malformed, revoked and expired keys with one public message', async () => {
    const tampered = bot.key.slice(0, -1) + (bot.key.endsWith('A') ? 'B' : 'A');
    expectError(await verifyApiKey(tampered, keys, NOW), 'INVALID_CREDENTIALS');
    expectError(await verifyApiKey(bot.key.replace('sy_ci-bot_', 'sy_nobody_'), keys, NOW), 'INVALID_CREDENTIALS');
    // A valid secret presented under another key's id.
    expectError(await verifyApiKey(bot.key.replace('sy_ci-bot_', 'sy_other_'), keys, NOW), 'INVALID_CREDENTIALS');
    for (const junk of ['', 'sy_', 'sy_ci-bot', 'sy_ci-bot_short', `sy_CI_${'a'.repeat(43)}`, `sy_ci-bot_${'a'.repeat(44)}`, 'x'.repeat(10_000)]) {
      expectError(await verifyApiKey(junk, keys, NOW), 'MALFORMED_CREDENTIALS');
    }
    expectError(await verifyApiKey(other.key, keys, NOW), 'KEY_REVOKED');
    const expiring: ConfiguredApiKey[] = [{ ...keys[0]!, expiresAt: '2026-03-01T12:00:00Z' }];
    expectError(await verifyApiKey(bot.key, expiring, NOW), 'KEY_EXPIRED');
    const ok = await verifyApiKey(bot.key, expiring, new Date('2026-03-01T11:59:59Z'));
    expect((ok as Identity).expiresAt?.toISOString()).toBe('2026-03-01T12:00:00.000Z');
  });

  it('should compare in constant time, also for unknown ids', async () => {
    const spy = vi.spyOn(crypto, 'timingSafeEqual');
    const verifier = createApiKeyVerifier();
    await verifier.verify(bot.key.slice(0, -2) + 'zz', keys, NOW);
    expect(spy).toHaveBeenCalledTimes(1);
    await verifier.verify(bot.key.replace('sy_ci-bot_', 'sy_ghost_'), keys, NOW);
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it('should cache verified keys so repeat requests skip scrypt, bound to the configured hash', async () => {
    const verifier = createApiKeyVerifier({ cacheSize: 2 });
    const scrypt = vi.spyOn(crypto, 'scrypt');
    await verifier.verify(bot.key, keys, NOW);
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) expect(isAuthError(await verifier.verify(bot.key, keys, NOW))).toBe(false);
    const perCall = (performance.now() - t0) / 200;
    expect(scrypt).toHaveBeenCalledTimes(1);
    expect(verifier.stats).toEqual({ hits: 200, failedHits: 0, misses: 1 });
    expect(perCall).toBeLessThan(2);
    // Re-hashed (rotated) in config: the cached verification no longer applies.
    const rotated: ConfiguredApiKey[] = [{ ...keys[0]!, hash: await hashApiKey('sy_ci-bot_' + 'b'.repeat(43)) }];
    expectError(await verifier.verify(bot.key, rotated, NOW), 'INVALID_CREDENTIALS');
    // Revoked in config: refused even though the secret is cached.
    expectError(await verifier.verify(bot.key, [{ ...keys[0]!, revoked: true }], NOW), 'KEY_REVOKED');
  });

  it('should report revocation to live identities after a config reload', async () => {
    let current: readonly ConfiguredApiKey[] = keys;
    const verifier = createApiKeyVerifier({ currentKeys: () => current });
    const id = (await verifier.verify(bot.key, current, NOW)) as Identity;
    expect(id.isRevoked?.()).toBe(false);
    current = [{ ...keys[0]!, revoked: true }];
    expect(id.isRevoked?.()).toBe(true);
    current = [];
    expect(id.isRevoked?.()).toBe(true);
  });

  it('should end live identities whose grant changed in a reload, and only those', async () => {
    let current: readonly ConfiguredApiKey[] = keys;
    const verifier = createApiKeyVerifier({ currentKeys: () => current });
    const id = (await verifier.verify(bot.key, current, NOW)) as Identity;
    current = keys.map((k) => ({ ...k, scopes: structuredClone(k.scopes) }));
    expect(id.isRevoked?.()).toBe(false);
    current = [{ ...keys[0]!, scopes: [{ backends: ['gh'], projects: ['octo-org/api'] }] }];
    expect(id.isRevoked?.()).toBe(true);
    current = [{ ...keys[0]!, expiresAt: '2099-01-01T00:00:00Z' }];
    expect(id.isRevoked?.()).toBe(true);
  });
});

describe('auth config', () => {
  const hash = `scrypt$${'A'.repeat(22)}$${'B'.repeat(43)}`;
  it('should default to required mode with no keys', () => {
    expect(authConfigSchema.parse({})).toMatchObject({ mode: 'required', apiKeys: [] });
  });
  it('should accept single grants and lists, and normalize them to lists', () => {
    const c = authConfigSchema.parse({ apiKeys: [{ id: 'a', hash, scopes: { backends: ['gh'], projects: ['org/*'] } }, { id: 'b', hash, scopes: [{ backends: ['*'] }, { backends: ['x'], runners: true }] }] });
    expect(c.apiKeys[0]!.scopes).toEqual([{ backends: ['gh'], projects: ['org/*'] }]);
    expect(c.apiKeys[1]!.scopes).toHaveLength(2);
    expect(c.apiKeys[0]!.revoked).toBe(false);
  });
  it('should reject bad ids, hashes, patterns, duplicate ids, unknown keys and JWT misconfiguration', () => {
    const bad = [
      { apiKeys: [{ id: 'A_b', hash, scopes: { backends: ['*'] } }] },
      { apiKeys: [{ id: 'a', hash: 'sha1$x', scopes: { backends: ['*'] } }] },
      { apiKeys: [{ id: 'a', hash, scopes: { backends: ['*'], projects: ['org//x'] } }] },
      { apiKeys: [{ id: 'a', hash, scopes: { backends: [] } }] },
      { apiKeys: [{ id: 'a', hash, scopes: { backends: ['*'] } }, { id: 'a', hash, scopes: { backends: ['*'] } }] },
      { apiKeys: [{ id: 'a', hash, scopes: { backends: ['*'] }, key: 'sy_a_x' }] },
      { mode: 'off' },
      { jwt: { issuer: 'i', audience: 'a' } },
      { jwt: { issuer: 'i', audience: 'a', jwksUrl: 'http://idp.example.com/jwks' } },
      { jwt: { issuer: 'i', audience: 'a', jwksUrl: 'https://idp/jwks', publicKey: 'pem' } },
      { jwt: { issuer: 'i', audience: 'a', jwksUrl: 'https://idp/jwks', algorithms: ['HS256'] } },
      { jwt: { issuer: 'i', audience: 'a', jwksUrl: 'https://idp/jwks', algorithms: ['none'] } },
    ];
    for (const b of bad) expect(authConfigSchema.safeParse(b).success, JSON.stringify(b)).toBe(false);
    const jwt = authConfigSchema.parse({ jwt: { issuer: 'i', audience: 'a', jwksUrl: 'http://127.0.0.1:9/jwks' } }).jwt!;
    expect(jwt).toMatchObject({ audience: ['a'], clockToleranceSeconds: 30, scopesClaim: 'switchyard_scopes', subjectClaim: 'sub' });
  });
});
