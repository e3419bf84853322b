import type { NotificationErrorCode } from '../__generated__/resolvers-types.ts';
import { ErrorCode } from '../errors.ts';

/** The payload's NotificationErrorCode by name (watchPipeline, redriveNotifications); codes shared with the gateway's table come from it. */
export const NotifyCode = {
  NotFound: ErrorCode.NotFound,
  Forbidden: 'FORBIDDEN',
  NotConfigured: 'NOT_CONFIGURED',
  InvalidSink: 'INVALID_SINK',
} as const satisfies Record<string, NotificationErrorCode>;

export type { NotificationErrorCode };
