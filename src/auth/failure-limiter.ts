import { Lru } from './lru.ts';
import type { AuthError, AuthErrorCode } from './types.ts';
import { authError } from './types.ts';

/**
 * Failed authentications per remote address: past `maxFailures` within
 * `windowSeconds` (counted from the address's first failure), the address is
 * refused before any verification (HTTP 429 with Retry-After, WebSocket 4429)
 * until the window ends. Each well-formed bogus API key costs one scrypt, so
 * without this one address can keep the CPU and threadpool busy for everyone.
 *
 * Counted: failures of a presented credential. Not counted: a missing
 * credential (costs nothing to check) and server-side trouble (JWKS down,
 * verification queue full). IPv6 addresses count per /64, the block one
 * host usually owns; IPv4-mapped IPv6 counts as its IPv4 address.
 */
export interface FailureLimitOptions {
  readonly maxFailures: number;
  readonly windowSeconds: number;
  /** Addresses tracked at once (least recently failing forgotten first). */
  readonly maxAddresses?: number;
}

const NOT_COUNTED: ReadonlySet<AuthErrorCode> = new Set(['MISSING_CREDENTIALS', 'JWKS_UNAVAILABLE', 'AUTH_BUSY', 'TOO_MANY_FAILURES']);

export function addressKey(address: string | null | undefined): string {
  if (!address) return '?';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const [left = '', right] = address.split('%')[0]!.split('::');
  const head = left === '' ? [] : left.split(':');
  const tail = right === undefined || right === '' ? [] : right.split(':');
  const groups = right === undefined ? head : [...head, ...Array<string>(Math.max(0, 8 - head.length - tail.length)).fill('0'), ...tail];
  return `${groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

export class AuthFailureLimiter {
  readonly #failures: Lru<{ count: number; resetAt: number }>;

  constructor(private readonly options: FailureLimitOptions, private readonly now: () => number = Date.now) {
    this.#failures = new Lru(options.maxAddresses ?? 10_000);
  }

  /** The refusal for an address past its limit, or null when it may try. */
  check(address: string | null | undefined): AuthError | null {
    const key = addressKey(address);
    const entry = this.#failures.get(key);
    if (!entry) return null;
    const left = entry.resetAt - this.now();
    if (left <= 0) {
      this.#failures.delete(key);
      return null;
    }
    if (entry.count < this.options.maxFailures) return null;
    const retryAfterSeconds = Math.ceil(left / 1000);
    return { ...authError('TOO_MANY_FAILURES', `more than ${this.options.maxFailures} failed authentications from ${key}`), retryAfterSeconds };
  }

  /** Counts a failure; true when it is the one that reaches the limit (worth one log line). */
  recordFailure(address: string | null | undefined, code: AuthErrorCode): boolean {
    if (NOT_COUNTED.has(code)) return false;
    const key = addressKey(address);
    const at = this.now();
    const entry = this.#failures.get(key);
    if (!entry || entry.resetAt <= at) {
      this.#failures.set(key, { count: 1, resetAt: at + this.options.windowSeconds * 1000 });
      return this.options.maxFailures <= 1;
    }
    entry.count++;
    return entry.count === this.options.maxFailures;
  }
}
