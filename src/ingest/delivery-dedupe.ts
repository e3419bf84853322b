import type { Redis } from 'ioredis';

/**
 * Remembers webhook delivery ids so a redelivered or replayed webhook has no
 * second effect. GitHub redeliveries keep X-GitHub-Delivery; GitLab retries
 * keep Idempotency-Key.
 */
export interface DeliveryDedupe {
  /** True the first time a key is seen within the TTL; records it. */
  firstSeen(key: string): Promise<boolean>;
  /** Forget a key, so a delivery that failed to apply can be retried. */
  forget(key: string): Promise<void>;
}

/** In-process, bounded by count and age. */
export class MemoryDeliveryDedupe implements DeliveryDedupe {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  async firstSeen(key: string): Promise<boolean> {
    const now = this.now();
    const at = this.seen.get(key);
    if (at !== undefined && now - at < this.ttlMs) return false;
    this.seen.delete(key);
    this.seen.set(key, now);
    this.prune(now);
    return true;
  }

  async forget(key: string): Promise<void> {
    this.seen.delete(key);
  }

  private prune(now: number): void {
    for (const [k, at] of this.seen) {
      if (this.seen.size <= this.maxEntries && now - at < this.ttlMs) break;
      this.seen.delete(k);
    }
  }
}

/**
 * Shared by every instance on one Redis (`SET key NX PX ttl` is atomic), so a
 * delivery retried to another instance behind a load balancer is still a duplicate.
 */
export class RedisDeliveryDedupe implements DeliveryDedupe {
  constructor(
    private readonly redis: Redis,
    private readonly ttlMs: number,
    private readonly prefix = 'switchyard:deliveries:',
  ) {}

  async firstSeen(key: string): Promise<boolean> {
    return (await this.redis.set(`${this.prefix}${key}`, '1', 'PX', this.ttlMs, 'NX')) === 'OK';
  }

  async forget(key: string): Promise<void> {
    await this.redis.del(`${this.prefix}${key}`);
  }
}
