import { randomUUID } from 'node:crypto';

/**
 * Idempotency keys of actions (issue 15). A key (already scoped by identity and mutation) is
 * claimed by the first request, which performs the action and stores its outcome; a request with
 * the same key and the same input (`fingerprint`) gets that outcome again, one with another input
 * is a conflict. While the first is under way the others see `pending` and wait; a claim that is
 * never completed (its instance died) expires after its hold, so a waiter takes it over.
 */
export type IdempotencyClaim =
  /** Perform the action now; `token` proves ownership when completing or releasing. */
  | { readonly status: 'claimed'; readonly token: string }
  /** An earlier request with this key finished; `outcome` is what it stored. */
  | { readonly status: 'done'; readonly fingerprint: string; readonly outcome: string }
  /** An earlier request with this key is under way. */
  | { readonly status: 'pending'; readonly fingerprint: string };

export interface IdempotencyStore {
  claim(key: string, fingerprint: string, holdMs: number): Promise<IdempotencyClaim>;
  /** What holds the key now, without claiming it (dry runs check conflicts with it). */
  peek(key: string): Promise<Exclude<IdempotencyClaim, { status: 'claimed' }> | null>;
  /** Stores the outcome for `ttlMs`, if `token` still holds the claim. */
  complete(key: string, token: string, fingerprint: string, outcome: string, ttlMs: number): Promise<void>;
  /** Frees the key at once (the action was not attempted), if `token` still holds it. */
  release(key: string, token: string): Promise<void>;
  close(): Promise<void>;
}

/** What one key holds, in either store. */
export type Held =
  | { readonly state: 'pending'; readonly token: string; readonly fingerprint: string }
  | { readonly state: 'done'; readonly fingerprint: string; readonly outcome: string };

export function asClaimResult(held: Held): Exclude<IdempotencyClaim, { status: 'claimed' }> {
  return held.state === 'done' ? { status: 'done', fingerprint: held.fingerprint, outcome: held.outcome } : { status: 'pending', fingerprint: held.fingerprint };
}

/** In-process; bounded by count, entries expire. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, { held: Held; expiresAt: number }>();

  constructor(private readonly now: () => number, private readonly maxEntries = 100_000) {}

  async claim(key: string, fingerprint: string, holdMs: number): Promise<IdempotencyClaim> {
    const held = this.current(key);
    if (held) return asClaimResult(held);
    const token = randomUUID();
    this.set(key, { state: 'pending', token, fingerprint }, holdMs);
    return { status: 'claimed', token };
  }

  async peek(key: string) {
    const held = this.current(key);
    return held ? asClaimResult(held) : null;
  }

  async complete(key: string, token: string, fingerprint: string, outcome: string, ttlMs: number): Promise<void> {
    const held = this.current(key);
    if (held?.state === 'pending' && held.token === token) this.set(key, { state: 'done', fingerprint, outcome }, ttlMs);
  }

  async release(key: string, token: string): Promise<void> {
    const held = this.current(key);
    if (held?.state === 'pending' && held.token === token) this.entries.delete(key);
  }

  async close(): Promise<void> {}

  private current(key: string): Held | null {
    const e = this.entries.get(key);
    if (!e) return null;
    if (e.expiresAt <= this.now()) {
      this.entries.delete(key);
      return null;
    }
    return e.held;
  }

  private set(key: string, held: Held, ttlMs: number): void {
    this.entries.delete(key);
    this.entries.set(key, { held, expiresAt: this.now() + ttlMs });
    for (const k of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(k);
    }
  }
}
