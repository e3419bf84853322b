import { GraphQLError } from 'graphql';
import { sanitizeUpstreamText } from './upstream-text.ts';

/** Stable codes in `extensions.code`. */
export const ErrorCode = {
  UpstreamUnavailable: 'UPSTREAM_UNAVAILABLE',
  UpstreamTimeout: 'UPSTREAM_TIMEOUT',
  UpstreamRateLimited: 'UPSTREAM_RATE_LIMITED',
  UpstreamUnauthorized: 'UPSTREAM_UNAUTHORIZED',
  UpstreamBadResponse: 'UPSTREAM_BAD_RESPONSE',
  /** The calling identity spent its budget of upstream reads (limits.upstreamCallsPerIdentityPerMinute). */
  UpstreamBudgetExceeded: 'UPSTREAM_BUDGET_EXCEEDED',
  NotFound: 'NOT_FOUND',
  BadUserInput: 'BAD_USER_INPUT',
  SubscriptionOverflow: 'SUBSCRIPTION_OVERFLOW',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export type UpstreamErrorCode = Extract<ErrorCode, `UPSTREAM_${string}`>;

/**
 * A failure talking to a CI backend. Carries the backend's name and never the
 * request's credentials: the message, which often quotes the upstream's own
 * text, is sanitized here, the one place every UpstreamError message is built
 * (tokens, URL userinfo, credential query parameters and opaque blobs redacted;
 * one line, length capped).
 */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  constructor(
    readonly backend: string,
    readonly code: UpstreamErrorCode,
    message: string,
    readonly details: { readonly status?: number; readonly method?: string; readonly path?: string; readonly retryAfterMs?: number } = {},
    options?: { cause?: unknown },
  ) {
    super(`[${backend}] ${sanitizeUpstreamText(message)}`, options);
  }
}

export function isUpstreamError(error: unknown): error is UpstreamError {
  return error instanceof UpstreamError;
}

/** GraphQL error for one failing backend in an otherwise successful result. */
export function toBackendGraphQLError(backend: string, error: unknown, path?: readonly (string | number)[]): GraphQLError {
  const upstream = isUpstreamError(error) ? error : null;
  const code: ErrorCode = upstream?.code ?? ErrorCode.UpstreamUnavailable;
  const message = upstream
    ? upstream.message
    : `[${backend}] backend request failed`;
  return new GraphQLError(message, {
    path,
    extensions: {
      code,
      backend,
      ...(upstream?.details.status !== undefined ? { upstreamStatus: upstream.details.status } : {}),
    },
  });
}

export function notFound(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.NotFound } });
}

export function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BadUserInput } });
}

/** Thrown at startup for an invalid config; the message names key, expectation and value. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: readonly string[], source: string) {
    super(`Invalid config (${source}):\n${issues.map((i) => `  - ${i}`).join('\n')}`);
  }
}
