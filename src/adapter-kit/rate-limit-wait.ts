import { ErrorCode, UpstreamError } from '../errors.ts';

/**
 * A client's own rate-limit wait: once the upstream asked for a pause
 * (Retry-After, a reset time), every request the client would send before it
 * ends fails at once with UPSTREAM_RATE_LIMITED instead of going out. The core's
 * policy blocks new reads too; this also stops the requests already under way
 * in the same read (the other pages and details of one poll cycle).
 */
export class RateLimitWait {
  private untilMs = 0;

  constructor(
    private readonly backend: string,
    private readonly provider: string,
    private readonly now: () => Date,
  ) {}

  /** Milliseconds left of the wait (0 when none). */
  remainingMs(): number {
    return Math.max(0, this.untilMs - this.now().getTime());
  }

  /**
   * Throws instead of letting `method path` go out during a wait; `alsoWaitMs` adds a
   * wait the client derives itself (GitLab: remaining 0 until the window resets).
   */
  check(method: string, path: string, alsoWaitMs = 0): void {
    const wait = Math.max(this.remainingMs(), alsoWaitMs);
    if (wait > 0) {
      throw new UpstreamError(this.backend, ErrorCode.UpstreamRateLimited, `${method} ${path} not sent: ${this.provider} rate limit (retry in ${Math.ceil(wait / 1000)}s)`, {
        method, path, retryAfterMs: wait,
      });
    }
  }

  /** Remembers a wait the upstream asked for (the longer one wins). */
  extend(waitMs: number): void {
    this.untilMs = Math.max(this.untilMs, this.now().getTime() + waitMs);
  }
}
