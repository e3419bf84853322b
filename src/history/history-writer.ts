import type { Logger } from 'pino';
import { throttledEvent, type ThrottledEvent } from '../server/throttled-log.ts';
import type { Observation, RecordResult } from './history-store.ts';

export interface HistoryWriterOptions {
  /** Rows per database transaction. */
  readonly maxBatch?: number;
  /** Longest a row waits for its batch to fill. */
  readonly flushMs?: number;
  /** Rows held while the database is slow or away; beyond it new rows are dropped, counted and logged. */
  readonly maxBuffered?: number;
  /** At most one overflow (and one write failure) line per this interval. */
  readonly logIntervalMs?: number;
}

/**
 * Write-behind for the history, without Redis: `push` only appends to a bounded
 * buffer, so the live path never waits for the database. Batches are written one
 * at a time; a failed batch goes back to the front of the buffer (the store is
 * idempotent, so retrying is safe) and is retried on the next tick.
 * (With Redis, src/history/stream-consumer.ts feeds the store instead.)
 */
export class HistoryWriter {
  private buffer: Observation[] = [];
  private timer: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;
  private started = false;
  private closed = false;
  private written = 0;
  private readonly maxBatch: number;
  private readonly flushMs: number;
  private readonly maxBuffered: number;
  private readonly overflow: ThrottledEvent;
  private readonly failure: ThrottledEvent;
  private lastError = '';

  constructor(
    private readonly write: (batch: readonly Observation[]) => Promise<RecordResult>,
    private readonly log: Logger,
    options: HistoryWriterOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 500;
    this.flushMs = options.flushMs ?? 100;
    this.maxBuffered = options.maxBuffered ?? 50_000;
    const interval = options.logIntervalMs ?? 10_000;
    this.overflow = throttledEvent((n) => this.log.warn({ dropped: n, droppedTotal: this.overflow.total, maxBuffered: this.maxBuffered }, 'history buffer full: observations dropped'), interval);
    this.failure = throttledEvent((n) => this.log.error({ failures: n, err: this.lastError, buffered: this.buffer.length }, 'history write failed; retrying'), interval);
  }

  /** Rows held, rows dropped on overflow, transitions written. */
  get stats(): { buffered: number; dropped: number; written: number } {
    return { buffered: this.buffer.length, dropped: this.overflow.total, written: this.written };
  }

  /** Never blocks, never throws: a full buffer drops the observation and counts it. */
  push(observation: Observation): void {
    if (this.closed) return;
    if (this.buffer.length >= this.maxBuffered) {
      this.overflow();
      return;
    }
    this.buffer.push(observation);
    this.schedule();
  }

  /** Writing begins once the store is open; what was pushed before waits in the buffer. */
  start(): void {
    this.started = true;
    this.schedule();
  }

  /** Writes whatever is buffered (one attempt per batch), then stops. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.draining;
    if (this.started) await this.drain(true);
  }

  private schedule(): void {
    if (!this.started || this.closed || this.draining || this.timer) return;
    const delay = this.buffer.length >= this.maxBatch ? 0 : this.flushMs;
    if (this.buffer.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.draining = this.drain(false).finally(() => {
        this.draining = null;
        this.schedule();
      });
    }, delay);
    this.timer.unref();
  }

  private async drain(final: boolean): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.maxBatch);
      try {
        this.written += (await this.write(batch)).inserted;
      } catch (error) {
        this.lastError = error instanceof Error ? error.message : String(error);
        this.failure();
        if (final) return;
        // Back to the front, within the bound: the store is idempotent, so a retry never double-counts.
        const room = Math.max(0, this.maxBuffered - this.buffer.length);
        this.buffer.unshift(...batch.slice(0, room));
        // What no longer fits (pushed while this batch was out) is dropped, and counted like any overflow.
        for (let i = room; i < batch.length; i++) this.overflow();
        return;
      }
      // Only full batches go at once; a partial one waits for its timer.
      if (!final && this.buffer.length < this.maxBatch) return;
    }
  }
}
