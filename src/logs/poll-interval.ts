/**
 * The adaptive interval between two reads of one log: it starts at the adapter's minimum,
 * halves (never below it) while output flows and grows by half (up to the configured maximum)
 * while the log is quiet or the backend pushes back.
 */
export class AdaptivePollInterval {
  private current: number;

  constructor(private readonly minMs: number, private readonly maxMs: number) {
    this.current = minMs;
  }

  get ms(): number {
    return this.current;
  }

  /** After a read: `bytes` new bytes came. */
  record(bytes: number): void {
    this.current = bytes > 0 ? Math.max(this.minMs, Math.floor(this.current / 2)) : Math.min(this.maxMs, Math.ceil(this.current * 1.5));
  }

  /** A failure or a spent budget: wait the longest. */
  backOff(): void {
    this.current = this.maxMs;
  }
}
