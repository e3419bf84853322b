import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { BackendEntry } from '../../backend-registry.ts';
import type { HistoryStore } from '../history-store.ts';
import type { BackfillConfig } from './backfill-config.ts';
import { BackendBackfill } from './backend-backfill.ts';
import type { BackendSyncView } from './backend-sync-view.ts';

export type { BackendSyncView } from './backend-sync-view.ts';

export interface BackfillServiceOptions {
  /** How often a running backfill logs its progress. */
  readonly progressLogMs?: number;
  /** This instance's name in the backfill lease (default: host, pid and a random part). */
  readonly holder?: string;
}

/**
 * Imports the last `days` of every configured backend's projects into the
 * history once its store is open (HistoryService runs it as a task), resuming
 * where a previous run stopped. A backend a config reload adds is backfilled
 * from then on (or at the first start of the store); one it removes stops
 * (its progress saved), before its adapter is disposed.
 * Instances sharing the history take turns per backend (a lease, migration 7):
 * one imports, the others answer `Backend.sync` from the shared progress.
 */
export class BackfillService {
  private backends: BackendBackfill[];
  private readonly abort = new AbortController();
  private runs: Promise<void> | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private store: HistoryStore | null = null;
  private readonly holder: string;
  /** Per backend: its run and what stops it alone (a reload's removal). */
  private readonly running = new Map<string, { run: Promise<void>; stop: AbortController }>();

  constructor(
    entries: readonly BackendEntry[],
    private readonly config: BackfillConfig,
    private readonly log: Logger,
    now: () => Date,
    private readonly options: BackfillServiceOptions = {},
  ) {
    this.holder = options.holder ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.backends = entries.map((entry) => new BackendBackfill(entry, config, log, now, this.holder));
  }

  /** The store is open: every backend's backfill starts (in the background). */
  start(store: HistoryStore): void {
    if (!this.config.enabled || this.runs || this.abort.signal.aborted) return;
    this.store = store;
    this.runs = Promise.all(this.backends.map((b) => this.launch(b))).then(() => this.stopTicker());
    this.ticker = setInterval(() => this.logProgress(), this.options.progressLogMs ?? 10_000);
    this.ticker.unref();
  }

  /** A reload added a backend: its backfill starts now if the others have started (else with them). */
  add(entry: BackendEntry, now: () => Date): void {
    const backfill = new BackendBackfill(entry, this.config, this.log, now, this.holder);
    this.backends = [...this.backends.filter((b) => b.name !== entry.name), backfill];
    if (this.store && !this.abort.signal.aborted) void this.launch(backfill);
  }

  /** A reload removed a backend: its backfill stops (requests aborted, progress saved) before this resolves. */
  async remove(name: string): Promise<void> {
    this.backends = this.backends.filter((b) => b.name !== name);
    const running = this.running.get(name);
    running?.stop.abort(new Error(`backend ${name} removed by a config reload`));
    await running?.run;
  }

  /** Stops every backfill (their requests abort); progress saved so far is where the next start resumes. */
  async close(): Promise<void> {
    this.abort.abort(new Error('the gateway is shutting down'));
    this.stopTicker();
    await this.runs;
    await Promise.allSettled([...this.running.values()].map((r) => r.run));
  }

  private launch(b: BackendBackfill): Promise<void> {
    const stop = new AbortController();
    const signal = AbortSignal.any([this.abort.signal, stop.signal]);
    const run = b.run(this.store!, signal).catch((error: unknown) => {
      if (signal.aborted) return;
      this.log.error({ backend: b.name, err: error instanceof Error ? error.message : String(error) }, 'backfill stopped by an error; it resumes at the next start');
    }).finally(() => {
      if (this.running.get(b.name)?.run === run) this.running.delete(b.name);
    });
    this.running.set(b.name, { run, stop });
    return run;
  }

  /** The backend's backfill for `Backend.sync`; null when the backfill is turned off. */
  sync(backend: string): BackendSyncView | null {
    if (!this.config.enabled) return null;
    return this.backends.find((b) => b.name === backend)?.view() ?? null;
  }

  private logProgress(): void {
    for (const b of this.backends) {
      if (!b.running || !b.leading) continue;
      const v = b.view();
      this.log.info({ backend: b.name, state: v.state, imported: v.imported, estimatedTotal: v.estimatedTotal, importedJobs: v.importedJobs, requests: v.requests, projectsDone: v.projectsDone, projects: v.projects, oldestImportedAt: v.oldestImportedAt }, 'backfill progress');
    }
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
  }
}
