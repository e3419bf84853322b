import type { Logger } from 'pino';
import type { BackendEntry } from '../../backend-registry.ts';
import { sleep } from './budget.ts';

const MAX_PAUSE_TICK_MS = 500;

/**
 * The backfill's pause for a backend's rate limit: while the policy holds a rate-limit
 * wait, or the window's remaining requests are below the reserve until its reset.
 * `untilMs` is what `Backend.sync` shows as `pausedUntil` (a follower sets it from the holder's).
 */
export class RateLimitPause {
  untilMs: number | null = null;

  constructor(
    private readonly backend: BackendEntry,
    private readonly reserve: number,
    private readonly log: Logger,
    private readonly now: () => Date,
  ) {}

  /** Waits until the backend has room for the backfill's next request. */
  async room(signal: AbortSignal): Promise<void> {
    for (;;) {
      const nowMs = this.now().getTime();
      const until = this.pausedUntil(nowMs);
      if (until === null) {
        if (this.untilMs !== null) this.log.info({ backend: this.backend.name }, 'backfill resumed after the rate-limit pause');
        this.untilMs = null;
        return;
      }
      if (this.untilMs !== until) {
        const h = this.backend.health.current;
        this.log.info({ backend: this.backend.name, until: new Date(until).toISOString(), rateLimitRemaining: h.rateLimitRemaining, reserve: this.reserve }, 'backfill paused: rate limited');
      }
      this.untilMs = until;
      await sleep(Math.min(MAX_PAUSE_TICK_MS, until - nowMs), signal);
    }
  }

  private pausedUntil(nowMs: number): number | null {
    let until = this.backend.policy.blockedUntil();
    const h = this.backend.health.current;
    const resetMs = h.rateLimitResetAt?.getTime() ?? 0;
    if (h.rateLimitRemaining !== null && h.rateLimitRemaining < this.reserve && resetMs > nowMs) until = Math.max(until, resetMs);
    return until > nowMs ? until : null;
  }
}
