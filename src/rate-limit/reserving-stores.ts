import { Store } from '@envelop/rate-limiter';
import type { GraphQLError } from 'graphql';
import type { Redis } from 'ioredis';
import { ErrorCode, gatewayError } from '../errors.ts';


type Identity = { readonly contextIdentity: string; readonly fieldIdentity: string };

/**
 * Stores for @envelop/rate-limiter that make the limit hold under concurrency.
 *
 * The limiter reads an identity's call timestamps, decides, then writes them
 * back: two concurrent requests can both read "9 calls" and both pass (the
 * race that lets parallel requests through graphql-rate-limit 3.3 and the
 * stock RedisStore). These stores close the race by *reserving* in the read:
 * `getForIdentity` atomically records the new call and returns the calls
 * before it, so every caller sees a distinct count. Rejected calls are counted, as with the limiter's default
 * (`uncountRejected: false`); `readOnly` and `uncountRejected` are not supported.
 *
 * `arrayLengthField` (a call costs one per list item, e.g. `nodes(ids)` one per
 * id): the limiter decides with the full cost, but `getForIdentity` is not told
 * it and reserves one; `setForIdentity` records the rest. The limiter stores
 * `[...earlier calls, ...this request's calls]`, this call's `cost` copies of
 * one timestamp last, so the cost is the length of that trailing run (an
 * earlier call in the same millisecond makes it count more, never less).
 */
export function extraCostOf(timestamps: readonly number[]): number {
  const last = timestamps.at(-1);
  if (last === undefined) return 0;
  let run = 0;
  for (let i = timestamps.length - 1; i >= 0 && timestamps[i] === last; i--) run++;
  return run - 1;
}

/**
 * The field of a limiter identity (`<fieldName>:<identity args>`) when it costs one per
 * list item; other fields never record more than their reserved call, so calls in the same
 * millisecond from other requests are not mistaken for this call's cost.
 */
const perItemField = (fields: ReadonlySet<string>, identity: Identity) => fields.has(identity.fieldIdentity.split(':')[0]!);

export class ReservingMemoryStore extends Store {
  private readonly calls = new Map<string, number[]>();

  constructor(
    /** How long call times are kept: the longest window; a reload that lengthens a window raises it. */
    public maxWindowMs: number,
    private readonly perItemFields: ReadonlySet<string> = new Set(),
    private readonly maxIdentities = 100_000,
  ) {
    super();
  }

  getForIdentity(identity: Identity): readonly number[] {
    const key = `${identity.contextIdentity}\u0000${identity.fieldIdentity}`;
    const now = Date.now();
    const previous = (this.calls.get(key) ?? []).filter((t) => t + this.maxWindowMs > now);
    this.calls.delete(key);
    this.calls.set(key, [...previous, now]);
    if (this.calls.size > this.maxIdentities) {
      const oldest = this.calls.keys().next();
      if (!oldest.done) this.calls.delete(oldest.value);
    }
    return previous;
  }

  setForIdentity(identity: Identity, timestamps: readonly number[]): void {
    // One call was recorded atomically in getForIdentity; add the rest of its cost.
    if (!perItemField(this.perItemFields, identity)) return;
    const extra = extraCostOf(timestamps);
    if (extra === 0) return;
    const key = `${identity.contextIdentity}\u0000${identity.fieldIdentity}`;
    const now = Date.now();
    const calls = this.calls.get(key) ?? [];
    this.calls.set(key, [...calls, ...new Array<number>(extra).fill(now)].slice(-10_000));
  }
}

/**
 * One Lua script per call: drop entries older than the longest window, read
 * the rest, add this call, set the expiry. Redis runs scripts atomically, so
 * the limit holds across every gateway instance sharing the Redis.
 */
const RESERVE = `
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local previous = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
redis.call('ZADD', key, now, ARGV[3])
redis.call('ZREMRANGEBYRANK', key, 0, -10001)
redis.call('PEXPIRE', key, window)
return previous
`;

/**
 * Fails closed: with the shared counters out of reach a limited field is
 * refused (503, RATE_LIMIT_UNAVAILABLE), never run unmetered. Counting in
 * memory instead would multiply every limit by the number of instances and
 * reset it on each outage, which an audited operator cannot vouch for.
 */
function unavailable(): GraphQLError {
  // No originalError: yoga would mask the error as an unexpected one.
  return gatewayError(ErrorCode.RateLimitUnavailable, 'Rate limiting is unavailable (its Redis store cannot be reached), so this operation was not run. Retry later.', {
    extensions: { http: { status: 503, headers: { 'retry-after': '5' } } },
  });
}

export class ReservingRedisStore extends Store {
  private counter = 0;

  constructor(
    private readonly redis: Redis,
    /** How long call times are kept: the longest window; a reload that lengthens a window raises it. */
    public maxWindowMs: number,
    private readonly prefix = 'switchyard:ratelimit:',
    private readonly perItemFields: ReadonlySet<string> = new Set(),
  ) {
    super();
  }

  async getForIdentity(identity: Identity): Promise<readonly number[]> {
    const now = Date.now();
    const member = `${now}:${process.pid}:${++this.counter}:${Math.random().toString(36).slice(2, 8)}`;
    const key = `${this.prefix}${identity.contextIdentity}:${identity.fieldIdentity}`;
    let reply: string[];
    try {
      reply = (await this.redis.eval(RESERVE, 1, key, now, this.maxWindowMs, member)) as string[];
    } catch {
      throw unavailable();
    }
    const timestamps: number[] = [];
    for (let i = 1; i < reply.length; i += 2) timestamps.push(Number(reply[i]));
    return timestamps;
  }

  async setForIdentity(identity: Identity, timestamps: readonly number[]): Promise<void> {
    // One call was recorded atomically in getForIdentity; add the rest of its cost.
    if (!perItemField(this.perItemFields, identity)) return;
    const extra = extraCostOf(timestamps);
    if (extra === 0) return;
    const now = Date.now();
    const key = `${this.prefix}${identity.contextIdentity}:${identity.fieldIdentity}`;
    const members: (number | string)[] = [];
    for (let i = 0; i < extra; i++) members.push(now, `${now}:${process.pid}:${++this.counter}:x${i}`);
    await this.redis.zadd(key, ...members);
  }
}
