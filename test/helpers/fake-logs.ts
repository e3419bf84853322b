/**
 * A fake BackendLogs for the log engine's tests: a growing log the test writes, every read
 * counted, and an optional gate that holds each read until the test lets it go (so a test
 * decides exactly what each read sees, with no timing).
 */
import pino from 'pino';
import type { BackendAdapter, BackendLogs, LogAvailability, LogRead } from '../../src/adapter-contract.ts';
import type { BackendEntry } from '../../src/backend-registry.ts';
import { UpstreamBudget } from '../../src/loaders/upstream-budget.ts';
import type { LogsConfig } from '../../src/logs/log-config.ts';
import type { LogMetrics } from '../../src/logs/log-metrics.ts';
import { LogTails, type JobTracker } from '../../src/logs/log-tail-service.ts';
import type { LogChunkBus, LogChunkModel } from '../../src/logs/log-types.ts';
import { MemoryLogChunkBus } from '../../src/logs/bus/memory-log-bus.ts';
import { WakeUp } from '../../src/logs/wake-up.ts';
import type { CiStatus, JobModel } from '../../src/model.ts';
import { createBackendPolicy } from '../../src/resilience/backend-policy.ts';
import { job } from './ci-models.ts';

export class FakeLogs implements BackendLogs {
  readonly minPollIntervalMs: number;
  text = Buffer.alloc(0);
  complete = false;
  kind: LogAvailability['kind'] = 'LIVE';
  /** The offset of every read, in order. */
  readonly reads: number[] = [];
  gated = false;
  private waiting: (() => void)[] = [];
  private readonly arrived = new WakeUp();

  constructor(minPollIntervalMs = 1) {
    this.minPollIntervalMs = minPollIntervalMs;
  }

  availability(): LogAvailability {
    return { kind: this.kind, reason: `the fake says ${this.kind}` };
  }

  async read(_jobNativeId: string, offset: number, signal: AbortSignal): Promise<LogRead | null> {
    this.reads.push(offset);
    if (this.gated) {
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        this.arrived.notify();
      });
    }
    signal.throwIfAborted();
    return { bytes: Buffer.from(this.text.subarray(Math.min(offset, this.text.length))), complete: this.complete };
  }

  append(text: string): void {
    this.text = Buffer.concat([this.text, Buffer.from(text)]);
  }

  /** Resolves once a read waits at the gate. */
  async readWaiting(): Promise<void> {
    while (this.waiting.length === 0) await this.arrived.wait();
  }

  /** Lets the waiting reads go. */
  release(): void {
    for (const go of this.waiting.splice(0)) go();
  }

  /** One gated step: wait for the next read, change the log, let the read see it. */
  async step(change: () => void = () => undefined): Promise<void> {
    await this.readWaiting();
    change();
    this.release();
  }
}

/** A job status the test moves; `changed` wakes the tails waiting on it. */
export class FakeJobs implements JobTracker {
  status: CiStatus = 'RUNNING';
  readonly waits: number[] = [];
  private readonly wake = new WakeUp();
  readonly waitedOn = new WakeUp();

  current(j: JobModel): JobModel {
    return { ...j, status: this.status };
  }

  /** Upstream re-reads the tails asked for (refresh): the status they would find is `upstreamStatus`. */
  refreshes = 0;
  upstreamStatus: CiStatus | null = null;
  private version = 0;

  async changed(_job: JobModel, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    const before = this.version;
    this.waits.push(timeoutMs);
    this.waitedOn.notify();
    await this.wake.wait(signal, timeoutMs);
    return this.version !== before;
  }

  refresh(): Promise<void> {
    this.refreshes++;
    if (this.upstreamStatus && this.upstreamStatus !== this.status) this.set(this.upstreamStatus);
    return Promise.resolve();
  }

  set(status: CiStatus): void {
    this.status = status;
    this.version++;
    this.wake.notify();
  }
}

export const LOG_DEFAULTS: LogsConfig = { enabled: true, redact: [], maxTailsPerIdentity: 1000, maxChunkBytes: 65_536, ringBytes: 1_048_576, maxPollIntervalSeconds: 15 };

export function logBackend(logs: BackendLogs | undefined, name = 'b1'): BackendEntry {
  const adapter = { name, provider: 'test', logs } as unknown as BackendAdapter;
  return { id: name, name, adapter, factory: {} as BackendEntry['factory'], health: {} as BackendEntry['health'], policy: createBackendPolicy(name, { attempts: 1 }) };
}

export function logService(logs: FakeLogs, options: { config?: Partial<LogsConfig>; jobs?: FakeJobs; bus?: LogChunkBus; timeoutMs?: number; metrics?: LogMetrics; onPollWait?: (key: string, ms: number) => void } = {}): LogTails {
  const backend = logBackend(logs);
  return new LogTails({
    backend: (name) => (name === backend.name ? backend : undefined),
    bus: options.bus ?? new MemoryLogChunkBus(1 << 20),
    config: { ...LOG_DEFAULTS, ...options.config },
    budget: new UpstreamBudget(1e9, Date.now),
    timeoutMs: options.timeoutMs ?? 5_000,
    jobs: options.jobs ?? new FakeJobs(),
    log: pino({ level: 'silent' }),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.onPollWait ? { onPollWait: options.onPollWait } : {}),
  });
}

export const runningJob = (nativeId = 'j1') => job(nativeId, { backend: 'b1', status: 'RUNNING' });

/** Reads a watch to its end, recording every chunk; `received(n)` waits for the n-th. */
export class Collector {
  readonly chunks: LogChunkModel[] = [];
  error: unknown = null;
  readonly done: Promise<void>;
  private readonly grew = new WakeUp();

  constructor(stream: AsyncIterable<LogChunkModel>) {
    this.done = (async () => {
      try {
        for await (const chunk of stream) {
          this.chunks.push(chunk);
          this.grew.notify();
        }
      } catch (error) {
        this.error = error;
      } finally {
        this.grew.notify();
      }
    })();
  }

  get text(): string {
    return this.chunks.map((c) => c.text).join('');
  }

  async received(n: number): Promise<void> {
    while (this.chunks.length < n && this.error === null) await this.grew.wait(undefined, 1000);
  }
}

/** Offsets contiguous from `from`: no gap, no duplicate. */
export function contiguousFrom(chunks: readonly LogChunkModel[], from: number): boolean {
  let at = from;
  for (const c of chunks) {
    if (c.offset !== at) return false;
    at = c.nextOffset;
  }
  return true;
}
