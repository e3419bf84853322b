/** `history.backfill` in the config: how much of the past to import, and how gently. */
export interface BackfillConfig {
  readonly enabled: boolean;
  /** Import pipelines created in the last `days` days. */
  readonly days: number;
  /** Upstream requests per minute per backend the backfill may send (live traffic keeps the rest). */
  readonly requestsPerMinute: number;
  /** Projects of one backend imported at the same time. */
  readonly concurrency: number;
  /** Pause while the backend reports fewer requests left in its rate-limit window than this. */
  readonly rateLimitReserve: number;
  /** Pipelines asked for per list request (100: the most GitHub and GitLab return per page). */
  readonly pageSize: number;
  /**
   * Instances sharing one history run a backend's backfill one at a time: the lease (renewed
   * every third of this) is lost this long after its holder stops renewing it (died).
   */
  readonly leaseSeconds: number;
}

export const DEFAULT_BACKFILL: BackfillConfig = {
  enabled: true, days: 7, requestsPerMinute: 30, concurrency: 1, rateLimitReserve: 500, pageSize: 100, leaseSeconds: 30,
};
