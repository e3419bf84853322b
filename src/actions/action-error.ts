import type { ActionErrorCode } from '../__generated__/resolvers-types.ts';
import { ActionRefusal, ErrorCode, isActionRefusedError, isUpstreamError } from '../errors.ts';

/**
 * The payload's ActionErrorCode by name: the backend's refusals (ActionRefusal, the same strings)
 * plus the core's own; codes shared with the gateway's table come from it.
 */
export const ActionCode = {
  ...ActionRefusal,
  NotFound: ErrorCode.NotFound,
  Forbidden: 'FORBIDDEN',
  NotConfigured: 'NOT_CONFIGURED',
  IdempotencyConflict: 'IDEMPOTENCY_CONFLICT',
  UpstreamUnavailable: ErrorCode.UpstreamUnavailable,
  UpstreamRateLimited: ErrorCode.UpstreamRateLimited,
  UpstreamForbidden: ActionRefusal.Forbidden,
} as const satisfies Record<string, ActionErrorCode>;

/** One typed failure of an action, as the payload's `errors` carries it. */
export interface ActionErrorModel {
  readonly code: ActionErrorCode;
  readonly message: string;
  readonly backend?: string | null;
  readonly input?: string | null;
  readonly upstreamStatus?: number | null;
}

/** A refusal decided by the core (scope, ids, inputs, idempotency): thrown inside the action, answered in its payload. */
export class ActionFailure extends Error {
  override readonly name = 'ActionFailure';
  constructor(readonly error: ActionErrorModel) {
    super(error.message);
  }
}

export function fail(code: ActionErrorCode, message: string, extra: Omit<ActionErrorModel, 'code' | 'message'> = {}): never {
  throw new ActionFailure({ code, message, ...extra });
}

/**
 * Any failure of an action as its typed error: the core's own refusals, the backend's
 * refusals (ActionRefusedError: the same vocabulary), and transport failures (UpstreamError).
 */
export function toActionError(error: unknown, backend: string | null): ActionErrorModel {
  if (error instanceof ActionFailure) return error.error;
  if (isActionRefusedError(error)) {
    return {
      code: error.reason, message: error.message, backend: error.backend,
      ...(error.details.input !== undefined ? { input: error.details.input } : {}),
      ...(error.details.status !== undefined ? { upstreamStatus: error.details.status } : {}),
    };
  }
  if (isUpstreamError(error)) {
    const status = error.details.status;
    const code: ActionErrorCode = error.code === ErrorCode.UpstreamRateLimited ? ActionCode.UpstreamRateLimited
      : error.code === ErrorCode.UpstreamUnauthorized || status === 401 || status === 403 ? ActionCode.UpstreamForbidden
        : ActionCode.UpstreamUnavailable;
    return { code, message: error.message, backend: error.backend, ...(status !== undefined ? { upstreamStatus: status } : {}) };
  }
  // Anything else is ours or a transport fault: the action may or may not have happened.
  return { code: ActionCode.UpstreamUnavailable, message: backend ? `[${backend}] the action failed; it may or may not have reached the backend` : 'the action failed', backend };
}
