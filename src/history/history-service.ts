import type { Logger } from 'pino';
import type { SecretRef } from '../adapter-contract.ts';
import { StartupError } from '../errors.ts';
import type { ChangeEvent } from '../events/event-types.ts';
import { analyticsUnavailable, type HistoryReads } from './history-reads.ts';
import { SqlHistoryStore, type HistoryStore, type Observation } from './history-store.ts';
import { HistoryWriter, type HistoryWriterOptions } from './history-writer.ts';
import { openPgliteDriver } from './pglite-driver.ts';
import { openPostgresDriver } from './postgres-driver.ts';
import type { ProjectNameLookup } from './project-names.ts';

export interface HistoryConfig {
  readonly enabled: boolean;
  readonly url?: SecretRef | undefined;
  readonly dataDir?: string | undefined;
  readonly retentionDays: number;
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
 * be used is a StartupError: one line, exit 2), feeds it write-behind from the
 * ingestor's accepted changes, and owns the retention timer (unref'd, stopped on close).
 */
export class HistoryService implements HistoryReads {
  readonly writer: HistoryWriter;
  private opened: HistoryStore | null = null;
  private opening: Promise<void> | null = null;
  private closed = false;
  private retention: NodeJS.Timeout | null = null;

  constructor(
    private readonly config: HistoryConfig,
    private readonly resolveSecret: (ref: SecretRef | undefined) => string | undefined,
    private readonly log: Logger,
    private readonly now: () => Date,
    writerOptions: HistoryWriterOptions = {},
    /** How often retention runs (tests shorten it). */
    private readonly retentionIntervalMs = RETENTION_INTERVAL_MS,
    /** Full names of projects (scope patterns match them; GitLab's native ids are numeric). */
    private readonly projectName: ProjectNameLookup = () => null,
  ) {
    this.writer = new HistoryWriter((batch) => this.store().record(batch.map((o) => this.named(o))), log, writerOptions);
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

  /** The open store for a read, or ANALYTICS_UNAVAILABLE naming why there is none. */
  store(): HistoryStore {
    if (!this.config.enabled) throw analyticsUnavailable('history is turned off (history.enabled: false)');
    if (!this.opened) throw analyticsUnavailable(this.closed ? 'the gateway is shutting down' : 'the history database is still opening; try again in a few seconds');
    return this.opened;
  }

  async read<T>(work: (store: HistoryStore) => Promise<T>): Promise<T> {
    const store = this.store();
    try {
      return await work(store);
    } catch (error) {
      if (error instanceof Error && 'extensions' in error) throw error;
      throw analyticsUnavailable(`the history database failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** An accepted change: buffered, never awaited. */
  observe(event: ChangeEvent): void {
    if (!this.config.enabled) return;
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
    this.opening.catch((error: unknown) => this.log.error({ err: error instanceof Error ? error.message : String(error) }, 'history unavailable'));
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
    this.writer.start();
    this.log.info({ store: this.config.url ? 'postgresql' : this.config.dataDir ? `pglite:${this.config.dataDir}` : 'pglite:memory' }, 'history ready');
    void this.prune();
    this.retention = setInterval(() => void this.prune(), this.retentionIntervalMs);
    this.retention.unref();
  }

  async close(): Promise<void> {
    await this.opening?.catch(() => {});
    this.closed = true;
    if (this.retention) clearInterval(this.retention);
    this.retention = null;
    await this.writer.close();
    await this.opened?.close();
    this.opened = null;
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
        store = new SqlHistoryStore(await openPgliteDriver(dataDir));
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
