/**
 * The fault test's own checker. It knows every job change the test sent (one
 * per workflow_job webhook) and, per logical subscriber (across all its
 * reconnects), counts:
 * - lost: an expected change (in the subscriber's filter) never delivered;
 * - duplicated: a change delivered more than once, counted by cursor and by
 *   entity revision (job name + status: each job passes each status once);
 * - unexpected: a delivered change the test never sent, or outside the filter.
 * Changes of jobs outside the measured set (warm-up) are ignored.
 */
import type { JobFilter, ReceivedJobEvent } from './resuming-subscriber.ts';

export interface SentJobChange {
  readonly name: string;
  readonly status: string;
}

export interface SubscriberCounts {
  readonly label: string;
  readonly expected: number;
  readonly received: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly unexpected: number;
}

const STATUS: Record<string, string> = { queued: 'QUEUED', in_progress: 'RUNNING', waiting: 'WAITING' };
const CONCLUSION: Record<string, string> = { success: 'SUCCESS', failure: 'FAILURE', cancelled: 'CANCELED', timed_out: 'TIMED_OUT', skipped: 'SKIPPED' };

/** The job change a GitHub `workflow_job` webhook body announces, in the unified status vocabulary. */
export function jobChangeOf(body: string): SentJobChange | null {
  const payload = JSON.parse(body) as { workflow_job?: { name: string; status: string; conclusion: string | null } };
  const job = payload.workflow_job;
  if (!job) return null;
  const status = job.status === 'completed' ? CONCLUSION[job.conclusion ?? ''] : STATUS[job.status];
  return status ? { name: job.name, status } : null;
}

export function countDeliveries(
  label: string,
  filter: JobFilter,
  sent: readonly SentJobChange[],
  received: readonly ReceivedJobEvent[],
  isMeasured: (jobName: string) => boolean,
): SubscriberCounts {
  const inFilter = (status: string) => !filter.status || filter.status.includes(status);
  const key = (c: SentJobChange) => `${c.name}\u0000${c.status}`;
  const sentKeys = new Set(sent.map(key));
  const expected = new Set(sent.filter((c) => inFilter(c.status)).map(key));
  const seenKeys = new Map<string, number>();
  const seenCursors = new Set<string>();
  let duplicated = 0;
  let unexpected = 0;
  let measured = 0;
  for (const event of received) {
    if (!isMeasured(event.name)) continue;
    measured++;
    const k = key(event);
    const times = (seenKeys.get(k) ?? 0) + 1;
    seenKeys.set(k, times);
    if (times > 1 || seenCursors.has(event.cursor)) duplicated++;
    seenCursors.add(event.cursor);
    if (!sentKeys.has(k) || !expected.has(k)) unexpected++;
  }
  let lost = 0;
  for (const k of expected) if (!seenKeys.has(k)) lost++;
  return { label, expected: expected.size, received: measured, lost, duplicated, unexpected };
}
