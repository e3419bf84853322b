import { ErrorCode, gatewayError } from '../../errors.ts';

/** The documented limits (README "Analytics"). */
export const ANALYTICS_LIMITS = {
  maxWindowDays: 400,
  maxGroups: 1000,
  maxTop: 100,
  defaultWindowDays: 7,
} as const;

const DAY_MS = 86_400_000;

export function analyticsLimit(message: string): Error {
  return gatewayError(ErrorCode.AnalyticsLimit, message);
}

export interface WindowInput {
  readonly from?: string | null;
  readonly to?: string | null;
  readonly lastDays?: number | null;
}

export interface AnalyticsWindow {
  readonly from: Date;
  readonly to: Date;
}

/** [from, to): `lastDays` before `to`, or from..to; to defaults to now, the span to 7 days. */
export function resolveWindow(input: WindowInput | null | undefined, now: Date): AnalyticsWindow {
  const to = input?.to ? new Date(input.to) : now;
  if (input?.lastDays !== undefined && input.lastDays !== null) {
    if (input.from) throw analyticsLimit('window: give either lastDays or from, not both');
    if (!Number.isInteger(input.lastDays) || input.lastDays < 1) throw analyticsLimit(`window.lastDays: expected a whole number of days >= 1, received ${input.lastDays}`);
  }
  const from = input?.from ? new Date(input.from) : new Date(to.getTime() - (input?.lastDays ?? ANALYTICS_LIMITS.defaultWindowDays) * DAY_MS);
  if (!(from.getTime() < to.getTime())) throw analyticsLimit(`window: expected from before to, received from ${from.toISOString()} and to ${to.toISOString()}`);
  const days = (to.getTime() - from.getTime()) / DAY_MS;
  if (days > ANALYTICS_LIMITS.maxWindowDays) {
    throw analyticsLimit(`window: at most ${ANALYTICS_LIMITS.maxWindowDays} days, received ${Math.ceil(days)} days; narrow it`);
  }
  return { from, to };
}

export function checkTop(top: number, field: string): number {
  if (!Number.isInteger(top) || top < 1 || top > ANALYTICS_LIMITS.maxTop) {
    throw analyticsLimit(`${field}.top: expected 1 to ${ANALYTICS_LIMITS.maxTop}, received ${top}`);
  }
  return top;
}
