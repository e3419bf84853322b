import type { Identity } from '../context.ts';

/** Something that ends once, emitting 'close' once: a WebSocket or an SSE response. */
export interface Closable {
  on(event: 'close', listener: () => void): unknown;
}

/**
 * Per-identity connection slots, shared by WebSocket connections and SSE
 * streams so one key holds at most `max` long-lived streams on any mix of
 * transports. A slot is bound to the thing it was taken for and released by
 * that thing's `close` event, whatever the phase it closes in: no code path
 * (an auth await, a protocol error, a close before the ack) can leak it.
 */
export class IdentitySlots {
  readonly #held = new Map<string, number>();
  #total = 0;

  /** A reload sets it: new streams meet it; streams already open above it stay until they close. */
  constructor(public max: number) {}

  /**
   * Takes a slot of `key` for `owner` until it closes; false when the
   * identity is at its limit or `owner` has already closed (`isOpen`).
   */
  acquire(key: string, owner: Closable, isOpen: () => boolean): boolean {
    if (!isOpen()) return false;
    const count = this.#held.get(key) ?? 0;
    if (count >= this.max) return false;
    this.#held.set(key, count + 1);
    this.#total++;
    // 'close' is emitted once: `on` spares the wrapper `once` allocates per connection.
    owner.on('close', () => this.#release(key));
    return true;
  }

  /** Slots held by every identity: back to zero once every stream has closed. */
  get total(): number {
    return this.#total;
  }

  #release(key: string): void {
    this.#total--;
    const n = (this.#held.get(key) ?? 1) - 1;
    if (n <= 0) this.#held.delete(key);
    else this.#held.set(key, n);
  }
}

/** Anonymous callers (open mode) are told apart by address, so one busy client cannot lock out the rest. */
export function slotKeyOf(identity: Identity, remoteAddress: string | null | undefined): string {
  return identity.kind === 'anonymous' ? `anonymous@${remoteAddress ?? '?'}` : identity.id;
}
