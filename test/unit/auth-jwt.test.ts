import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtConfigSchema, type JwtConfigInput } from '../../src/auth/auth-config.ts';
import { createJwtVerifier, parseScopesClaim } from '../../src/auth/jwt.ts';
import { isAuthError, type AuthError, type Identity } from '../../src/auth/types.ts';

const ISS = 'https://idp.example.test/';
const AUD = 'switchyard';
const NOW = new Date('2026-05-01T10:00:00Z');
const nowS = Math.floor(NOW.getTime() / 1000);

let rsa: { publicKey: CryptoKey; privateKey: CryptoKey };
let ec: { publicKey: CryptoKey; privateKey: CryptoKey };
let pem: string;

beforeAll(async () => {
  rsa = await generateKeyPair('RS256', { extractable: true });
  ec = await generateKeyPair('ES256', { extractable: true });
  pem = await exportSPKI(rsa.publicKey);
});

interface SignOptions {
  key?: CryptoKey;
  alg?: string;
  kid?: string;
  iss?: string;
  aud?: string | string[];
  exp?: number | null;
  nbf?: number;
  iat?: number;
  sub?: string | null;
  claims?: Record<string, unknown>;
}

function sign(o: SignOptions = {}): Promise<string> {
  const jwt = new SignJWT({ switchyard_scopes: 'github-main:octo-org/* jenkins', ...o.claims })
    .setProtectedHeader({ alg: o.alg ?? 'RS256', ...(o.kid ? { kid: o.kid } : {}) })
    .setIssuer(o.iss ?? ISS)
    .setAudience(o.aud ?? AUD)
    .setIssuedAt(o.iat ?? nowS - 10);
  if (o.sub !== null) jwt.setSubject(o.sub ?? 'alice');
  if (o.exp !== null) jwt.setExpirationTime(o.exp ?? nowS + 300);
  if (o.nbf !== undefined) jwt.setNotBefore(o.nbf);
  return jwt.sign(o.key ?? rsa.privateKey);
}

const config = (over: Partial<JwtConfigInput> = {}) => jwtConfigSchema.parse({ issuer: ISS, audience: AUD, publicKey: pem, ...over });
const code = (r: Identity | AuthError): string => (isAuthError(r) ? r.code : 'OK');

describe('JWT with a static key', () => {
  it('should accept a valid token and build the identity from sub, exp and the scopes claim', async () => {
    const v = await createJwtVerifier(config(), { now: () => NOW });
    const token = await sign();
    const r = await v.verify(token);
    expect(code(r)).toBe('OK');
    const id = r as Identity;
    expect(id).toMatchObject({ id: 'jwt:alice', kind: 'jwt', subject: 'alice' });
    expect(id.expiresAt?.getTime()).toBe((nowS + 300 + 30) * 1000); // exp + clock tolerance
    expect(id.scope.allowsProject('github-main', 'octo-org/api')).toBe(true);
    expect(id.scope.allowsProject('github-main', 'evil/api')).toBe(false);
    expect(id.scope.allowsRunners('jenkins')).toBe(true);
    expect(id.scope.allowsBackend('gitlab')).toBe(false);
    expect(JSON.stringify(id)).not.toContain(token);
  });

  it('should refuse expired, not-yet-valid, wrong audience/issuer tokens with distinct codes', async () => {
    const v = await createJwtVerifier(config(), { now: () => NOW });
    expect(code(await v.verify(await sign({ exp: nowS - 31 })))).toBe('TOKEN_EXPIRED');
    expect(code(await v.verify(await sign({ nbf: nowS + 31 })))).toBe('TOKEN_NOT_YET_VALID');
    expect(code(await v.verify(await sign({ aud: 'someone-else' })))).toBe('AUDIENCE_MISMATCH');
    expect(code(await v.verify(await sign({ iss: 'https://evil.example/' })))).toBe('ISSUER_MISMATCH');
    expect(code(await v.verify(await sign({ exp: null })))).toBe('TOKEN_INVALID'); // exp is required
    expect(code(await v.verify(await sign({ sub: null })))).toBe('TOKEN_INVALID');
    const expired = (await v.verify(await sign({ exp: nowS - 100 }))) as AuthError;
    expect(expired).toMatchObject({ message: 'Token expired', status: 401 });
    expect((await v.verify(await sign({ aud: 'x' })) as AuthError).message).toBe('Invalid credentials');
  });

  it('should apply the clock tolerance to exp and nbf', async () => {
    const v = await createJwtVerifier(config({ clockToleranceSeconds: 30 }), { now: () => NOW });
    expect(code(await v.verify(await sign({ exp: nowS - 29 })))).toBe('OK');
    expect(code(await v.verify(await sign({ nbf: nowS + 29 })))).toBe('OK');
    const strict = await createJwtVerifier(config({ clockToleranceSeconds: 0 }), { now: () => NOW });
    expect(code(await strict.verify(await sign({ exp: nowS - 1 })))).toBe('TOKEN_EXPIRED');
    expect(code(await strict.verify(await sign({ nbf: nowS + 1 })))).toBe('TOKEN_NOT_YET_VALID');
  });

  it('should refuse wrong algorithms, alg none, HMAC confusion and tampered signatures', async () => {
    const v = await createJwtVerifier(config({ algorithms: ['RS256'] }), { now: () => NOW });
    // Signed with an allowed-by-default but not configured alg.
    expect(code(await v.verify(await sign({ key: ec.privateKey, alg: 'ES256' })))).toBe('ALGORITHM_NOT_ALLOWED');
    // alg: none (unsecured JWT).
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: ISS, aud: AUD, sub: 'alice', exp: nowS + 300, switchyard_scopes: '*' })}.`;
    expect(code(await v.verify(none))).toBe('ALGORITHM_NOT_ALLOWED');
    // HS256 signed with the public key's PEM as the secret (key-confusion attack).
    const hs = await new SignJWT({ switchyard_scopes: '*' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISS).setAudience(AUD).setSubject('mallory').setExpirationTime(nowS + 300).sign(new TextEncoder().encode(pem));
    expect(code(await v.verify(hs))).toBe('ALGORITHM_NOT_ALLOWED');
    // Tampered payload (scopes widened) with the original signature.
    const good = await sign();
    const [h, , s] = good.split('.');
    const widened = `${h}.${b64({ iss: ISS, aud: AUD, sub: 'alice', exp: nowS + 300, iat: nowS, switchyard_scopes: '*' })}.${s}`;
    expect(code(await v.verify(widened))).toBe('SIGNATURE_INVALID');
    // Flipped signature bytes.
    const sig = Buffer.from(s!, 'base64url');
    sig[0] = sig[0]! ^ 0xff;
    expect(code(await v.verify(`${h}.${good.split('.')[1]}.${sig.toString('base64url')}`))).toBe('SIGNATURE_INVALID');
    // Signed by another key of the right type.
    const other = await generateKeyPair('RS256');
    expect(code(await v.verify(await sign({ key: other.privateKey })))).toBe('SIGNATURE_INVALID');
    // Garbage.
    for (const junk of ['', 'a.b', 'a.b.c', 'x'.repeat(20_000), '....', 'eyJhbGciOiJSUzI1NiJ9.e30.']) {
      expect(['TOKEN_INVALID', 'SIGNATURE_INVALID']).toContain(code(await v.verify(junk)));
    }
  });

  it('should accept a public JWK and a key from the environment', async () => {
    const jwk = JSON.stringify(await exportJWK(ec.publicKey));
    const v = await createJwtVerifier(config({ publicKey: jwk, algorithms: ['ES256'] }), { now: () => NOW });
    expect(code(await v.verify(await sign({ key: ec.privateKey, alg: 'ES256' })))).toBe('OK');
    const fromEnv = await createJwtVerifier(config({ publicKey: { env: 'JWT_PEM' } }), { now: () => NOW, secret: (ref) => (ref && 'env' in ref && ref.env === 'JWT_PEM' ? pem : undefined) });
    expect(code(await fromEnv.verify(await sign()))).toBe('OK');
    await expect(createJwtVerifier(config({ publicKey: { env: 'MISSING' } }), { secret: () => undefined })).rejects.toThrow(/not set/);
    const priv = JSON.stringify(await exportJWK(ec.privateKey));
    await expect(createJwtVerifier(config({ publicKey: priv }))).rejects.toThrow(/public key/);
  });

  it('should read scopes as space-separated entries, JSON, arrays or objects, and use defaultScopes when absent', async () => {
    expect(parseScopesClaim('gh:org/* jenkins')).toEqual([{ backends: ['gh'], projects: ['org/*'] }, { backends: ['jenkins'] }]);
    expect(parseScopesClaim('[{"backends":["gh"],"projects":["a/**"],"runners":true}]')).toEqual([{ backends: ['gh'], projects: ['a/**'], runners: true }]);
    expect(parseScopesClaim(['gh:a/b', { backends: ['x'] }])).toEqual([{ backends: ['gh'], projects: ['a/b'] }, { backends: ['x'] }]);
    expect(parseScopesClaim({ backends: ['*'] })).toEqual([{ backends: ['*'] }]);
    for (const bad of ['', 'GH:x', 'gh:a//b', '{bad json', 42, null, [], [1], { backends: [] }, { backends: ['*'], admin: true }]) {
      expect(parseScopesClaim(bad), JSON.stringify(bad)).toBeNull();
    }
    const v = await createJwtVerifier(config(), { now: () => NOW });
    expect(code(await v.verify(await sign({ claims: { switchyard_scopes: 'GH:!!' } })))).toBe('SCOPES_INVALID');
    expect(code(await v.verify(await sign({ claims: { switchyard_scopes: undefined } })))).toBe('SCOPES_INVALID');
    const withDefault = await createJwtVerifier(config({ defaultScopes: { backends: ['jenkins'] } }), { now: () => NOW });
    const r = (await withDefault.verify(await sign({ claims: { switchyard_scopes: undefined } }))) as Identity;
    expect(r.scope.allowsBackend('jenkins')).toBe(true);
    expect(r.scope.allowsBackend('github-main')).toBe(false);
    const custom = await createJwtVerifier(config({ scopesClaim: 'grants', subjectClaim: 'email' }), { now: () => NOW });
    const c = (await custom.verify(await sign({ claims: { grants: ['gh'], email: 'a@example.com' } }))) as Identity;
    expect(c.id).toBe('jwt:a@example.com');
  });
});

describe('JWT with a JWKS served over HTTP', () => {
  let server: http.Server;
  let url: string;
  let keys: JWK[] = [];
  let fetches = 0;
  let status = 200;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      fetches++;
      if (status !== 200) {
        res.writeHead(status).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const pub = async (k: CryptoKey, kid: string, alg: string): Promise<JWK> => ({ ...(await exportJWK(k)), kid, alg, use: 'sig' });

  it('should verify, cache the JWKS, and fetch again when a new kid appears (rotation)', async () => {
    const k1 = await generateKeyPair('RS256');
    const k2 = await generateKeyPair('ES256');
    keys = [await pub(k1.publicKey, 'k1', 'RS256')];
    fetches = 0;
    const v = await createJwtVerifier(jwtConfigSchema.parse({ issuer: ISS, audience: AUD, jwksUrl: url, jwksCooldownSeconds: 0 }), { now: () => NOW });

    expect(code(await v.verify(await sign({ key: k1.privateKey, kid: 'k1' })))).toBe('OK');
    expect(code(await v.verify(await sign({ key: k1.privateKey, kid: 'k1', sub: 'bob' })))).toBe('OK');
    expect(fetches).toBe(1); // cached

    // Rotation: the IdP now publishes k2 only.
    keys = [await pub(k2.publicKey, 'k2', 'ES256')];
    expect(code(await v.verify(await sign({ key: k2.privateKey, kid: 'k2', alg: 'ES256' })))).toBe('OK');
    expect(fetches).toBe(2);
    // The retired key is gone after the refetch.
    expect(code(await v.verify(await sign({ key: k1.privateKey, kid: 'k1' })))).toBe('KEY_NOT_FOUND');
    // Unknown kid.
    expect(code(await v.verify(await sign({ key: k2.privateKey, kid: 'nope', alg: 'ES256' })))).toBe('KEY_NOT_FOUND');
  });

  it('should not refetch for unknown kids during the cooldown, and never fetch for junk', async () => {
    const k1 = await generateKeyPair('RS256');
    keys = [await pub(k1.publicKey, 'k1', 'RS256')];
    fetches = 0;
    const v = await createJwtVerifier(jwtConfigSchema.parse({ issuer: ISS, audience: AUD, jwksUrl: url, jwksCooldownSeconds: 60 }), { now: () => NOW });
    expect(code(await v.verify(await sign({ key: k1.privateKey, kid: 'k1' })))).toBe('OK');
    for (let i = 0; i < 5; i++) expect(code(await v.verify(await sign({ key: k1.privateKey, kid: `rand-${i}` })))).toBe('KEY_NOT_FOUND');
    expect(code(await v.verify('not-a-token'))).toBe('TOKEN_INVALID');
    expect(fetches).toBe(1);
  });

  it('should use the injected fetch and report an unreachable JWKS as 503', async () => {
    let calls = 0;
    const failing: typeof fetch = async () => {
      calls++;
      throw new TypeError('fetch failed');
    };
    const v = await createJwtVerifier(jwtConfigSchema.parse({ issuer: ISS, audience: AUD, jwksUrl: url }), { now: () => NOW, fetch: failing });
    const r = (await v.verify(await sign({ kid: 'k1' }))) as AuthError;
    expect(calls).toBe(1);
    expect(r).toMatchObject({ code: 'JWKS_UNAVAILABLE', status: 503 });
    status = 500;
    const v2 = await createJwtVerifier(jwtConfigSchema.parse({ issuer: ISS, audience: AUD, jwksUrl: url }), { now: () => NOW });
    expect(code(await v2.verify(await sign({ kid: 'k1' })))).toBe('JWKS_UNAVAILABLE');
    status = 200;
  });
});
