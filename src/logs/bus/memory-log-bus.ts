/**
 * The chunk bus of one instance (no Redis): the claim is always this instance's, and followers
 * see the chunks published here. Retains the newest chunks of each job up to `retainBytes`, and
 * forgets a job `expireMs` after its last publish, as the Redis bus lets its stream expire: an
 * instance that runs for weeks does not keep every job it ever tailed.
 */
import type { LogChunkBus, LogChunkModel } from '../log-types.ts';
import { chunkAfter } from './chunk-after.ts';
import { DEFAULT_LOG_EXPIRE_MS } from './log-bus-expiry.ts';

interface Retained {
  chunks: LogChunkModel[];
  bytes: number;
  lastPublishAt: number;
  readonly waiters: Set<() => void>;
}

export class MemoryLogChunkBus implements LogChunkBus {
  private readonly jobs = new Map<string, Retained>();
  private readonly interest = new Map<string, number>();
  private lastSweepAt: number;
  private closed = false;

  constructor(
    private readonly retainBytes: number,
    private readonly now: () => number = Date.now,
    private readonly expireMs: number = DEFAULT_LOG_EXPIRE_MS,
  ) {
    this.lastSweepAt = now();
  }

  claim(): Promise<boolean> {
    return Promise.resolve(true);
  }

  release(): Promise<void> {
    return Promise.resolve();
  }

  publish(jobKey: string, chunk: LogChunkModel): Promise<void> {
    this.sweep();
    const job = this.job(jobKey);
    job.chunks.push(chunk);
    job.bytes += chunk.text.length;
    job.lastPublishAt = this.now();
    // Keep at least the newest chunk, so a follower always learns where the log stands.
    while (job.bytes > this.retainBytes && job.chunks.length > 1) job.bytes -= job.chunks.shift()!.text.length;
    for (const wake of job.waiters) wake();
    job.waiters.clear();
    return Promise.resolve();
  }

  async *follow(jobKey: string, fromOffset: number, signal: AbortSignal): AsyncIterable<LogChunkModel> {
    let position = fromOffset;
    while (!signal.aborted && !this.closed) {
      // Looked up each time: an expired job is replaced by a new entry on its next publish.
      const job = this.job(jobKey);
      const next = this.firstAfter(job, position);
      if (next) {
        position = next.nextOffset;
        yield next;
        if (next.complete) return;
        continue;
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal.removeEventListener('abort', wake);
          job.waiters.delete(wake);
          resolve();
        };
        job.waiters.add(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
  }

  markInterest(jobKey: string, ttlMs: number): Promise<void> {
    this.sweep();
    this.interest.set(jobKey, this.now() + ttlMs);
    return Promise.resolve();
  }

  hasInterest(jobKey: string): Promise<boolean> {
    const until = this.interest.get(jobKey);
    if (until !== undefined && until <= this.now()) this.interest.delete(jobKey);
    return Promise.resolve(until !== undefined && until > this.now());
  }

  close(): Promise<void> {
    this.closed = true;
    for (const job of this.jobs.values()) for (const wake of [...job.waiters]) wake();
    this.jobs.clear();
    return Promise.resolve();
  }

  private firstAfter(job: Retained, position: number): LogChunkModel | null {
    for (const chunk of job.chunks) {
      const next = chunkAfter(chunk, position);
      if (next) return next;
    }
    return null;
  }

  private job(jobKey: string): Retained {
    let job = this.jobs.get(jobKey);
    if (job && this.expired(job)) {
      job.chunks = [];
      job.bytes = 0;
    }
    if (!job) this.jobs.set(jobKey, (job = { chunks: [], bytes: 0, lastPublishAt: this.now(), waiters: new Set() }));
    return job;
  }

  private expired(job: Retained): boolean {
    return job.chunks.length > 0 && this.now() - job.lastPublishAt >= this.expireMs;
  }

  /** At most once a second: drops expired jobs nobody waits on and lapsed interest marks. */
  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweepAt < 1000) return;
    this.lastSweepAt = now;
    for (const [key, job] of this.jobs) if (job.waiters.size === 0 && (job.chunks.length === 0 || this.expired(job))) this.jobs.delete(key);
    for (const [key, until] of this.interest) if (until <= now) this.interest.delete(key);
  }
}
