/**
 * Buildkite's REST rate limits (reference §1.2): a fixed window per
 * organization (`RateLimit-*`, scope `rest`) and, when configured, one per
 * user, i.e. per token here (`RateLimit-User-*`, scope `rest_user`). A request
 * over either is refused 429 with `{message, scope, limit, current, reset}`;
 * `reset` and the Reset headers are seconds until the window restarts.
 */
export interface RateLimitSpec {
  readonly limit: number;
  readonly windowSeconds: number;
}

export class RateWindow {
  private start = Number.NEGATIVE_INFINITY;
  private used = 0;

  constructor(readonly spec: RateLimitSpec) {}

  /** Counts one request at `nowSec`. */
  take(nowSec: number): { used: number; remaining: number; reset: number; over: boolean } {
    if (nowSec >= this.start + this.spec.windowSeconds) {
      this.start = nowSec;
      this.used = 0;
    }
    this.used++;
    return {
      used: this.used,
      remaining: Math.max(0, this.spec.limit - this.used),
      reset: this.start + this.spec.windowSeconds - nowSec,
      over: this.used > this.spec.limit,
    };
  }
}

export interface RateVerdict {
  readonly headers: Record<string, string>;
  /** The 429 body when a limit is exceeded (the organization's is checked first). */
  readonly refusal: { message: string; scope: string; limit: number; current: number; reset: number } | null;
}

export class RateLimits {
  private readonly org: RateWindow;
  private readonly users = new Map<string, RateWindow>();

  constructor(org: RateLimitSpec, private readonly user: RateLimitSpec | undefined) {
    this.org = new RateWindow(org);
  }

  take(token: string, nowSec: number): RateVerdict {
    const o = this.org.take(nowSec);
    const headers: Record<string, string> = {
      'RateLimit-Scope': 'rest',
      'RateLimit-Limit': String(this.org.spec.limit),
      'RateLimit-Remaining': String(o.remaining),
      'RateLimit-Reset': String(o.reset),
    };
    if (o.remaining === 0) headers['RateLimit-Warning'] = 'You have exceeded your rate limit for this organization.';
    let refusal: RateVerdict['refusal'] = o.over
      ? { message: 'You have exceeded your rate limit. Please wait a while before trying again.', scope: 'rest', limit: this.org.spec.limit, current: o.used, reset: o.reset }
      : null;
    if (this.user) {
      let w = this.users.get(token);
      if (!w) this.users.set(token, (w = new RateWindow(this.user)));
      const u = w.take(nowSec);
      Object.assign(headers, {
        'RateLimit-User-Scope': 'rest_user',
        'RateLimit-User-Limit': String(this.user.limit),
        'RateLimit-User-Remaining': String(u.remaining),
        'RateLimit-User-Reset': String(u.reset),
      });
      if (u.remaining === 0) headers['RateLimit-User-Warning'] = 'You have exceeded your rate limit for this user.';
      refusal ??= u.over
        ? { message: 'You have exceeded your rate limit. Please wait a while before trying again.', scope: 'rest_user', limit: this.user.limit, current: u.used, reset: u.reset }
        : null;
    }
    return { headers, refusal };
  }

}
