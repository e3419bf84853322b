import type { CompiledScope } from './scope.ts';

/**
 * Who is calling. Produced by the authenticator for every HTTP request, SSE
 * stream and graphql-ws `connection_init`; carried in the GraphQL context.
 * Never contains the credential itself.
 */
export interface Identity {
  /** Stable principal id: `key:<id>`, `jwt:<sub>` or `anonymous`. Used for rate limits and audit. */
  readonly id: string;
  readonly kind: 'api-key' | 'jwt' | 'anonymous';
  /** API key id or JWT subject. */
  readonly subject?: string;
  /** When the credential stops being valid; null = no expiry. Live subscriptions end at this instant. */
  readonly expiresAt: Date | null;
  readonly scope: CompiledScope;
  /**
   * First 16 hex chars of SHA-256 of the presented credential: lets the audit
   * log tell two tokens of one subject apart without storing either.
   */
  readonly fingerprint?: string;
  /**
   * Re-checked by long-lived connections: true once the credential was
   * revoked or its grant changed (API key marked `revoked`, removed,
   * re-hashed, or given other scopes or expiry in a reloaded config).
   */
  readonly isRevoked?: () => boolean;
}

export type AuthErrorCode =
  /** No credential at all in `required` mode. */
  | 'MISSING_CREDENTIALS'
  /** Unparseable header, unknown scheme, two different credentials, oversized value. */
  | 'MALFORMED_CREDENTIALS'
  /** API key: unknown id or wrong secret. */
  | 'INVALID_CREDENTIALS'
  | 'KEY_REVOKED'
  | 'KEY_EXPIRED'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_NOT_YET_VALID'
  /** Malformed JWT, missing required claim, bad subject, or JWTs not configured. */
  | 'TOKEN_INVALID'
  | 'SIGNATURE_INVALID'
  | 'ALGORITHM_NOT_ALLOWED'
  | 'AUDIENCE_MISMATCH'
  | 'ISSUER_MISMATCH'
  /** The token's `kid` is not in the JWKS (even after a refetch). */
  | 'KEY_NOT_FOUND'
  /** The scopes claim is present but not understood. */
  | 'SCOPES_INVALID'
  /** The JWKS could not be fetched: a server-side problem (HTTP 503). */
  | 'JWKS_UNAVAILABLE'
  /** Too many key verifications already waiting (HTTP 503, WebSocket 4429). */
  | 'AUTH_BUSY'
  /** The remote address failed too often recently (HTTP 429, WebSocket 4429). */
  | 'TOO_MANY_FAILURES';

/**
 * A failed authentication. `code` and `reason` are internal (logs, audit);
 * clients only ever see `message` (and `status`), which does not say whether
 * a key exists, was revoked or expired.
 */
export interface AuthError {
  readonly kind: 'error';
  readonly code: AuthErrorCode;
  /** Internal detail for logs/audit; never contains the credential. */
  readonly reason: string;
  /** Client-facing message. */
  readonly message: string;
  /** Suggested HTTP status: 401; 429 for too many failures; 503 when the JWKS is unreachable or verification is saturated. graphql-ws: close 4403 (4429 for 429 and AUTH_BUSY). */
  readonly status: 401 | 429 | 503;
  /** With 429 and 503: when to try again (the Retry-After header). */
  readonly retryAfterSeconds?: number;
}

export const PUBLIC_MESSAGES = {
  missing: 'Authentication required',
  invalid: 'Invalid credentials',
  expired: 'Token expired',
  unavailable: 'Authentication temporarily unavailable',
  tooManyFailures: 'Too many failed authentications, try again later',
} as const;

const STATUS: Partial<Record<AuthErrorCode, 429 | 503>> = { JWKS_UNAVAILABLE: 503, AUTH_BUSY: 503, TOO_MANY_FAILURES: 429 };

export function authError(code: AuthErrorCode, reason: string): AuthError {
  const message =
    code === 'MISSING_CREDENTIALS' ? PUBLIC_MESSAGES.missing
      // An expired JWT is worth telling the client (it should refresh); it reveals
      // nothing, the client can read `exp` itself. API-key states stay hidden.
      : code === 'TOKEN_EXPIRED' ? PUBLIC_MESSAGES.expired
        : code === 'JWKS_UNAVAILABLE' || code === 'AUTH_BUSY' ? PUBLIC_MESSAGES.unavailable
          : code === 'TOO_MANY_FAILURES' ? PUBLIC_MESSAGES.tooManyFailures
            : PUBLIC_MESSAGES.invalid;
  return Object.freeze({ kind: 'error', code, reason, message, status: STATUS[code] ?? 401, ...(code === 'AUTH_BUSY' ? { retryAfterSeconds: 1 } : {}) });
}

export function isAuthError(value: Identity | AuthError): value is AuthError {
  return value.kind === 'error';
}
