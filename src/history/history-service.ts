import type { Logger } from 'pino';
import type { SecretRef } from '../adapter-contract.ts';
import { StartupError } from '../errors.ts';
import type { ChangeEvent } from '../events/event-types.ts';
import { HistoryHealth } from './history-health.ts';
import type { BackfillConfig } from './backfill/backfill-config.ts';
import type { BackendSyncView } from './backfill/backend-sync-view.ts';
import { analyticsUnavailable, type HistoryReads } from './history-reads.ts';
import { SqlHistoryStore, type HistoryStore, type Observation, type RecordResult } from './history-store.ts';
import { HistoryWriter, type HistoryWriterOptions } from './history-writer.ts';
import { openPgliteDriver, type PgliteScheduling } from './pglite-driver.ts';
import { openPostgresDriver } from './postgres-driver.ts';
import { StreamHistoryConsumer, type StreamConsumerOptions } from './stream-consumer.ts';
import type { ProjectNameLookup } from './project-names.ts';

export interface HistoryConfig {
  readonly enabled: boolean;
  readonly url?: SecretRef | undefined;
  readonly dataDir?: string | undefined;
  readonly retentionDays: number;
  /** Pages of `pipelines`/`jobs` older than this are served from the history (default 24). */
  readonly liveWindowHours?: number;
  /** Import of the recent past from each backend (src/history/backfill). */
  readonly backfill?: BackfillConfig | undefined;
}

/** The history's state for operators (/readyz): not on the live path, so never a reason to be unready. */
export interface HistoryStatus {
  readonly state: 'off' | 'opening' | 'ok' | 'degraded' | 'closed';
  /** Why it is degraded: the database's own error. */
  readonly cause?: string;
  readonly since?: string;
  /** `redis-stream`: a consumer group over the event streams (ack after commit); `buffer`: bounded in-memory write-behind. */
  readonly feed: 'redis-stream' | 'buffer';
  /** Transitions written since start. */
  readonly written: number;
  /** redis-stream: entries no instance has read yet, and read but not acknowledged (null when Redis does not answer). */
  readonly lag?: number | null;
  readonly pending?: number | null;
  /** redis-stream: entries lost to stream trimming before they were recorded. */
  readonly lost?: number;
  readonly gaps?: number;
  /** redis-stream: changes the database refused on their own (logged and skipped). */
  readonly rejected?: number;
  /** buffer: observations held, and dropped because the buffer was full. */
  readonly buffered?: number;
  readonly dropped?: number;
}

export interface HistoryServiceOptions {
  readonly writer?: HistoryWriterOptions;
  /** How often retention runs (tests shorten it). */
  readonly retentionIntervalMs?: number;
  /** The Redis event streams to consume (events.store: redis); null: the in-memory buffer. */
  readonly streams?: StreamConsumerOptions | null;
  /** How often a degraded history checks whether its database is back. */
  readonly probeMs?: number;
  /** Full names of projects (scope patterns match them; GitLab's native ids are numeric). */
  readonly projectName?: ProjectNameLookup;
  /** Told after each committed batch: from its oldest change's acceptance to the commit, ms (/metrics). */
  readonly onWritten?: (lagMs: number) => void;
}

/** Work on the open store that must stop before it closes (the backfill). */
export interface HistoryTask {
  start(store: HistoryStore): void;
  close(): Promise<void>;
  /** A backend's backfill, for `Backend.sync` (the backfill task answers it). */
  sync?(backend: string): BackendSyncView | null;
}

const DAY_MS = 86_400_000;
const RETENTION_INTERVAL_MS = 3_600_000;

/** The URL without its password, for messages. */
function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(not a URL)';
  }
}

/**
 * The history as the core sees it: opens the store at start (a database that cannot
 * be used is a StartupError: one line, exit 2), picks its feed, and owns the retention
 * timer (unref'd, stopped on close). The feed: with Redis events, a consumer group over
 * the event streams that acknowledges after commit (lag and catch-up across a database
 * outage); without, the write-behind buffer fed by the ingestor's accepted changes.
 * A database lost at run time degrades the history (reads answer ANALYTICS_UNAVAILABLE
 * naming the cause) until a write, read or probe succeeds again.
 */
export class HistoryService implements HistoryReads {
  readonly writer: HistoryWriter;
  /** Set when events go through Redis: then it, not the writer, feeds the store. */
  readonly consumer: StreamHistoryConsumer | null;
  readonly health: HistoryHealth;
  private opened: HistoryStore | null = null;
  private opening: Promise<void> | null = null;
  private closed = false;
  private retention: NodeJS.Timeout | null = null;
  private readonly tasks: HistoryTask[] = [];
  /** Abandons an in-memory PGlite still opening when the gateway closes: nothing to lose, no wait. */
  private readonly abandonOpening = new AbortController();

  private readonly retentionIntervalMs: number;
  private readonly projectName: ProjectNameLookup;
  private readonly onWritten: ((lagMs: number) => void) | undefined;

  constructor(
    private readonly config: HistoryConfig,
    private readonly resolveSecret: (ref: SecretRef | undefined) => string | undefined,
    private readonly log: Logger,
    private readonly now: () => Date,
    options: HistoryServiceOptions = {},
  ) {
    const { writer: writerOptions = {}, streams = null, probeMs = 2000 } = options;
    this.retentionIntervalMs = options.retentionIntervalMs ?? RETENTION_INTERVAL_MS;
    this.projectName = options.projectName ?? (() => null);
    this.onWritten = options.onWritten;
    this.health = new HistoryHealth(log, now, () => this.openStore().query('SELECT 1'), probeMs);
    const record = (batch: readonly Observation[]) => this.recordWatched(batch.map((o) => this.named(o)));
    this.writer = new HistoryWriter(record, log, writerOptions);
    this.consumer = streams ? new StreamHistoryConsumer(record, this.health, log, streams) : null;
    if (this.consumer) this.health.onRecovered = () => this.consumer?.wake();
  }

  /** An observation with its project's full name: asked when observed, and again when written if it was not known yet. */
  named(observation: Observation): Observation {
    const { entity } = observation;
    if (observation.projectFullName || entity.type === 'Runner') return observation;
    const projectFullName = this.projectName(entity.backend, entity.projectNativeId);
    return projectFullName ? { ...observation, projectFullName } : observation;
  }

  get enabled(): boolean {
    return this.config.enabled;
  }

  get liveWindowMs(): number {
    return (this.config.liveWindowHours ?? 24) * 3_600_000;
  }

  /** The open store for a read, or ANALYTICS_UNAVAILABLE naming why there is none. */
  store(): HistoryStore {
    if (!this.config.enabled) throw analyticsUnavailable('history is turned off (history.enabled: false)');
    if (!this.opened) throw analyticsUnavailable(this.closed ? 'the gateway is shutting down' : 'the history database is still opening; try again in a few seconds');
    const { state, cause, since } = this.health.snapshot;
    if (state === 'degraded') throw analyticsUnavailable(`the history database is unreachable since ${since}: ${cause}`);
    return this.opened;
  }

  async read<T>(work: (store: HistoryStore) => Promise<T>): Promise<T> {
    const store = this.store();
    try {
      const result = await work(store);
      this.health.succeeded();
      return result;
    } catch (error) {
      if (error instanceof Error && 'extensions' in error) throw error;
      this.health.failed(error);
      throw analyticsUnavailable(`the history database failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** The history's state for /readyz. */
  async status(): Promise<HistoryStatus> {
    const feed = this.consumer ? 'redis-stream' : 'buffer';
    const { state, cause, since } = this.health.snapshot;
    const shown = !this.config.enabled ? 'off' : this.closed ? 'closed' : !this.opened ? 'opening' : state;
    const base = { state: shown, ...(shown === 'degraded' && cause ? { cause, since: since! } : {}), feed } as const;
    if (!this.consumer) {
      const { buffered, dropped, written } = this.writer.stats;
      return { ...base, written, buffered, dropped };
    }
    const { written, lost, gaps, rejected } = this.consumer.stats;
    const backlog = this.config.enabled && !this.closed ? await this.consumer.backlog(500) : { lag: null, pending: null };
    return { ...base, written, ...backlog, lost, gaps, rejected };
  }

  /** Runs `task` once the store is open (now, if it is) and closes it before the store. */
  addTask(task: HistoryTask): void {
    this.tasks.push(task);
    if (this.opened) task.start(this.opened);
  }

  sync(backend: string): BackendSyncView | null {
    if (!this.config.enabled) return null;
    for (const task of this.tasks) if (task.sync) return task.sync(backend);
    return null;
  }

  /** An accepted change: buffered, never awaited. With Redis the stream consumer reads it from the streams instead. */
  observe(event: ChangeEvent): void {
    if (!this.config.enabled || this.consumer) return;
    const entity = event.type === 'Job' ? event.job : event.type === 'Pipeline' ? event.pipeline : event.runner;
    this.writer.push(this.named({ entity, observedAt: event.receivedAt }));
  }

  /**
   * Opens the store. A configured database (url or dataDir) is awaited, so a wrong one stops
   * the start; in-memory PGlite (demo, tests) opens in the background, because compiling its
   * WASM takes seconds and nothing about it can be misconfigured: rows wait in the buffer.
   */
  async start(): Promise<void> {
    if (!this.config.enabled || this.opening) return;
    this.opening = this.open().then((store) => this.begin(store));
    if (this.config.url || this.config.dataDir) return this.opening;
    this.opening.catch((error: unknown) => !this.abandonOpening.signal.aborted && this.log.error({ err: error instanceof Error ? error.message : String(error) }, 'history unavailable'));
  }

  /** Resolves once the store is open and writing (tests wait on it). */
  get ready(): Promise<void> {
    return this.opening ?? Promise.reject(new Error('history not started'));
  }

  private begin(store: HistoryStore): void {
    if (this.closed) {
      void store.close();
      return;
    }
    this.opened = store;
    if (this.consumer) this.consumer.start();
    else this.writer.start();
    this.log.info({ store: this.config.url ? 'postgresql' : this.config.dataDir ? `pglite:${this.config.dataDir}` : 'pglite:memory' }, 'history ready');
    void this.prune();
    this.retention = setInterval(() => void this.prune(), this.retentionIntervalMs);
    this.retention.unref();
    for (const task of this.tasks) task.start(store);
  }

  /** Stops the tasks (the backfill) before the adapters they read through are disposed. */
  async stopTasks(): Promise<void> {
    await Promise.allSettled(this.tasks.map((task) => task.close()));
  }

  async close(): Promise<void> {
    if (!this.opened && !this.config.url && !this.config.dataDir) this.abandonOpening.abort();
    await this.opening?.catch(() => {});
    this.closed = true;
    if (this.retention) clearInterval(this.retention);
    this.retention = null;
    this.health.stop();
    await this.stopTasks();
    await this.writer.close();
    await this.consumer?.close();
    await this.opened?.close();
    this.opened = null;
  }

  private openStore(): HistoryStore {
    if (!this.opened) throw new Error('the history database is not open');
    return this.opened;
  }

  /** Every write goes through here: a failure degrades the history, a success recovers it. */
  private async recordWatched(batch: readonly Observation[]): Promise<RecordResult> {
    let result: RecordResult;
    try {
      result = await this.openStore().record(batch);
    } catch (error) {
      this.health.failed(error);
      throw error;
    }
    this.health.succeeded();
    if (this.onWritten && batch.length > 0) {
      // ISO-8601 UTC strings order as the times they name.
      let oldest = batch[0]!.observedAt;
      for (const o of batch) if (o.observedAt < oldest) oldest = o.observedAt;
      this.onWritten(this.now().getTime() - Date.parse(oldest));
    }
    return result;
  }

  private async open(): Promise<HistoryStore> {
    const { url: ref, dataDir } = this.config;
    let store: SqlHistoryStore;
    if (ref) {
      const url = this.resolveSecret(ref);
      if (!url) throw new StartupError(`history.url: expected a PostgreSQL URL, received ${'env' in ref ? `an unset environment variable ${ref.env}` : 'an empty value'}`);
      try {
        store = new SqlHistoryStore(await openPostgresDriver({ url }));
      } catch (error) {
        throw new StartupError(`history.url: cannot use the PostgreSQL at ${shownUrl(url)}: ${error instanceof Error ? error.message : String(error)}`);
      }
    } else {
      try {
        // Once, at debug: whether the SQL runs at SCHED_IDLE or only niced (bench/README.md section 9).
        const onScheduled = (scheduling: PgliteScheduling) => this.log.debug({ pgliteProcess: scheduling }, 'history: PGlite process scheduled below the gateway');
        store = new SqlHistoryStore(await openPgliteDriver(dataDir, dataDir ? { onScheduled } : { onScheduled, signal: this.abandonOpening.signal }));
      } catch (error) {
        throw new StartupError(`history.dataDir: cannot open PGlite in ${dataDir ?? 'memory'}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    try {
      await store.migrate();
    } catch (error) {
      await store.close().catch(() => {});
      throw new StartupError(`history: migrating the database failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    return store;
  }

  private async prune(): Promise<void> {
    const cutoff = new Date(this.now().getTime() - this.config.retentionDays * DAY_MS);
    try {
      const deleted = await this.opened?.prune(cutoff);
      if (deleted) this.log.info({ deleted, cutoff: cutoff.toISOString() }, 'history retention: old rows deleted');
    } catch (error) {
      this.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'history retention failed; retrying next hour');
    }
  }
}
