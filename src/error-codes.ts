// The error code tables: no imports, so browser code (src/board/ui) shares them with the gateway.

/**
 * Every code a client can find in `extensions.code`, ours and the few that
 * graphql-yoga sets itself. The one list: GraphQLErrorExtensions is typed below,
 * so a code not in it does not compile. Adding one is a new row here.
 */
export const ErrorCode = {
  // A backend failed; `extensions.backend` names it.
  UpstreamUnavailable: 'UPSTREAM_UNAVAILABLE',
  UpstreamTimeout: 'UPSTREAM_TIMEOUT',
  UpstreamRateLimited: 'UPSTREAM_RATE_LIMITED',
  UpstreamUnauthorized: 'UPSTREAM_UNAUTHORIZED',
  UpstreamBadResponse: 'UPSTREAM_BAD_RESPONSE',
  /** The calling identity spent its budget of upstream reads (limits.upstreamCallsPerIdentityPerMinute). */
  UpstreamBudgetExceeded: 'UPSTREAM_BUDGET_EXCEEDED',
  // The request itself.
  NotFound: 'NOT_FOUND',
  BadUserInput: 'BAD_USER_INPUT',
  /** Not a GraphQL request (also yoga's code for a malformed one). */
  BadRequest: 'BAD_REQUEST',
  /** Set by yoga: the document failed validation, including graphql-armor's depth, alias, cost and token limits. */
  GraphqlValidationFailed: 'GRAPHQL_VALIDATION_FAILED',
  /** Set by yoga: the document does not parse. */
  GraphqlParseFailed: 'GRAPHQL_PARSE_FAILED',
  PersistedQueryNotInList: 'PERSISTED_QUERY_NOT_IN_LIST',
  DocumentTooLarge: 'DOCUMENT_TOO_LARGE',
  DirectiveLimit: 'DIRECTIVE_LIMIT',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  // Who is calling.
  Unauthenticated: 'UNAUTHENTICATED',
  /** The JWKS cannot be fetched or key verification is saturated (HTTP 503). */
  AuthUnavailable: 'AUTH_UNAVAILABLE',
  /** This address failed to authenticate too often (HTTP 429). */
  TooManyAuthFailures: 'TOO_MANY_AUTH_FAILURES',
  // Limits and load.
  RateLimited: 'RATE_LIMITED',
  /** The rate limiter's Redis store cannot be reached, so nothing is run. */
  RateLimitUnavailable: 'RATE_LIMIT_UNAVAILABLE',
  ConnectionLimit: 'CONNECTION_LIMIT',
  SubscriptionLimit: 'SUBSCRIPTION_LIMIT',
  ServerBusy: 'SERVER_BUSY',
  Overloaded: 'OVERLOADED',
  // Subscriptions that end.
  SubscriptionOverflow: 'SUBSCRIPTION_OVERFLOW',
  HistoryLost: 'HISTORY_LOST',
  HistoryUnavailable: 'HISTORY_UNAVAILABLE',
  // The durable CI history (src/history): analytics and pages older than live state.
  /** History is turned off, still opening, or its database cannot be reached; the message names the cause. */
  AnalyticsUnavailable: 'ANALYTICS_UNAVAILABLE',
  /** A window, group-by or page beyond the documented analytics limits. */
  AnalyticsLimit: 'ANALYTICS_LIMIT',
  // Live job logs (src/logs).
  /** The job's log cannot be read (not yet, not at all, or no longer); the message says why. */
  LogUnavailable: 'LOG_UNAVAILABLE',
  /** The identity follows as many job logs at once as logs.maxTailsPerIdentity allows. */
  LogTailLimit: 'LOG_TAIL_LIMIT',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** WebSocket close codes the gateway uses (the graphql-ws numbers where one means the same). */
export const WsCloseCode = {
  /** A message that breaks graphql-transport-ws. */
  BadRequest: 4400,
  /** Not authenticated, or the credential expired or was revoked. */
  Forbidden: 4403,
  /** Try later: too many failed logins, a saturated verifier, too many connections. */
  TooManyRequests: 4429,
  /** A fault of ours. */
  InternalError: 4500,
} as const;
export type WsCloseCode = (typeof WsCloseCode)[keyof typeof WsCloseCode];
