/**
 * The demo-mode loop of a CI-system simulator: on every tick the subclass
 * chooses one transition of its world, and the loop sends that transition's
 * notifications before the next tick may run (a tick that finds the previous
 * one still sending is skipped). Errors go to `onError`; the timer never keeps
 * the process alive on its own.
 */
export interface AutoplaySink<E> {
  /** Sends the notifications for a transition; resolves after delivery. */
  emit(events: readonly E[]): Promise<void>;
  onError(err: unknown): void;
}

export abstract class SimAutoplay<E> {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(private readonly sink: AutoplaySink<E>) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => void this.tick(), intervalMs);
    // The HTTP server keeps the process alive; the timer alone never should.
    this.timer.unref();
    void this.tick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One transition; skipped while the previous tick's notifications are still going out. */
  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const events = this.choose();
      if (events.length > 0) await this.sink.emit(events);
    } catch (err) {
      this.sink.onError(err);
    } finally {
      this.busy = false;
    }
  }

  /** Applies one transition to the world and returns its events (none: nothing to send). */
  protected abstract choose(): E[];
}

/** The deterministic counterpart of autoplay: runs `step` until it reports that nothing can move (at most `maxSteps` times). */
export async function runUntilIdle(step: () => Promise<boolean>, maxSteps = 10_000): Promise<void> {
  for (let i = 0; i < maxSteps; i++) {
    if (!(await step())) return;
  }
}
