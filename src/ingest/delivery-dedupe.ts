import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Remembers webhook delivery ids so a redelivered or replayed webhook has no
 * second effect. GitHub redeliveries keep X-GitHub-Delivery; GitLab retries
 * keep Idempotency-Key (signed deliveries: webhook-id).
 *
 * A delivery is claimed while it is processed and completed only once its
 * changes are published; a failed one is released. While a claim is pending
 * a redelivery is told "in progress" (answered 503 + Retry-After), never
 * "done": acknowledging it could lose the delivery if the holder fails. A claim
 * that is never completed (its instance died) expires after the hold, so the
 * delivery can be retried. A delivery is only remembered as done once it had
 * its effect.
 *
 * Keys are scoped by backend: two backends may use the same delivery id.
 */
export interface DeliveryKey {
  readonly backend: string;
  readonly deliveryId: string;
}

export type Claim =
  /** Process it now; `token` proves ownership when releasing. */
  | { readonly status: 'claimed'; readonly token: string }
  /** A duplicate of a delivery that had its effect. */
  | { readonly status: 'done' }
  /** Being processed by another attempt; retry after the claim's remaining hold. */
  | { readonly status: 'in-progress'; readonly retryAfterMs: number };

export interface DeliveryDedupe {
  /** `holdMs`: how long the claim holds unanswered (the provider's webhook timeout); default the store's. */
  claim(key: DeliveryKey, holdMs?: number): Promise<Claim>;
  /** The delivery had its effect: later ones with this key are duplicates. */
  complete(key: DeliveryKey): Promise<void>;
  /** The delivery failed: a retry may claim it at once (only if `token` still holds the claim). */
  release(key: DeliveryKey, token: string): Promise<void>;
}

/**
 * A claim older than the provider's webhook timeout belongs to a dead attempt. Each
 * provider states its own (`AdapterFactory.webhookTimeoutMs`); this is the default.
 */
export const CLAIM_HOLD_MS = 10_000;

export interface DedupeTimes {
  /** How long a completed delivery id is remembered. */
  readonly doneTtlMs: number;
  /** How long a claim holds without being completed or released (default {@link CLAIM_HOLD_MS}). */
  readonly claimHoldMs?: number;
}

/** Backend names cannot contain ':', so `<backend>:<id>` never collides across backends. */
function scoped(key: DeliveryKey): string {
  return `${key.backend}:${key.deliveryId}`;
}

/** In-process, bounded by count and age. */
export class MemoryDeliveryDedupe implements DeliveryDedupe {
  private readonly seen = new Map<string, { expiresAt: number; done: boolean; token: string }>();
  private readonly doneTtlMs: number;
  private readonly claimHoldMs: number;

  constructor(
    times: DedupeTimes,
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {
    this.doneTtlMs = times.doneTtlMs;
    this.claimHoldMs = times.claimHoldMs ?? CLAIM_HOLD_MS;
  }

  async claim(key: DeliveryKey, holdMs = this.claimHoldMs): Promise<Claim> {
    const now = this.now();
    const k = scoped(key);
    const entry = this.seen.get(k);
    if (entry && now < entry.expiresAt) {
      return entry.done ? { status: 'done' } : { status: 'in-progress', retryAfterMs: entry.expiresAt - now };
    }
    const token = randomUUID();
    this.remember(k, { expiresAt: now + holdMs, done: false, token }, now);
    return { status: 'claimed', token };
  }

  async complete(key: DeliveryKey): Promise<void> {
    const now = this.now();
    this.remember(scoped(key), { expiresAt: now + this.doneTtlMs, done: true, token: '' }, now);
  }

  async release(key: DeliveryKey, token: string): Promise<void> {
    const k = scoped(key);
    const entry = this.seen.get(k);
    if (entry && !entry.done && entry.token === token) this.seen.delete(k);
  }

  private remember(k: string, entry: { expiresAt: number; done: boolean; token: string }, now: number): void {
    this.seen.delete(k);
    this.seen.set(k, entry);
    // Oldest first: drop what expired, and the oldest beyond the bound.
    for (const [key, e] of this.seen) {
      if (this.seen.size <= this.maxEntries && now < e.expiresAt) break;
      this.seen.delete(key);
    }
  }
}

/**
 * One atomic step: take a free key (value `pending:<token>`, expiring after the
 * hold), or say what holds it: `done`, or a pending claim and its remaining time.
 */
const CLAIM = `
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], 'pending:' .. ARGV[2], 'PX', ARGV[1])
  return {'claimed'}
end
if v == 'done' then return {'done'} end
return {'in-progress', redis.call('PTTL', KEYS[1])}
`;

/** Deletes the claim only if this attempt still holds it (it may have expired and been taken by another). */
const RELEASE = `
if redis.call('GET', KEYS[1]) == 'pending:' .. ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Shared by every instance on one Redis (the claim is one atomic script), so
 * a delivery retried to another instance behind a load balancer is still a
 * duplicate, and one being processed elsewhere is not taken twice.
 */
export class RedisDeliveryDedupe implements DeliveryDedupe {
  private readonly doneTtlMs: number;
  private readonly claimHoldMs: number;

  constructor(
    private readonly redis: Redis,
    times: DedupeTimes,
    private readonly prefix = 'switchyard:deliveries:',
  ) {
    this.doneTtlMs = times.doneTtlMs;
    this.claimHoldMs = times.claimHoldMs ?? CLAIM_HOLD_MS;
  }

  async claim(key: DeliveryKey, holdMs = this.claimHoldMs): Promise<Claim> {
    const token = randomUUID();
    const reply = (await this.redis.eval(CLAIM, 1, this.redisKey(key), String(holdMs), token)) as [string, number?];
    if (reply[0] === 'claimed') return { status: 'claimed', token };
    if (reply[0] === 'done') return { status: 'done' };
    // PTTL is -1 for a key without expiry (never written so by us): treat it as a full hold.
    const remaining = typeof reply[1] === 'number' && reply[1] > 0 ? reply[1] : holdMs;
    return { status: 'in-progress', retryAfterMs: remaining };
  }

  async complete(key: DeliveryKey): Promise<void> {
    await this.redis.set(this.redisKey(key), 'done', 'PX', this.doneTtlMs);
  }

  async release(key: DeliveryKey, token: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.redisKey(key), token);
  }

  private redisKey(key: DeliveryKey): string {
    return `${this.prefix}${scoped(key)}`;
  }
}
