import type { SecretRef } from '../adapter-contract.ts';
import { createApiKeyVerifier, looksLikeApiKey, type ApiKeyVerifier } from './api-keys.ts';
import type { AuthConfig } from './auth-config.ts';
import { HashingGate } from './hashing-gate.ts';
import { createJwtVerifier, type JwtVerifier } from './jwt.ts';
import { ALL_SCOPE } from './scope.ts';
import { authError, type AuthError, type Identity } from './types.ts';

/**
 * One entry point for every transport. HTTP and SSE pass their headers,
 * graphql-ws passes the same fields from `connection_init` payload:
 *
 *   Authorization: Bearer <JWT | sy_ API key>
 *   X-Api-Key: sy_...
 *
 * `required` mode: no credential → MISSING_CREDENTIALS. `open` mode: no
 * credential → the anonymous identity (everything visible); a credential that
 * IS presented is still verified (so per-identity limits and audit work) and
 * a bad one is still refused rather than silently downgraded.
 */

export interface Credential {
  /** The `Authorization` header (or `connectionParams.authorization`). */
  readonly authorization?: string | null | undefined;
  /** The `X-Api-Key` header (or `connectionParams.apiKey`). */
  readonly apiKeyHeader?: string | null | undefined;
}

export interface AuthenticatorDeps {
  readonly fetch?: typeof fetch;
  readonly secret?: (ref: SecretRef | undefined) => string | undefined;
  readonly now?: () => Date;
  /** Verified API keys kept in memory (default 1000). */
  readonly apiKeyCacheSize?: number;
}

export interface Authenticator {
  readonly mode: AuthConfig['mode'];
  authenticate(credential: Credential): Promise<Identity | AuthError>;
  /**
   * Swap in a reloaded `auth` section: revoked, removed or re-hashed keys are
   * refused from now on and `Identity.isRevoked()` turns true for their live
   * connections. (A changed `jwt` section needs a new authenticator.)
   */
  updateApiKeys(apiKeys: AuthConfig['apiKeys']): void;
}

export const anonymousIdentity: Identity = Object.freeze({
  id: 'anonymous',
  kind: 'anonymous' as const,
  expiresAt: null,
  scope: ALL_SCOPE,
});

const MAX_HEADER_LENGTH = 16 * 1024;

function clean(value: string | null | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.trim();
  return v.length === 0 ? undefined : v;
}

export async function createAuthenticator(config: AuthConfig, deps: AuthenticatorDeps = {}): Promise<Authenticator> {
  let apiKeys = config.apiKeys;
  const now = deps.now ?? (() => new Date());
  const keyVerifier: ApiKeyVerifier = createApiKeyVerifier({
    ...(deps.apiKeyCacheSize !== undefined ? { cacheSize: deps.apiKeyCacheSize } : {}),
    failedCacheSize: config.keyVerification.failedKeyCacheSize,
    gate: new HashingGate(config.keyVerification.maxConcurrent, config.keyVerification.maxQueued),
    currentKeys: () => apiKeys,
  });
  const jwtVerifier: JwtVerifier | null = config.jwt
    ? await createJwtVerifier(config.jwt, {
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
      ...(deps.secret ? { secret: deps.secret } : {}),
      now,
    })
    : null;

  const authenticate = async (credential: Credential): Promise<Identity | AuthError> => {
    const rawAuth = credential?.authorization;
    const rawKey = credential?.apiKeyHeader;
    if ((typeof rawAuth === 'string' && rawAuth.length > MAX_HEADER_LENGTH) || (typeof rawKey === 'string' && rawKey.length > MAX_HEADER_LENGTH)) {
      return authError('MALFORMED_CREDENTIALS', 'credential header too long');
    }
    const authorization = clean(rawAuth);
    const apiKeyHeader = clean(rawKey);

    let bearer: string | undefined;
    if (authorization !== undefined) {
      const m = /^Bearer[ \t]+(\S+)$/i.exec(authorization);
      if (!m) return authError('MALFORMED_CREDENTIALS', `Authorization is not "Bearer <token>" (scheme ${JSON.stringify(authorization.split(/\s/)[0]!.slice(0, 20))})`);
      bearer = m[1]!;
    }
    if (bearer !== undefined && apiKeyHeader !== undefined && bearer !== apiKeyHeader) {
      return authError('MALFORMED_CREDENTIALS', 'both Authorization and X-Api-Key given, with different values');
    }
    const presented = bearer ?? apiKeyHeader;

    if (presented === undefined) {
      return config.mode === 'open' ? anonymousIdentity : authError('MISSING_CREDENTIALS', 'no Authorization or X-Api-Key');
    }
    if (looksLikeApiKey(presented)) return keyVerifier.verify(presented, apiKeys, now());
    if (apiKeyHeader !== undefined && bearer === undefined) {
      return authError('MALFORMED_CREDENTIALS', 'X-Api-Key value is not an sy_ API key');
    }
    if (!jwtVerifier) return authError('TOKEN_INVALID', 'bearer token is not an API key and JWT auth is not configured');
    return jwtVerifier.verify(presented);
  };

  return {
    mode: config.mode,
    authenticate,
    updateApiKeys: (next) => {
      apiKeys = next;
    },
  };
}
