import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Authenticator, Credential } from '../auth/authenticate.ts';
import type { AuthFailureLimiter } from '../auth/failure-limiter.ts';
import { isAuthError, type AuthError, type Identity } from '../auth/types.ts';
import type { WsRefusal } from './graphql-ws.ts';
import { ErrorCode, errorBody, WsCloseCode } from '../errors.ts';

export interface CallerAddress {
  readonly transport: 'http' | 'sse' | 'ws';
  readonly remoteAddress: string | null;
}

/**
 * Authenticates one request or connection; never throws, never logs the
 * credential. An address past its failure limit is refused before any
 * verification work, and its refusals are not audited one by one (a flood
 * would fill the disk): the failure that reaches the limit is logged once.
 */
export function createCallerIdentifier(deps: { authenticator: Promise<Authenticator>; limiter: AuthFailureLimiter; audit: AuditLog; log: Logger }) {
  return async function identify(credential: Credential, where: CallerAddress): Promise<Identity | AuthError> {
    const throttled = deps.limiter.check(where.remoteAddress);
    if (throttled) return throttled;
    const result = await (await deps.authenticator).authenticate(credential);
    if (!isAuthError(result)) return result;
    deps.log.info({ code: result.code, transport: where.transport }, 'authentication failed');
    const presented = credential.apiKeyHeader ?? credential.authorization ?? '';
    const credentialKind = presented === '' ? 'none' : /sy_/.test(presented) ? 'api-key' : /^Bearer\s+ey/i.test(presented) ? 'jwt' : 'unknown';
    try {
      deps.audit.append({ kind: 'auth-failure', transport: where.transport, reason: result.code, remoteAddress: where.remoteAddress, credentialKind });
    } catch (error) {
      deps.log.error({ err: error }, 'audit append failed');
    }
    if (deps.limiter.recordFailure(where.remoteAddress, result.code)) {
      deps.log.warn({ remoteAddress: where.remoteAddress, transport: where.transport }, 'too many failed authentications: address refused until its window ends');
    }
    return result;
  };
}

/** The HTTP answer to a failed authentication: 401, 429 or 503, with Retry-After when there is one. */
export function sendAuthError(res: ServerResponse, error: AuthError): void {
  const code = error.status === 503 ? ErrorCode.AuthUnavailable : error.status === 429 ? ErrorCode.TooManyAuthFailures : ErrorCode.Unauthenticated;
  const text = JSON.stringify(errorBody(code, error.message));
  res.writeHead(error.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'www-authenticate': 'Bearer realm="switchyard"',
    ...(error.retryAfterSeconds !== undefined ? { 'retry-after': String(error.retryAfterSeconds) } : {}),
  });
  res.end(text);
}

/** The WebSocket answer: 4429 for a throttled address or a saturated verifier (try later), else null (4403 Forbidden). */
export function wsRefusalOf(error: AuthError): WsRefusal | null {
  if (error.status === 429) return { closeCode: WsCloseCode.TooManyRequests, reason: 'Too many failed authentications' };
  if (error.code === 'AUTH_BUSY') return { closeCode: WsCloseCode.TooManyRequests, reason: 'Authentication busy, try again' };
  return null;
}
