/**
 * Wakes follows when their job's stream grows, with ONE blocking connection per instance
 * whatever the number of jobs followed: a single XREAD BLOCK over every waited stream, plus a
 * "doorbell" stream of this instance that is rung (XADD) when a follow starts waiting on a stream
 * the pending XREAD does not cover, so the XREAD returns and is issued again with it. Waking is
 * all it does: the follow then reads the entries itself (XRANGE), from its own position.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

interface Waiter {
  readonly afterId: string;
  readonly settle: (error?: Error) => void;
}

export interface StreamWaiterOptions {
  /** This instance's doorbell stream. */
  readonly doorbellKey: string;
  /** The longest one XREAD blocks before it is issued again (a safety net, not needed for wakes). */
  readonly blockMs: number;
  readonly log: Pick<Logger, 'warn'>;
  /** Turns a Redis failure into the error the follow throws. */
  readonly failure: (doing: string, error: Error) => Error;
}

/** Stream ids ("ms-seq") in order; numbers are exact up to 2^53, far beyond any Redis clock. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  return aMs - bMs || aSeq - bSeq;
}

const DOORBELL_EXPIRE_MS = 10 * 60_000;
const RETRY_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class StreamWaiter {
  private readonly waiting = new Map<string, Set<Waiter>>();
  /** The streams and ids of the XREAD now blocking (null when none is). */
  private blocking: Map<string, string> | null = null;
  private doorbellId = '0-0';
  private wakeIdle: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private closed = false;

  /** `reader` is this waiter's own: it blocks, and close() disconnects it. */
  constructor(private readonly reader: Redis, private readonly commands: Redis, private readonly options: StreamWaiterOptions) {}

  /**
   * Resolves once `key` may hold an entry after `afterId`, or when `signal` aborts or the waiter
   * closes; rejects when Redis cannot be read.
   */
  waitAfter(key: string, afterId: string, signal: AbortSignal): Promise<void> {
    if (this.closed || signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => waiter.settle();
      const waiter: Waiter = {
        afterId,
        settle: (error) => {
          signal.removeEventListener('abort', onAbort);
          const waiters = this.waiting.get(key);
          waiters?.delete(waiter);
          if (waiters?.size === 0) this.waiting.delete(key);
          if (error) reject(error);
          else resolve();
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      let waiters = this.waiting.get(key);
      if (!waiters) this.waiting.set(key, (waiters = new Set()));
      waiters.add(waiter);
      this.start();
      const covered = this.blocking?.get(key);
      if (this.blocking && (covered === undefined || compareStreamIds(afterId, covered) < 0)) this.ring();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiters of [...this.waiting.values()]) for (const waiter of [...waiters]) waiter.settle();
    this.wakeIdle?.();
    this.reader.disconnect();
    await this.loop;
    // Not worth waiting for a Redis that is down: the doorbell expires by itself.
    if (this.commands.status === 'ready') await this.commands.del(this.options.doorbellKey).catch(() => undefined);
  }

  private start(): void {
    this.wakeIdle?.();
    this.loop ??= this.run();
  }

  private ring(): void {
    this.commands
      .multi()
      .xadd(this.options.doorbellKey, 'MAXLEN', '1', '*', 'ring', '1')
      .pexpire(this.options.doorbellKey, DOORBELL_EXPIRE_MS)
      .exec()
      .catch((error: Error) => this.options.log.warn({ err: error.message }, 'log bus: the follow doorbell could not be rung; the next read wakes it'));
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      if (this.waiting.size === 0) {
        await new Promise<void>((resolve) => (this.wakeIdle = resolve));
        this.wakeIdle = null;
        continue;
      }
      // Each stream from its earliest waiter's position, so every waiter's wake is seen.
      const request = new Map<string, string>();
      for (const [key, waiters] of this.waiting) {
        request.set(key, [...waiters].map((w) => w.afterId).reduce((a, b) => (compareStreamIds(a, b) <= 0 ? a : b)));
      }
      this.blocking = request;
      try {
        const keys = [...request.keys(), this.options.doorbellKey];
        const ids = [...request.values(), this.doorbellId];
        const result = (await this.reader.xread('COUNT', 1, 'BLOCK', this.options.blockMs, 'STREAMS', ...keys, ...ids)) as [string, [string, string[]][]][] | null;
        this.blocking = null;
        for (const [key, entries] of result ?? []) this.woken(key, entries.at(-1)![0]);
      } catch (error) {
        this.blocking = null;
        if (this.closed) break;
        // Every follow waiting now learns that Redis is gone; later ones try again.
        const failure = this.options.failure('wait for new chunks', error as Error);
        for (const waiters of [...this.waiting.values()]) for (const waiter of [...waiters]) waiter.settle(failure);
        await sleep(RETRY_MS);
      }
    }
  }

  private woken(key: string, newestId: string): void {
    if (key === this.options.doorbellKey) {
      this.doorbellId = newestId;
      return;
    }
    for (const waiter of [...(this.waiting.get(key) ?? [])]) if (compareStreamIds(waiter.afterId, newestId) < 0) waiter.settle();
  }
}
