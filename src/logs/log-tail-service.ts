/**
 * The LogTailService (log-types.ts): one tail per log source per instance, keyed with the
 * backend name, whatever the number of watchers; tails shared across instances through the chunk
 * bus; per-identity watch limits; `Job.log` reads under the same policy and budget.
 */
import type { Logger } from 'pino';
import type { LogAvailability } from '../adapter-contract.ts';
import type { BackendEntry } from '../backend-registry.ts';
import type { UpstreamBudget } from '../loaders/upstream-budget.ts';
import { isTerminal, type JobModel } from '../model.ts';
import { CompletedLogs, jobLogFromTail } from './completed-logs.ts';
import { IdentityTailSlots } from './identity-tail-slots.ts';
import type { LogsConfig } from './log-config.ts';
import { LogChunker, type ChunkerOptions } from './log-chunker.ts';
import { logsDisabled, logUnavailable, tailLimitReached } from './log-errors.ts';
import { LogMetrics } from './log-metrics.ts';
import { jobLogOf } from './log-read.ts';
import { compileRedactor } from './log-redaction.ts';
import { LogTail, type TailSettings } from './log-tail.ts';
import type { JobLogModel, LogChunkBus, LogChunkModel, LogTailService } from './log-types.ts';
import { sourceReader, type SourceRead } from './log-upstream.ts';
import { watchTail } from './log-watch.ts';

/** The most lines `Job.log(tail:)` returns. */
export const MAX_TAIL_LINES = 10_000;
/** Completed logs kept in memory after their tail stopped (each at most `ringBytes`), and for how long. */
const COMPLETED_LOGS = 32;
const COMPLETED_KEEP_MS = 10 * 60_000;

export interface JobTracker {
  /** The newest known version of the job (the live state), else the given one. */
  current(job: JobModel): JobModel;
  /** Resolves true at the job's next change, false after `timeoutMs` or on abort. */
  changed(job: JobModel, timeoutMs: number, signal: AbortSignal): Promise<boolean>;
  /** Reads the job again upstream and ingests it (its change then reaches `changed` and every subscriber). */
  refresh(job: JobModel, signal: AbortSignal): Promise<void>;
}

export interface LogServiceDeps {
  /** The backend of that name now (a reload may replace it). */
  readonly backend: (name: string) => BackendEntry | undefined;
  readonly bus: LogChunkBus;
  readonly config: LogsConfig;
  readonly budget: UpstreamBudget;
  /** Deadline of one upstream read (config backendTimeoutMs). */
  readonly timeoutMs: number;
  readonly jobs: JobTracker;
  readonly metrics?: LogMetrics;
  readonly log: Logger;
  /** Told each wait of a tail between two polls (tests, debugging). */
  readonly onPollWait?: (key: string, ms: number) => void;
}

export interface WatchOptions {
  readonly identity: string;
  readonly signal: AbortSignal;
}

export class LogTails implements LogTailService {
  private readonly tails = new Map<string, LogTail>();
  private readonly completed = new CompletedLogs(COMPLETED_LOGS, COMPLETED_KEEP_MS);
  private readonly slots: IdentityTailSlots;
  private readonly chunking: ChunkerOptions;
  private readonly metrics: LogMetrics;

  constructor(private readonly deps: LogServiceDeps) {
    this.slots = new IdentityTailSlots(deps.config.maxTailsPerIdentity);
    this.chunking = { maxChunkBytes: deps.config.maxChunkBytes, redact: compileRedactor(deps.config.redact) };
    this.metrics = deps.metrics ?? new LogMetrics();
  }

  /** Tails running on this instance (tests, /metrics). */
  get activeTails(): number {
    return this.tails.size;
  }

  /** Resolves once the tail of `key` (`<backend>:<source>`) has stopped (at once when none runs). */
  async tailStopped(key: string): Promise<void> {
    const tail = this.tails.get(key);
    while (tail && !tail.isStopped) await tail.changed.wait();
  }

  availability(job: JobModel): LogAvailability {
    if (!this.deps.config.enabled) return { kind: 'NONE', reason: 'Job logs are turned off on this gateway (config logs.enabled).' };
    const backend = this.deps.backend(job.backend);
    const logs = backend?.adapter.logs;
    if (!logs) return { kind: 'NONE', reason: `Backend ${job.backend} serves no job logs through Switchyard.` };
    return logs.availability(this.deps.jobs.current(job));
  }

  /**
   * Checks availability and the identity's limit at once (so a subscription is refused before it
   * starts), then streams. The slot is held until the stream ends.
   */
  watch(job: JobModel, after: number | null, options: WatchOptions): AsyncIterable<LogChunkModel> {
    const backend = this.readableBackend(job);
    const release = this.slots.acquire(options.identity);
    if (!release) throw tailLimitReached(this.slots.max);
    const stream = this.stream(backend, job, after ?? 0, options, release);
    // Ended before its first chunk (a generator not yet started runs no `finally`): the slot is still given back.
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => stream.next(),
        return: (value?: unknown) => {
          release();
          return stream.return(value as undefined);
        },
      }),
    };
  }

  async read(job: JobModel, options: { readonly tail: number | null; readonly after: number | null; readonly signal: AbortSignal; readonly identity?: string }): Promise<JobLogModel | null> {
    const availability = this.availability(job);
    const current = this.deps.jobs.current(job);
    const finished = isTerminal(current.status);
    if (availability.kind === 'NONE' || (availability.kind === 'AFTER_COMPLETION' && !finished)) return null;
    const backend = this.deps.backend(job.backend)!;
    const tail = options.tail === null ? null : Math.min(Math.max(options.tail, 0), MAX_TAIL_LINES);
    const held = this.completed.get(`${backend.name}:${this.sourceOf(backend, job.nativeId)}`);
    const fromMemory = held && jobLogFromTail(held, { tail, after: options.after, maxBytes: this.deps.config.ringBytes });
    if (fromMemory) return fromMemory;
    const from = options.tail === null ? options.after ?? 0 : 0;
    const read = await this.reader(backend, job.nativeId)(from, options.identity ?? 'logs', options.signal);
    if (!read) return null;
    const sharesLog = this.sourceOf(backend, job.nativeId) !== job.nativeId;
    return jobLogOf(read, { from, tail, maxBytes: this.deps.config.ringBytes, finished: finished && !sharesLog }, this.chunking);
  }

  async close(): Promise<void> {
    for (const tail of this.tails.values()) tail.close();
    this.tails.clear();
    this.completed.clear();
    await this.deps.bus.close();
  }

  private readableBackend(job: JobModel): BackendEntry {
    if (!this.deps.config.enabled) throw logsDisabled();
    const availability = this.availability(job);
    if (availability.kind === 'NONE') throw logUnavailable(job.backend, availability.reason);
    return this.deps.backend(job.backend)!;
  }

  private async *stream(backend: BackendEntry, job: JobModel, from: number, options: WatchOptions, release: () => void): AsyncGenerator<LogChunkModel> {
    this.metrics.watcherJoined(backend.name);
    const tail = this.attach(backend, job, from);
    const read = this.reader(backend, job.nativeId);
    const readGap = async (gapFrom: number, to: number, completes: boolean) => {
      const got = await read(gapFrom, options.identity, options.signal);
      if (!got) return [];
      const chunker = new LogChunker(gapFrom, this.chunking);
      // Offsets that do not count bytes (Jenkins): the whole read; the watcher realigns with the ring at the next read boundary both share.
      const chunks = got.nextOffset === undefined ? chunker.push(got.bytes.subarray(0, to - gapFrom)) : chunker.pushRead(got);
      return [...chunks, ...(completes ? chunker.finish() : chunker.flush())];
    };
    try {
      for await (const chunk of watchTail(tail, backend.name, from, readGap, options.signal)) {
        this.metrics.delivered(backend.name);
        yield chunk;
      }
    } finally {
      tail.detach();
      release();
      this.metrics.watcherLeft(backend.name);
    }
  }

  /** The running tail of the job's source, or a new one starting at `from`. */
  private attach(backend: BackendEntry, job: JobModel, from: number): LogTail {
    const source = this.sourceOf(backend, job.nativeId);
    const key = `${backend.name}:${source}`;
    const running = this.tails.get(key);
    if (running?.attach()) return running;
    // Completed and held whole: served from memory, no new tail, no upstream read.
    const held = this.completed.get(key);
    if (held) return held;
    const tail: LogTail = new LogTail({
      // Shared polls are charged to the backend's log budget, not to whoever came first; gap reads and Job.log to their caller.
      key, backend: backend.name, bus: this.deps.bus, identity: `logs:${backend.name}`, settings: this.settings(backend),
      read: this.reader(backend, job.nativeId),
      jobState: () => {
        const current = this.deps.jobs.current(job);
        const finished = isTerminal(current.status);
        const kind = backend.adapter.logs!.availability(current).kind;
        return { finished, readable: kind !== 'AFTER_COMPLETION' || finished, completesByStatus: source === job.nativeId };
      },
      jobChanged: (timeoutMs, signal) => this.deps.jobs.changed(job, timeoutMs, signal),
      refreshJob: (signal) => this.deps.jobs.refresh(job, signal),
      metrics: this.metrics, log: this.deps.log,
      ...(this.deps.onPollWait ? { onPollWait: (ms: number) => this.deps.onPollWait!(key, ms) } : {}),
      onStop: () => {
        if (this.tails.get(key) === tail) this.tails.delete(key);
        this.completed.keep(key, tail);
      },
    }, from);
    this.tails.set(key, tail);
    tail.attach();
    return tail;
  }

  private settings(backend: BackendEntry): TailSettings {
    const minPollMs = backend.adapter.logs!.minPollIntervalMs;
    const maxPollMs = Math.max(minPollMs, this.deps.config.maxPollIntervalSeconds * 1000);
    // A holder renews each cycle: its claim outlives its longest wait plus one read.
    return { ...this.chunking, ringBytes: this.deps.config.ringBytes, minPollMs, maxPollMs, leaseMs: maxPollMs * 2 + this.deps.timeoutMs };
  }

  private sourceOf(backend: BackendEntry, jobNativeId: string): string {
    return backend.adapter.logs!.logSource?.(jobNativeId) ?? jobNativeId;
  }

  private reader(backend: BackendEntry, jobNativeId: string): SourceRead {
    return sourceReader(backend, jobNativeId, { budget: this.deps.budget, timeoutMs: this.deps.timeoutMs, metrics: this.metrics });
  }
}
