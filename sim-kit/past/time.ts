export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export function isWeekend(ms: number): boolean {
  return [0, 6].includes(new Date(ms).getUTCDay());
}
