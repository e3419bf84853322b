import type { BackendEntry } from '../backend-registry.ts';

/** Deliveries count as flowing while the last verified one is at most this old. */
export const DELIVERY_SILENCE_MS = 5 * 60_000;
/** The poller's interval when the adapter names none (as the poll scheduler). */
const DEFAULT_POLL_INTERVAL_MS = 30_000;
/**
 * While a backend's webhooks keep the live state current, polls are only the
 * reconcile (repairing a delivery that never came), so the poll scheduler runs
 * them this many times less often. Adapters that ask for their next poll
 * themselves (Jenkins, rate-limit waits) keep their own.
 */
export const RECONCILE_STRETCH = 2;
/** Room past the stretched interval for its jitter, a slow cycle and Jenkins' longer idle interval. */
const RECONCILE_GRACE_MS = 60_000;

/**
 * Whether a backend's webhooks keep the live state current, so job lists (and
 * pipelines and jobs) can be served from it without re-reading REST. Decided
 * from what the gateway itself saw, per backend:
 * - webhooks are configured and a verified delivery arrived within
 *   DELIVERY_SILENCE_MS (a hook GitHub disabled, or a broken route, goes quiet);
 * - the reconcile runs: a poll cycle succeeded within (RECONCILE_STRETCH + 1)
 *   poll intervals plus RECONCILE_GRACE_MS. Polls re-read the jobs of running and changed
 *   pipelines, so a delivery that never came is repaired by the next cycle;
 *   while polls fail (upstream down) nothing would repair it, so the answer
 *   goes back to reading upstream (and says so when that fails).
 */
export function deliveriesCurrent(backend: BackendEntry, nowMs: number): boolean {
  const { adapter, health } = backend;
  if (!adapter.webhook || !adapter.poll) return false;
  const { lastWebhookAt, lastPollAt } = health.current;
  if (!lastWebhookAt || nowMs - lastWebhookAt.getTime() > DELIVERY_SILENCE_MS) return false;
  const reconcileWithinMs = (RECONCILE_STRETCH + 1) * (adapter.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS) + RECONCILE_GRACE_MS;
  return lastPollAt !== null && nowMs - lastPollAt.getTime() <= reconcileWithinMs;
}
