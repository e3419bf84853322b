/** Concurrent log watches per identity (config logs.maxTailsPerIdentity), like server/identity-slots.ts. */
export class IdentityTailSlots {
  private readonly held = new Map<string, number>();

  constructor(public max: number) {}

  /** Takes a slot; the returned release gives it back once (null: at the limit). */
  acquire(identity: string): (() => void) | null {
    const count = this.held.get(identity) ?? 0;
    if (count >= this.max) return null;
    this.held.set(identity, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.held.get(identity) ?? 1) - 1;
      if (n <= 0) this.held.delete(identity);
      else this.held.set(identity, n);
    };
  }

  get total(): number {
    let sum = 0;
    for (const n of this.held.values()) sum += n;
    return sum;
  }
}
