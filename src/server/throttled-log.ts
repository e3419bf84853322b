/**
 * A condition that can repeat per connection (a full connection table, no file
 * descriptors left) is logged once per interval with the number of occurrences,
 * so a flood cannot flood the log too.
 */
export interface ThrottledEvent {
  /** Counts one occurrence; reports at once if the last report is older than the interval. */
  (): void;
  /** Occurrences so far. */
  readonly total: number;
  /** Epoch ms of the last occurrence, or null. */
  readonly lastAt: number | null;
}

export function throttledEvent(report: (occurrences: number) => void, intervalMs: number, now: () => number = Date.now): ThrottledEvent {
  let total = 0;
  let unreported = 0;
  let lastReportAt = -Infinity;
  let lastAt: number | null = null;
  const occur = () => {
    total++;
    unreported++;
    lastAt = now();
    if (lastAt - lastReportAt < intervalMs) return;
    lastReportAt = lastAt;
    const n = unreported;
    unreported = 0;
    report(n);
  };
  return Object.defineProperties(occur, {
    total: { get: () => total },
    lastAt: { get: () => lastAt },
  }) as ThrottledEvent;
}
