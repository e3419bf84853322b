import type { Redis } from 'ioredis';

/**
 * Remembers webhook delivery ids so a redelivered or replayed webhook has no
 * second effect. GitHub redeliveries keep X-GitHub-Delivery; GitLab retries
 * keep Idempotency-Key.
 *
 * A delivery is claimed while it is processed and completed only once its
 * changes are published; a failed one is released. A claim that is never
 * completed (the instance died) expires, so the delivery can be retried: it is
 * never remembered as done without having had its effect.
 */
export type ClaimResult = 'claimed' | 'done' | 'in-progress';

export interface DeliveryDedupe {
  /** 'claimed': process it now; 'done': a duplicate; 'in-progress': being processed, retry later. */
  claim(key: string): Promise<ClaimResult>;
  /** The delivery had its effect: later ones with this key are duplicates. */
  complete(key: string): Promise<void>;
  /** The delivery failed: a retry may claim it at once. */
  release(key: string): Promise<void>;
}

/** GitHub gives up on a delivery after 10 s: a claim older than that belongs to a dead attempt. */
export const CLAIM_TTL_MS = 10_000;

/** In-process, bounded by count and age. */
export class MemoryDeliveryDedupe implements DeliveryDedupe {
  private readonly seen = new Map<string, { at: number; done: boolean }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  async claim(key: string): Promise<ClaimResult> {
    const now = this.now();
    const entry = this.seen.get(key);
    if (entry && now - entry.at < (entry.done ? this.ttlMs : CLAIM_TTL_MS)) return entry.done ? 'done' : 'in-progress';
    this.remember(key, false, now);
    return 'claimed';
  }

  async complete(key: string): Promise<void> {
    this.remember(key, true, this.now());
  }

  async release(key: string): Promise<void> {
    this.seen.delete(key);
  }

  private remember(key: string, done: boolean, now: number): void {
    this.seen.delete(key);
    this.seen.set(key, { at: now, done });
    for (const [k, entry] of this.seen) {
      if (this.seen.size <= this.maxEntries && now - entry.at < this.ttlMs) break;
      this.seen.delete(k);
    }
  }
}

/** SET NX of a short-lived claim; on a miss, the existing value says done or in progress. */
const CLAIM = `
if redis.call('SET', KEYS[1], 'pending', 'NX', 'PX', ARGV[1]) then return 'claimed' end
return "done"
`;

/**
 * Shared by every instance on one Redis (the claim is one atomic script), so
 * a delivery retried to another instance behind a load balancer is still a
 * duplicate, and one being processed elsewhere is not taken twice.
 */
export class RedisDeliveryDedupe implements DeliveryDedupe {
  constructor(
    private readonly redis: Redis,
    private readonly ttlMs: number,
    private readonly prefix = 'switchyard:deliveries:',
  ) {}

  async claim(key: string): Promise<ClaimResult> {
    const value = await this.redis.eval(CLAIM, 1, `${this.prefix}${key}`, String(CLAIM_TTL_MS));
    if (value === 'claimed') return 'claimed';
    return value === 'pending' ? 'in-progress' : 'done';
  }

  async complete(key: string): Promise<void> {
    await this.redis.set(`${this.prefix}${key}`, 'done', 'PX', this.ttlMs);
  }

  async release(key: string): Promise<void> {
    await this.redis.del(`${this.prefix}${key}`);
  }
}
