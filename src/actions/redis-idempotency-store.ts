import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { asClaimResult, type Held, type IdempotencyClaim, type IdempotencyStore } from './idempotency-store.ts';

/** One atomic step: take a free key (a pending claim expiring after the hold) or return what holds it. */
const CLAIM = `
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1])
return false
`;

/** Replaces the value only while this claim (`ARGV[1]`, its pending JSON) still holds the key. */
const SWAP = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then return redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`;

function parse(value: string): Held | null {
  try {
    const v = JSON.parse(value) as Held;
    return v && (v.state === 'pending' || v.state === 'done') ? v : null;
  } catch {
    return null;
  }
}

/**
 * Shared by every instance on one Redis: the claim is one script, so two instances given the same
 * key at once perform the action once, and a waiter on either sees the outcome when it is stored.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  /** The pending JSON each claim of ours wrote, by token (to swap it only while it holds). */
  private readonly pending = new Map<string, string>();

  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  async claim(key: string, fingerprint: string, holdMs: number): Promise<IdempotencyClaim> {
    const token = randomUUID();
    const mine = JSON.stringify({ state: 'pending', token, fingerprint } satisfies Held);
    const existing = (await this.redis.eval(CLAIM, 1, this.prefix + key, String(holdMs), mine)) as string | null;
    if (existing === null) {
      this.pending.set(token, mine);
      return { status: 'claimed', token };
    }
    const held = parse(existing);
    // An unreadable value is someone else's: treat it as a claim under way (it expires).
    return held ? asClaimResult(held) : { status: 'pending', fingerprint: '' };
  }

  async peek(key: string) {
    const value = await this.redis.get(this.prefix + key);
    const held = value === null ? null : parse(value);
    return held ? asClaimResult(held) : null;
  }

  async complete(key: string, token: string, fingerprint: string, outcome: string, ttlMs: number): Promise<void> {
    const mine = this.pending.get(token);
    this.pending.delete(token);
    if (mine === undefined) return;
    await this.redis.eval(SWAP, 1, this.prefix + key, mine, JSON.stringify({ state: 'done', fingerprint, outcome } satisfies Held), String(ttlMs));
  }

  async release(key: string, token: string): Promise<void> {
    const mine = this.pending.get(token);
    this.pending.delete(token);
    if (mine !== undefined) await this.redis.eval(SWAP, 1, this.prefix + key, mine, '', '0');
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
