/**
 * One tail of one log source on this instance: the local hub every local watcher of the source
 * reads from. While this instance holds the source's claim on the chunk bus it polls upstream
 * (adaptive interval) and publishes its chunks; otherwise it follows the holder's chunks and
 * takes the claim over when it lapses, resuming from the last offset it saw. It runs from its
 * first watcher until its last leaves (the holder: until no instance marks interest either), or
 * until the log completes.
 */
import type { Logger } from 'pino';
import { ErrorCode, isUpstreamError } from '../errors.ts';
import { ChunkRing } from './chunk-ring.ts';
import { LogChunker, type ChunkerOptions } from './log-chunker.ts';
import { logUnavailable } from './log-errors.ts';
import type { LogMetrics } from './log-metrics.ts';
import type { LogChunkBus, LogChunkModel } from './log-types.ts';
import type { SourceRead } from './log-upstream.ts';
import { AdaptivePollInterval } from './poll-interval.ts';
import { WakeUp } from './wake-up.ts';

/** Consecutive failed reads (other than rate limits and a spent budget) that end the tail with the last error. */
const MAX_FAILURES = 3;

export interface TailSettings extends ChunkerOptions {
  readonly ringBytes: number;
  readonly minPollMs: number;
  readonly maxPollMs: number;
  /** How long a claim holds without renewal; followers renew their interest as often. */
  readonly leaseMs: number;
}

/** What the tail knows of the job it was started for, read again every cycle (the live state). */
export interface TailJobState {
  /** The job finished: the next read is the last (when `completesByStatus`). */
  readonly finished: boolean;
  /** The upstream serves the log now (false: AFTER_COMPLETION and still running). */
  readonly readable: boolean;
  /** The job's status ends the log (false where several jobs share one log: only `LogRead.complete` does). */
  readonly completesByStatus: boolean;
}

export interface TailDeps {
  readonly key: string;
  readonly backend: string;
  readonly bus: LogChunkBus;
  readonly read: SourceRead;
  /** Whose upstream budget the polls are charged to (one per backend for every tail of it). */
  readonly identity: string;
  readonly jobState: () => TailJobState;
  /** Resolves true when the job changes, false after `timeoutMs` or on abort. */
  readonly jobChanged: (timeoutMs: number, signal: AbortSignal) => Promise<boolean>;
  /**
   * Reads the job again upstream into the live state: where no webhook or poll reports it, its
   * finish (which ends a trace tail, or opens a log served after completion) would never show.
   */
  readonly refreshJob: (signal: AbortSignal) => Promise<void>;
  readonly settings: TailSettings;
  readonly metrics: LogMetrics;
  readonly log: Logger;
  readonly onStop: () => void;
  /** Told each wait between two polls, in ms (tests, debugging). */
  readonly onPollWait?: (ms: number) => void;
}

export class LogTail {
  readonly ring: ChunkRing;
  /** Notified whenever the ring grows or the tail ends. */
  readonly changed = new WakeUp();
  complete = false;
  failure: Error | null = null;
  private stopped = false;
  private started = false;
  private watchers = 0;
  private leading = false;
  private failures = 0;
  private chunker: LogChunker;
  private readonly closing = new AbortController();
  private readonly poll: AdaptivePollInterval;
  /** Wakes the loop early: the last watcher left, or the service closes. */
  private readonly idle = new WakeUp();
  private followStop: AbortController | null = null;
  /** When the job's status was last read upstream (refreshJob) or seen to change. */
  private statusCheckedAt = Date.now();

  constructor(private readonly deps: TailDeps, startOffset: number) {
    this.ring = new ChunkRing(deps.settings.ringBytes, startOffset);
    this.chunker = new LogChunker(startOffset, deps.settings);
    this.poll = new AdaptivePollInterval(deps.settings.minPollMs, deps.settings.maxPollMs);
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Adds a watcher; false once the tail stopped (the caller starts a new one). */
  attach(): boolean {
    if (this.stopped) return false;
    this.watchers++;
    if (!this.started) {
      this.started = true;
      void this.run();
    }
    return true;
  }

  detach(): void {
    this.watchers--;
    if (this.watchers === 0) {
      this.followStop?.abort();
      this.idle.notify();
    }
  }

  close(): void {
    this.closing.abort();
    this.followStop?.abort();
    this.idle.notify();
  }

  private async run(): Promise<void> {
    const { bus, key, settings, metrics, backend } = this.deps;
    metrics.tailStarted(backend);
    try {
      while (!(await this.shouldStop())) {
        if (await bus.claim(key, settings.leaseMs)) {
          // Taking over from another instance: read on from the last offset seen.
          if (!this.leading) this.chunker = new LogChunker(this.ring.end, settings);
          this.leading = true;
          await this.leadOnce();
        } else {
          this.leading = false;
          await this.follow();
        }
      }
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
    } finally {
      this.stopped = true;
      if (this.leading) await bus.release(key).catch((error: unknown) => this.deps.log.warn({ err: String(error), key }, 'log bus release failed'));
      metrics.tailStopped(backend);
      this.changed.notify();
      this.deps.onStop();
    }
  }

  private async shouldStop(): Promise<boolean> {
    if (this.complete || this.failure || this.closing.signal.aborted) return true;
    if (this.watchers > 0) return false;
    // No local watcher: the holder goes on while other instances' watchers mark interest.
    return !(this.leading && await this.deps.bus.hasInterest(this.deps.key));
  }

  /** One cycle of the claim holder: read what is new, publish it, wait the adaptive interval. */
  private async leadOnce(): Promise<void> {
    const state = this.deps.jobState();
    if (!state.readable) {
      // AFTER_COMPLETION: nothing to read before the job ends; wake on its change (or renew the claim).
      let changed = false;
      await this.pauseUntil(async (signal) => {
        changed = await this.deps.jobChanged(Math.min(this.deps.settings.maxPollMs, this.deps.settings.leaseMs / 3), signal);
      });
      if (!changed) await this.checkStatus(0);
      return;
    }
    const last = state.finished && state.completesByStatus;
    let read;
    try {
      read = await this.deps.read(this.chunker.end, this.deps.identity, this.closing.signal);
      this.failures = 0;
    } catch (error) {
      if (this.closing.signal.aborted) return;
      await this.afterFailure(error);
      return;
    }
    if (read === null) {
      if (last) throw logUnavailable(this.deps.backend, 'the upstream has no log for this job (erased or expired)');
      this.poll.record(0);
      await this.pause(this.poll.ms);
      return;
    }
    const chunks = this.chunker.pushRead(read);
    if (read.complete || last) chunks.push(...this.chunker.finish());
    for (const chunk of chunks) await this.append(chunk, true);
    if (this.complete) return;
    // Quiet and not known to be finished: read the job's status now and then (at most once per longest poll wait).
    if (read.bytes.length === 0 && !state.finished && state.completesByStatus) await this.checkStatus(this.deps.settings.maxPollMs);
    this.poll.record(read.bytes.length);
    this.deps.onPollWait?.(this.poll.ms);
    await this.pause(this.poll.ms);
  }

  /** refreshJob, when the status was last checked at least `everyMs` ago; a failure only waits for the next check. */
  private async checkStatus(everyMs: number): Promise<void> {
    if (this.closing.signal.aborted || Date.now() - this.statusCheckedAt < everyMs) return;
    this.statusCheckedAt = Date.now();
    await this.deps.refreshJob(this.closing.signal).catch((error: unknown) => {
      if (!this.closing.signal.aborted) this.deps.log.warn({ err: String(error), key: this.deps.key }, 'log tail: reading the job status failed');
    });
  }

  private async afterFailure(error: unknown): Promise<void> {
    const code = isUpstreamError(error) ? error.code : null;
    const pushBack = code === ErrorCode.UpstreamRateLimited || code === ErrorCode.UpstreamBudgetExceeded;
    if (!pushBack && ++this.failures >= MAX_FAILURES) throw error;
    this.deps.log.warn({ err: String(error), key: this.deps.key }, 'log read failed; backing off');
    this.poll.backOff();
    const retryAfter = isUpstreamError(error) ? error.details.retryAfterMs ?? 0 : 0;
    await this.pause(Math.max(this.poll.ms, retryAfter));
  }

  /** Follows the holder's chunks until this instance takes the claim, its watchers leave, or the log completes. */
  private async follow(): Promise<void> {
    const { bus, key, settings } = this.deps;
    const stop = new AbortController();
    this.followStop = stop;
    const check = async () => {
      if (this.watchers === 0 || this.closing.signal.aborted) return stop.abort();
      await bus.markInterest(key, settings.leaseMs);
      if (await bus.claim(key, settings.leaseMs)) stop.abort();
    };
    const checker = setInterval(() => void check().catch(() => undefined), Math.max(10, settings.leaseMs / 3));
    try {
      await bus.markInterest(key, settings.leaseMs);
      for await (const chunk of bus.follow(key, this.ring.end, stop.signal)) {
        if (chunk.nextOffset <= this.ring.end) continue;
        // Older chunks no longer retained, or cut elsewhere: the difference is read upstream once, for every local watcher.
        if (chunk.offset !== this.ring.end) {
          const straddles = chunk.offset < this.ring.end;
          await this.fillGap(this.ring.end, straddles ? chunk.nextOffset : chunk.offset, straddles && chunk.complete);
          if (straddles) {
            if (this.complete) break;
            continue;
          }
        }
        await this.append(chunk, false);
        if (this.complete) break;
      }
    } finally {
      clearInterval(checker);
      this.followStop = null;
    }
  }

  private async fillGap(from: number, to: number, completes: boolean): Promise<void> {
    try {
      const read = await this.deps.read(from, this.deps.identity, this.closing.signal);
      if (!read) return;
      const chunker = new LogChunker(from, this.deps.settings);
      // An upstream whose offsets do not count its bytes cannot be cut at `to`: the whole read, up to its nextOffset.
      const chunks = read.nextOffset === undefined ? chunker.push(read.bytes.subarray(0, to - from)) : chunker.pushRead(read);
      chunks.push(...(completes ? chunker.finish() : chunker.flush()));
      for (const chunk of chunks) await this.append(chunk, false);
    } catch (error) {
      // Local watchers behind the ring read their gap themselves.
      this.deps.log.warn({ err: String(error), key: this.deps.key }, 'log gap read failed');
    }
  }

  private async append(chunk: LogChunkModel, publish: boolean): Promise<void> {
    this.ring.push(chunk);
    if (chunk.complete) this.complete = true;
    this.changed.notify();
    if (publish) await this.deps.bus.publish(this.deps.key, chunk).catch((error: unknown) => this.deps.log.warn({ err: String(error), key: this.deps.key }, 'log chunk publish failed'));
  }

  private pause(ms: number): Promise<void> {
    return this.idle.wait(this.closing.signal, ms);
  }

  private async pauseUntil(wait: (signal: AbortSignal) => Promise<void>): Promise<void> {
    const early = new AbortController();
    const onIdle = this.idle.wait(early.signal).then(() => early.abort());
    try {
      await wait(AbortSignal.any([early.signal, this.closing.signal]));
    } finally {
      early.abort();
      await onIdle;
    }
  }
}
