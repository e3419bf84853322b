/**
 * The chunk bus of one instance (no Redis): the claim is always this instance's, and followers
 * see the chunks published here. Retains the newest chunks of each job up to `retainBytes`.
 */
import type { LogChunkBus, LogChunkModel } from '../log-types.ts';

interface Retained {
  readonly chunks: LogChunkModel[];
  bytes: number;
  readonly waiters: Set<() => void>;
}

export class MemoryLogChunkBus implements LogChunkBus {
  private readonly jobs = new Map<string, Retained>();
  private readonly interest = new Map<string, number>();

  constructor(private readonly retainBytes: number, private readonly now: () => number = Date.now) {}

  claim(): Promise<boolean> {
    return Promise.resolve(true);
  }

  release(): Promise<void> {
    return Promise.resolve();
  }

  publish(jobKey: string, chunk: LogChunkModel): Promise<void> {
    const job = this.job(jobKey);
    job.chunks.push(chunk);
    job.bytes += chunk.text.length;
    // Keep at least the newest chunk, so a follower always learns where the log stands.
    while (job.bytes > this.retainBytes && job.chunks.length > 1) job.bytes -= job.chunks.shift()!.text.length;
    for (const wake of job.waiters) wake();
    job.waiters.clear();
    return Promise.resolve();
  }

  async *follow(jobKey: string, fromOffset: number, signal: AbortSignal): AsyncIterable<LogChunkModel> {
    const job = this.job(jobKey);
    let position = fromOffset;
    while (!signal.aborted) {
      const next = job.chunks.find((c) => c.nextOffset > position);
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
    this.interest.set(jobKey, this.now() + ttlMs);
    return Promise.resolve();
  }

  hasInterest(jobKey: string): Promise<boolean> {
    const until = this.interest.get(jobKey);
    if (until !== undefined && until <= this.now()) this.interest.delete(jobKey);
    return Promise.resolve(until !== undefined && until > this.now());
  }

  close(): Promise<void> {
    for (const job of this.jobs.values()) for (const wake of job.waiters) wake();
    this.jobs.clear();
    return Promise.resolve();
  }

  private job(jobKey: string): Retained {
    let job = this.jobs.get(jobKey);
    if (!job) this.jobs.set(jobKey, (job = { chunks: [], bytes: 0, waiters: new Set() }));
    return job;
  }
}
