import {
  createRemoteJWKSet, customFetch, decodeProtectedHeader, errors, importJWK, importSPKI, jwtVerify,
  type CryptoKey, type JWTPayload, type JWTVerifyGetKey, type JWK,
} from 'jose';
import type { SecretRef } from '../adapter-contract.ts';
import { DEFAULT_JWT_ALGORITHMS, scopeSchema, type JwtConfig, type ScopeConfig } from './auth-config.ts';
import { fingerprint } from './api-keys.ts';
import { compileScope, validateProjectPattern, type CompiledScope, type ScopeGrant } from './scope.ts';
import { authError, type AuthError, type Identity } from './types.ts';

/**
 * JWT bearer tokens (e.g. from an OIDC provider), verified with jose against
 * a JWKS URL (cached; an unknown `kid` triggers a refetch at most once per
 * cooldown) or a static public key. Checks: signature, `alg` in the allowed
 * asymmetric list (never `none` or HMAC), `iss`, `aud`, `exp` (required),
 * `nbf`, optional max age, all with the configured clock tolerance.
 */

export interface JwtVerifierDeps {
  /** fetch used for the JWKS (tests, proxies). Default: global fetch. */
  readonly fetch?: typeof fetch;
  /** Resolves `publicKey: { env: NAME }`. */
  readonly secret?: (ref: SecretRef | undefined) => string | undefined;
  /** Injected clock. */
  readonly now?: () => Date;
}

export interface JwtVerifier {
  verify(token: string): Promise<Identity | AuthError>;
}

const MAX_TOKEN_LENGTH = 16 * 1024;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Reads the scopes claim: a string of space-separated `backend[:pattern]`
 * entries, a JSON string, an array of such strings or grant objects, or one
 * grant object. Returns null when it is not understood.
 */
export function parseScopesClaim(value: unknown): ScopeConfig | null {
  if (typeof value === 'string') {
    const text = value.trim();
    if (text.startsWith('[') || text.startsWith('{')) {
      try {
        return parseScopesClaim(JSON.parse(text) as unknown);
      } catch {
        return null;
      }
    }
    return parseScopesClaim(text.split(/\s+/).filter((s) => s.length > 0));
  }
  if (Array.isArray(value)) {
    if (value.length === 0 || value.length > 200) return null;
    const grants: ScopeGrant[] = [];
    for (const item of value as unknown[]) {
      if (typeof item === 'string') {
        const g = parseScopeEntry(item);
        if (!g) return null;
        grants.push(g);
      } else {
        const r = scopeSchema.safeParse(item);
        if (!r.success) return null;
        grants.push(...r.data);
      }
    }
    const r = scopeSchema.safeParse(grants);
    return r.success ? r.data : null;
  }
  if (value !== null && typeof value === 'object') {
    const r = scopeSchema.safeParse(value);
    return r.success ? r.data : null;
  }
  return null;
}

/** `github-main:octo-org/*` → one grant; `github-main` alone → all its projects. */
function parseScopeEntry(entry: string): ScopeGrant | null {
  const colon = entry.indexOf(':');
  const backend = colon < 0 ? entry : entry.slice(0, colon);
  if (!/^(\*|[a-z0-9][a-z0-9-]{0,62})$/.test(backend)) return null;
  if (colon < 0) return { backends: [backend] };
  const pattern = entry.slice(colon + 1);
  if (validateProjectPattern(pattern) !== null) return null;
  return { backends: [backend], projects: [pattern] };
}

async function staticKeyResolver(material: string, algorithms: readonly string[]): Promise<JWTVerifyGetKey> {
  const text = material.trim();
  const byAlg = new Map<string, Promise<CryptoKey | Uint8Array>>();
  let jwk: JWK | null = null;
  if (text.startsWith('{')) {
    jwk = JSON.parse(text) as JWK;
    if (jwk.d !== undefined || jwk.kty === 'oct') throw new Error('auth.jwt.publicKey: expected a public key, got a private or symmetric JWK');
  } else if (!text.includes('-----BEGIN PUBLIC KEY-----')) {
    throw new Error('auth.jwt.publicKey: expected an SPKI PEM (-----BEGIN PUBLIC KEY-----) or a public JWK as JSON');
  }
  // Fail at start-up, not at the first request, if the key does not import.
  const first = algorithms.find((a) => (jwk?.alg ? a === jwk.alg : true)) ?? algorithms[0]!;
  const load = (alg: string): Promise<CryptoKey | Uint8Array> => {
    let p = byAlg.get(alg);
    if (!p) {
      p = jwk ? importJWK({ ...jwk, alg }, alg) : importSPKI(text, alg);
      byAlg.set(alg, p);
    }
    return p;
  };
  await load(first).catch(() => undefined);
  return (header) => load(header.alg ?? '');
}

function claimOf(payload: JWTPayload, claim: string): unknown {
  return (payload as Record<string, unknown>)[claim];
}

function mapJoseError(err: unknown): AuthError {
  if (err instanceof errors.JWTExpired) return authError('TOKEN_EXPIRED', 'exp is in the past');
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'aud':
        return authError('AUDIENCE_MISMATCH', `aud: ${err.reason}`);
      case 'iss':
        return authError('ISSUER_MISMATCH', `iss: ${err.reason}`);
      case 'nbf':
        return authError('TOKEN_NOT_YET_VALID', `nbf: ${err.reason}`);
      case 'iat':
        return authError(err.reason === 'check_failed' ? 'TOKEN_EXPIRED' : 'TOKEN_INVALID', `iat: ${err.reason}`);
      default:
        return authError('TOKEN_INVALID', `${err.claim}: ${err.reason}`);
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return authError('ALGORITHM_NOT_ALLOWED', 'alg not allowed');
  if (err instanceof errors.JWSSignatureVerificationFailed) return authError('SIGNATURE_INVALID', 'signature verification failed');
  if (err instanceof errors.JWKSNoMatchingKey) return authError('KEY_NOT_FOUND', 'no JWKS key matches the token kid/alg');
  if (err instanceof errors.JWKSMultipleMatchingKeys) return authError('KEY_NOT_FOUND', 'several JWKS keys match and none verified');
  if (err instanceof errors.JWKSTimeout) return authError('JWKS_UNAVAILABLE', 'JWKS fetch timed out');
  if (err instanceof errors.JWKSInvalid) return authError('JWKS_UNAVAILABLE', 'JWKS response is not a valid key set');
  // jose reports a non-200 or non-JSON JWKS response as a plain JOSEError.
  if (err instanceof errors.JOSEError && err.constructor === errors.JOSEError && /JSON Web Key Set/i.test(err.message)) {
    return authError('JWKS_UNAVAILABLE', `JWKS fetch failed: ${err.message}`);
  }
  if (err instanceof errors.JOSEError) return authError('TOKEN_INVALID', `${err.code}`);
  // Network errors from the JWKS fetch (ECONNREFUSED, non-200 responses).
  return authError('JWKS_UNAVAILABLE', `JWKS fetch failed: ${err instanceof Error ? err.name : 'error'}`);
}

export async function createJwtVerifier(config: JwtConfig, deps: JwtVerifierDeps = {}): Promise<JwtVerifier> {
  const algorithms = [...(config.algorithms ?? DEFAULT_JWT_ALGORITHMS)];
  const now = deps.now ?? (() => new Date());
  const defaultScope: CompiledScope | null = config.defaultScopes ? compileScope(config.defaultScopes) : null;

  let getKey: JWTVerifyGetKey;
  if (config.jwksUrl !== undefined) {
    getKey = createRemoteJWKSet(new URL(config.jwksUrl), {
      cooldownDuration: config.jwksCooldownSeconds * 1000,
      cacheMaxAge: config.jwksCacheMaxAgeSeconds * 1000,
      timeoutDuration: config.jwksTimeoutMs,
      ...(deps.fetch ? { [customFetch]: deps.fetch } : {}),
    });
  } else {
    const ref = config.publicKey!;
    const material = typeof ref === 'string' ? ref : deps.secret ? deps.secret(ref) : 'value' in ref ? ref.value : undefined;
    if (!material) throw new Error('auth.jwt.publicKey: the referenced key is empty or its environment variable is not set');
    getKey = await staticKeyResolver(material, algorithms);
  }

  const verify = async (token: string): Promise<Identity | AuthError> => {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
      return authError('TOKEN_INVALID', 'not a compact JWS');
    }
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      return authError('TOKEN_INVALID', 'unreadable JOSE header');
    }
    // Checked before any key lookup: junk tokens never trigger a JWKS fetch.
    if (alg === undefined || !algorithms.includes(alg as (typeof algorithms)[number])) {
      return authError('ALGORITHM_NOT_ALLOWED', `alg ${JSON.stringify(String(alg)).slice(0, 40)} not allowed`);
    }
    let payload: JWTPayload;
    try {
      const result = await jwtVerify(token, getKey, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms,
        clockTolerance: config.clockToleranceSeconds,
        currentDate: now(),
        requiredClaims: ['exp'],
        ...(config.maxTokenAgeSeconds !== undefined ? { maxTokenAge: config.maxTokenAgeSeconds } : {}),
      });
      payload = result.payload;
    } catch (err) {
      return mapJoseError(err);
    }

    const subject = claimOf(payload, config.subjectClaim);
    if (typeof subject !== 'string' || subject.length === 0 || subject.length > 256) {
      return authError('TOKEN_INVALID', `claim ${config.subjectClaim} missing or not a string`);
    }
    const rawScopes = claimOf(payload, config.scopesClaim);
    let scope: CompiledScope;
    if (rawScopes === undefined) {
      if (!defaultScope) return authError('SCOPES_INVALID', `claim ${config.scopesClaim} missing and no defaultScopes configured`);
      scope = defaultScope;
    } else {
      const grants = parseScopesClaim(rawScopes);
      if (!grants) return authError('SCOPES_INVALID', `claim ${config.scopesClaim} not understood`);
      scope = compileScope(grants);
    }

    return Object.freeze({
      id: `jwt:${subject}`,
      kind: 'jwt' as const,
      subject,
      // The same tolerance that admitted the token also bounds its connections:
      // live subscriptions end at exp + clockToleranceSeconds.
      expiresAt: new Date(((payload.exp ?? 0) + config.clockToleranceSeconds) * 1000),
      scope,
      fingerprint: fingerprint(token),
    });
  };

  return { verify };
}
