import { GraphQLError, type GraphQLErrorOptions } from 'graphql';
import type { ActionCall } from './adapter-contract.ts';
import { ErrorCode } from './error-codes.ts';
import { sanitizeUpstreamText } from './upstream-text.ts';

// The tables live in a module of their own (no imports), so the board's browser bundle can use them too.
export { ErrorCode, WsCloseCode } from './error-codes.ts';


/** What a gateway error may carry besides its message, one type for every transport. */
export interface GatewayErrorExtensions {
  readonly code: ErrorCode;
  /** The backend that failed (upstream errors, a missing related entity). */
  readonly backend?: string;
  /** The HTTP status the backend answered. */
  readonly upstreamStatus?: number;
  readonly retryAfterSeconds?: number;
  /** The bound that was passed (queue length, connections). */
  readonly limit?: number;
  readonly bytes?: number;
  /** Read by yoga: the response's status and headers when this error ends the request. */
  readonly http?: { readonly status?: number; readonly headers?: Readonly<Record<string, string>> };
}

declare module 'graphql' {
  // Every error built in this project (and read back) carries these types; a code outside the table does not compile.
  interface GraphQLErrorExtensions {
    code?: ErrorCode;
    backend?: string;
    upstreamStatus?: number;
    retryAfterSeconds?: number;
    limit?: number;
    bytes?: number;
    http?: GatewayErrorExtensions['http'];
  }
}

/** Builds a GraphQL error with typed extensions. */
export function gatewayError(
  code: ErrorCode,
  message: string,
  options: { readonly extensions?: Omit<GatewayErrorExtensions, 'code'> } & Omit<GraphQLErrorOptions, 'extensions'> = {},
): GraphQLError {
  const { extensions, ...rest } = options;
  return new GraphQLError(message, { ...rest, extensions: { code, ...extensions } });
}

/** The JSON body of an error answered before GraphQL runs (limits, authentication): the same shape as a GraphQL error. */
export function errorBody(code: ErrorCode, message: string, extensions: Omit<GatewayErrorExtensions, 'code'> = {}): { errors: [{ message: string; extensions: GatewayErrorExtensions }] } {
  return { errors: [{ message, extensions: { code, ...extensions } }] };
}


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
  return gatewayError(code, message, {
    path,
    extensions: { backend, ...(upstream?.details.status !== undefined ? { upstreamStatus: upstream.details.status } : {}) },
  });
}

export function notFound(message: string): GraphQLError {
  return gatewayError(ErrorCode.NotFound, message);
}

export function badInput(message: string): GraphQLError {
  return gatewayError(ErrorCode.BadUserInput, message);
}

/** Thrown at startup for an invalid config; the message names key, expectation and value. */
/** A service the config names cannot be used at start (e.g. the history database): one line, exit 2. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: readonly string[], source: string) {
    // One line per problem, each naming where it is: what `switchyard config check` prints too.
    super(issues.map((i) => `${source}: ${i}`).join('\n'));
  }
}

/**
 * Why a backend refused an action (issue 15), one vocabulary for every provider. The GraphQL
 * payload's `ActionErrorCode` carries these values unchanged.
 */
export const ActionRefusal = {
  /** The target already finished (GitHub: cancel of a completed run answers 409). */
  AlreadyFinished: 'ALREADY_FINISHED',
  /** The target cannot be retried in its present state (GitLab: retry of a running pipeline). */
  NotRetryable: 'NOT_RETRYABLE',
  /** The provider's re-run limits (GitHub: older than 30 days, or 50 re-runs). */
  RetryLimit: 'RETRY_LIMIT',
  /** Play / approve of something that is not waiting for it (GitLab: play of a job that is not manual; an approval already given). */
  NotWaiting: 'NOT_WAITING',
  /** The write identity may not answer this approval (Jenkins: input submitter list; GitLab: not an approver). */
  SubmitterNotAllowed: 'SUBMITTER_NOT_ALLOWED',
  /** The trigger's ref does not exist upstream. */
  UnknownRef: 'UNKNOWN_REF',
  /** An input the definition does not declare, of the wrong type, or a required one missing; `input` names it. */
  InvalidInput: 'INVALID_INPUT',
  /** The write credentials lack the permission (upstream 401/403). */
  Forbidden: 'UPSTREAM_FORBIDDEN',
  /** The upstream's CSRF protection refused the request even with a fresh crumb (Jenkins). */
  CrumbRejected: 'CRUMB_REJECTED',
  /** The provider cannot do this action at all, or not for this target. */
  NotSupported: 'NOT_SUPPORTED',
  /** The target does not exist upstream (any more). */
  NotFound: 'NOT_FOUND',
  /** Any other 4xx refusal; the message quotes the upstream's reason. */
  Refused: 'REFUSED',
} as const;
export type ActionRefusal = (typeof ActionRefusal)[keyof typeof ActionRefusal];

/** An upstream refusal of an action: names the backend, the reason, and the HTTP status it answered. */
export class ActionRefusedError extends Error {
  override readonly name = 'ActionRefusedError';
  constructor(
    readonly backend: string,
    readonly reason: ActionRefusal,
    message: string,
    /**
     * `calls`: every request the action sent, the refused one last, when the adapter knows them
     * (payload and audit then show them all); otherwise the core shows the one `method`/`path` names.
     */
    readonly details: { readonly status?: number; readonly method?: string; readonly path?: string; readonly input?: string; readonly calls?: readonly ActionCall[] } = {},
    options?: { cause?: unknown },
  ) {
    super(`[${backend}] ${sanitizeUpstreamText(message)}`, options);
  }
}

export function isActionRefusedError(error: unknown): error is ActionRefusedError {
  return error instanceof ActionRefusedError;
}

/**
 * A refusal carrying every request its action sent before it (`details.calls`), so the payload and
 * the audit show the reads that came first too. Adapters wrap `perform` with it; any other error,
 * or a refusal that already names its calls, passes through unchanged.
 */
export function withActionCalls(error: unknown, calls: readonly ActionCall[]): unknown {
  if (!isActionRefusedError(error) || error.details.calls || calls.length === 0) return error;
  const message = error.message.slice(`[${error.backend}] `.length);
  return new ActionRefusedError(error.backend, error.reason, message, { ...error.details, calls: [...calls] }, { cause: error.cause });
}
