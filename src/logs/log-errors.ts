/** The errors a log reader sees, each with its code (src/errors.ts). */
import type { GraphQLError } from 'graphql';
import { ErrorCode, gatewayError } from '../errors.ts';

export function logUnavailable(backend: string, reason: string): GraphQLError {
  return gatewayError(ErrorCode.LogUnavailable, `[${backend}] ${reason}`, { extensions: { backend } });
}

export function tailLimitReached(limit: number): GraphQLError {
  return gatewayError(ErrorCode.LogTailLimit, `this identity already follows ${limit} job logs at once (config logs.maxTailsPerIdentity); end one first`, { extensions: { limit } });
}

export function logsDisabled(): GraphQLError {
  return gatewayError(ErrorCode.LogUnavailable, 'job logs are turned off on this gateway (config logs.enabled)');
}
