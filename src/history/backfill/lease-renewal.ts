import type { BackfillLease, LeasePublished } from './backfill-lease.ts';
import { sleep } from './budget.ts';

/**
 * The holder's side of the lease while its pass runs: renews every third of the TTL,
 * publishing what followers show, and calls `lose` when another instance holds the lease
 * or when it could not be renewed for a whole TTL (another may have taken it: stop rather
 * than run twice).
 */
export class LeaseRenewal {
  private renewedMs = performance.now();
  private readonly ttlMs: number;

  constructor(
    private readonly lease: BackfillLease,
    private readonly seconds: number,
    /** The pass: renewal stops when it ends, and a lost lease is not reported after that. */
    private readonly pass: AbortSignal,
    private readonly published: () => LeasePublished,
    private readonly lose: (why: string) => void,
  ) {
    this.ttlMs = seconds * 1000;
  }

  /** Renews once now (also when followers should learn something at once). */
  async renew(): Promise<void> {
    try {
      const held = await this.lease.renew(this.published());
      if (!held && !this.pass.aborted) this.lose('another instance holds it');
      if (!held) return;
      this.renewedMs = performance.now();
    } catch (error) {
      if (performance.now() - this.renewedMs >= this.ttlMs && !this.pass.aborted) this.lose(`not renewed for ${this.seconds} s: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Renews every third of the TTL until the pass ends. */
  async untilPassEnds(): Promise<void> {
    while (!this.pass.aborted) {
      await sleep(this.ttlMs / 3, this.pass).catch(() => {});
      if (!this.pass.aborted) await this.renew();
    }
  }
}
