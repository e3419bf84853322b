import { SignJWT, exportSPKI, generateKeyPair } from 'jose';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { authConfigSchema, describeAuthPosture, unknownScopeBackends } from '../../src/auth/auth-config.ts';
import { anonymousIdentity, createAuthenticator } from '../../src/auth/authenticate.ts';
import { isRevokedOrExpired } from '../../src/auth/scope.ts';
import { isAuthError, type AuthError, type Identity } from '../../src/auth/types.ts';
import { runKeysCli } from '../../src/cli/keys.ts';

const NOW = new Date('2026-05-01T10:00:00Z');
const nowS = Math.floor(NOW.getTime() / 1000);
const code = (r: Identity | AuthError): string => (isAuthError(r) ? r.code : `OK ${r.id}`);

describe('authenticator', async () => {
  const rsa = await generateKeyPair('RS256');
  const pem = await exportSPKI(rsa.publicKey);
  const bot = await createApiKey('ci-bot');
  const config = authConfigSchema.parse({
    apiKeys: [{ id: 'ci-bot', hash: bot.hash, scopes: { backends: ['github-main'] } }],
    jwt: { issuer: 'https://idp/', audience: 'switchyard', publicKey: pem },
  });
  const jwt = (exp = nowS + 60) => new SignJWT({ switchyard_scopes: 'jenkins' }).setProtectedHeader({ alg: 'RS256' }).setIssuer('https://idp/').setAudience('switchyard').setSubject('alice').setExpirationTime(exp).sign(rsa.privateKey);

  it('should accept API keys as Bearer or X-Api-Key and JWTs as Bearer', async () => {
    const auth = await createAuthenticator(config, { now: () => NOW });
    expect(auth.mode).toBe('required');
    expect(code(await auth.authenticate({ authorization: `Bearer ${bot.key}` }))).toBe('OK key:ci-bot');
    expect(code(await auth.authenticate({ authorization: `bearer   ${bot.key}` }))).toBe('OK key:ci-bot');
    expect(code(await auth.authenticate({ apiKeyHeader: bot.key }))).toBe('OK key:ci-bot');
    expect(code(await auth.authenticate({ apiKeyHeader: bot.key, authorization: `Bearer ${bot.key}` }))).toBe('OK key:ci-bot');
    expect(code(await auth.authenticate({ authorization: `Bearer ${await jwt()}` }))).toBe('OK jwt:alice');
  });

  it('should refuse missing, malformed, ambiguous and bad credentials in required mode', async () => {
    const auth = await createAuthenticator(config, { now: () => NOW });
    const missing = (await auth.authenticate({})) as AuthError;
    expect(missing).toMatchObject({ code: 'MISSING_CREDENTIALS', message: 'Authentication required', status: 401 });
    expect(code(await auth.authenticate({ authorization: '  ', apiKeyHeader: '' }))).toBe('MISSING_CREDENTIALS');
    expect(code(await auth.authenticate({ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }))).toBe('MALFORMED_CREDENTIALS');
    expect(code(await auth.authenticate({ authorization: 'Bearer' }))).toBe('MALFORMED_CREDENTIALS');
    expect(code(await auth.authenticate({ authorization: 'Bearer a b' }))).toBe('MALFORMED_CREDENTIALS');
    expect(code(await auth.authenticate({ authorization: `Bearer ${'x'.repeat(20_000)}` }))).toBe('MALFORMED_CREDENTIALS');
    expect(code(await auth.authenticate({ authorization: `Bearer ${await jwt()}`, apiKeyHeader: bot.key }))).toBe('MALFORMED_CREDENTIALS');
    expect(code(await auth.authenticate({ apiKeyHeader: await jwt() }))).toBe('MALFORMED_CREDENTIALS');
    expect(code(await auth.authenticate({ authorization: `Bearer ${await jwt(nowS - 3600)}` }))).toBe('TOKEN_EXPIRED');
    const tampered = bot.key.slice(0, -1) + (bot.key.endsWith('A') ? 'B' : 'A');
    expect(code(await auth.authenticate({ authorization: `Bearer ${tampered}` }))).toBe('INVALID_CREDENTIALS');
    const noJwt = await createAuthenticator(authConfigSchema.parse({ apiKeys: config.apiKeys }), { now: () => NOW });
    expect(code(await noJwt.authenticate({ authorization: `Bearer ${await jwt()}` }))).toBe('TOKEN_INVALID');
    // Never throws on junk.
    for (const junk of [null, undefined, 42, {}, [], 'Bearer sy_']) {
      const r = await auth.authenticate({ authorization: junk as never, apiKeyHeader: junk as never });
      expect(isAuthError(r)).toBe(true);
    }
  });

  it('should let anonymous callers in only in open mode, but still verify presented credentials', async () => {
    const open = await createAuthenticator(authConfigSchema.parse({ ...config, mode: 'open' }), { now: () => NOW });
    expect(open.mode).toBe('open');
    expect(await open.authenticate({})).toBe(anonymousIdentity);
    expect(anonymousIdentity.scope.unrestricted).toBe(true);
    expect(code(await open.authenticate({ apiKeyHeader: bot.key }))).toBe('OK key:ci-bot');
    expect(code(await open.authenticate({ apiKeyHeader: 'sy_ci-bot_' + 'a'.repeat(43) }))).toBe('INVALID_CREDENTIALS');
    expect(describeAuthPosture(authConfigSchema.parse({ mode: 'open' })).level).toBe('warn');
    expect(describeAuthPosture(authConfigSchema.parse({ mode: 'open' })).lines.join('\n')).toMatch(/AUTHENTICATION IS OFF/);
    expect(describeAuthPosture(config)).toEqual({ level: 'info', lines: ['auth: required (1 active API key(s), JWT from https://idp/)'] });
  });

  it('should mark live identities revoked after a reload and expired JWTs at exp + tolerance', async () => {
    const auth = await createAuthenticator(config, { now: () => NOW });
    const id = (await auth.authenticate({ apiKeyHeader: bot.key })) as Identity;
    expect(isRevokedOrExpired(id, NOW)).toBe(false);
    auth.updateApiKeys([{ ...config.apiKeys[0]!, revoked: true }]);
    expect(isRevokedOrExpired(id, NOW)).toBe(true);
    expect(code(await auth.authenticate({ apiKeyHeader: bot.key }))).toBe('KEY_REVOKED');
    const t = (await auth.authenticate({ authorization: `Bearer ${await jwt(nowS + 10)}` })) as Identity;
    expect(isRevokedOrExpired(t, new Date((nowS + 39) * 1000))).toBe(false);
    expect(isRevokedOrExpired(t, new Date((nowS + 40) * 1000))).toBe(true);
  });

  it('should flag scopes naming unknown backends', () => {
    expect(unknownScopeBackends(config, ['github-main'])).toEqual([]);
    expect(unknownScopeBackends(config, ['jenkins'])).toEqual(['auth.apiKeys[0].scopes[0].backends: unknown backend "github-main"']);
  });
});

describe('switchyard keys create', () => {
  it('should print a key once and a config entry whose hash verifies it', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const rc = await runKeysCli(['create', 'ci-bot', '--backends', 'github-main,jenkins', '--projects', 'octo-org/*,team-a/**', '--description', 'dashboard'], { stdout: (s) => out.push(s), stderr: (s) => err.push(s) });
    expect(rc).toBe(0);
    expect(err).toEqual([]);
    const text = out.join('');
    const keys = text.match(/sy_ci-bot_[A-Za-z0-9_-]{43}/g) ?? [];
    expect(keys).toHaveLength(1); // printed once
    const yamlPart = text.slice(text.indexOf('Add this entry'));
    const entries = parse(yamlPart.slice(yamlPart.indexOf('\n'))) as unknown;
    const config = authConfigSchema.parse({ apiKeys: entries });
    expect(config.apiKeys[0]).toMatchObject({ id: 'ci-bot', description: 'dashboard', scopes: [{ backends: ['github-main', 'jenkins'], projects: ['octo-org/*', 'team-a/**'] }] });
    expect(config.apiKeys[0]!.hash).not.toContain(keys[0]!.slice(10));

    const auth = await createAuthenticator(config);
    const id = (await auth.authenticate({ apiKeyHeader: keys[0]! })) as Identity;
    expect(id.id).toBe('key:ci-bot');
    expect(id.scope.allowsProject('jenkins', 'team-a/x/y')).toBe(true);
    expect(id.scope.allowsProject('github-main', 'other/x')).toBe(false);
  });

  it('should default to all backends and reject bad usage with exit code 2', async () => {
    const out: string[] = [];
    const io = { stdout: (s: string) => out.push(s), stderr: (s: string) => out.push(s) };
    expect(await runKeysCli(['create', 'all', '--expires=2030-01-01T00:00:00Z', '--runners'], io)).toBe(0);
    expect(out.join('')).toMatch(/backends:\n\s+- "\*"/);
    expect(out.join('')).toMatch(/expiresAt: 2030-01-01T00:00:00Z/);
    for (const bad of [[], ['delete', 'x'], ['create'], ['create', 'Bad_Id'], ['create', 'a', 'b'], ['create', 'a', '--projects', 'org//x'], ['create', 'a', '--expires', 'tomorrow'], ['create', 'a', '--backends'], ['create', 'a', '--bogus']]) {
      out.length = 0;
      expect(await runKeysCli(bad, io), bad.join(' ')).toBe(2);
      expect(out.join('')).not.toMatch(/sy_[a-z]/);
    }
    expect(await runKeysCli(['--help'], io)).toBe(0);
  });
});
