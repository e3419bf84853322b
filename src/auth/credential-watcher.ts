import { isRevokedOrExpired } from './scope.ts';
import type { Identity } from './types.ts';

export type CredentialEnd = 'expired' | 'revoked';

interface Watch {
  readonly identity: Identity;
  readonly end: (why: CredentialEnd) => void;
}

/** setTimeout fires at once past 2^31-1 ms: a far expiry is re-armed instead. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * The one owner of "this stream's credential is no longer good": WebSocket
 * connections and subscriptions on every transport register here and are
 * ended by push. Expiry: one timer, armed for the earliest expiry of all
 * watched streams. Revocation: `recheck()` after an API-key reload (the only
 * way a key's grant changes), so nothing polls.
 */
export class CredentialWatcher {
  private readonly watches = new Set<Watch>();
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;

  constructor(private readonly now: () => Date) {}

  /** Streams being watched now (for tests). */
  get size(): number {
    return this.watches.size;
  }

  /** Whether a stream of this identity may still receive anything (checked per event as well as by push). */
  stillValid(identity: Identity): boolean {
    return !isRevokedOrExpired(identity, this.now());
  }

  /** Calls `end` once when the credential expires or is revoked; returns the stop function. */
  watch(identity: Identity, end: (why: CredentialEnd) => void): () => void {
    if (!identity.expiresAt && !identity.isRevoked) return () => undefined;
    const watch: Watch = { identity, end };
    this.watches.add(watch);
    if (identity.expiresAt) this.arm(identity.expiresAt.getTime());
    return () => {
      this.watches.delete(watch);
      if (this.watches.size === 0) this.disarm();
    };
  }

  /** Pushed after an API-key reload: streams whose key was revoked, removed or changed end now. */
  recheck(): void {
    this.sweep();
  }

  stop(): void {
    this.watches.clear();
    this.disarm();
  }

  private sweep(): void {
    const at = this.now();
    for (const watch of [...this.watches]) {
      if (!isRevokedOrExpired(watch.identity, at)) continue;
      this.watches.delete(watch);
      const expired = watch.identity.expiresAt !== null && watch.identity.expiresAt.getTime() <= at.getTime();
      watch.end(expired ? 'expired' : 'revoked');
    }
  }

  private arm(at: number): void {
    if (at >= this.armedFor) return;
    this.disarm();
    this.armedFor = at;
    this.timer = setTimeout(() => this.fire(), Math.min(MAX_DELAY_MS, Math.max(0, at - this.now().getTime())));
    this.timer.unref();
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  private fire(): void {
    this.disarm();
    this.sweep();
    let next = Infinity;
    for (const { identity } of this.watches) if (identity.expiresAt) next = Math.min(next, identity.expiresAt.getTime());
    if (next !== Infinity) this.arm(next);
  }
}
