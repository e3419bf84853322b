import type { Logger } from 'pino';

/** Whether the history's database answers, as writes and reads last found it. */
export interface HistoryHealthState {
  readonly state: 'ok' | 'degraded';
  /** Why it is degraded (the database's own error), null when ok. */
  readonly cause: string | null;
  /** ISO time it degraded, null when ok. */
  readonly since: string | null;
}

/**
 * A lost database at run time: the first failed write or read degrades the history
 * (one warn line), the first success afterwards recovers it (one info line with how
 * long it lasted). While degraded, `probe` is run every `probeMs` so a database that
 * comes back is noticed even when nothing is written or read.
 */
export class HistoryHealth {
  private current: HistoryHealthState = { state: 'ok', cause: null, since: null };
  private prober: NodeJS.Timeout | null = null;
  private probing = false;
  /** Told when the database answers again (the stream consumer retries at once instead of at its backoff). */
  onRecovered: () => void = () => {};

  constructor(
    private readonly log: Logger,
    private readonly now: () => Date,
    private readonly probe: () => Promise<unknown>,
    private readonly probeMs = 2000,
  ) {}

  get snapshot(): HistoryHealthState {
    return this.current;
  }

  failed(error: unknown): void {
    const cause = error instanceof Error ? error.message : String(error);
    if (this.current.state === 'degraded') {
      this.current = { ...this.current, cause };
      return;
    }
    this.current = { state: 'degraded', cause, since: this.now().toISOString() };
    this.log.warn({ cause }, 'history degraded: the history database failed; live queries and subscriptions are unaffected, history waits to catch up');
    this.startProbing();
  }

  succeeded(): void {
    if (this.current.state === 'ok') return;
    const since = this.current.since;
    this.current = { state: 'ok', cause: null, since: null };
    this.stopProbing();
    const downMs = since ? this.now().getTime() - Date.parse(since) : null;
    this.log.info({ downMs }, 'history recovered: the history database answers again');
    this.onRecovered();
  }

  /** Whether the database answers a trivial query right now (a failed write was then about its rows, not the database). */
  async databaseAnswers(): Promise<boolean> {
    try {
      await this.probe();
      return true;
    } catch {
      return false;
    }
  }

  stop(): void {
    this.stopProbing();
  }

  private startProbing(): void {
    if (this.prober) return;
    this.prober = setInterval(() => {
      // One probe at a time: a connect can take longer than the interval.
      if (this.probing) return;
      this.probing = true;
      this.probe()
        .then(() => this.succeeded(), (error: unknown) => this.failed(error))
        .finally(() => (this.probing = false));
    }, this.probeMs);
    this.prober.unref();
  }

  private stopProbing(): void {
    if (this.prober) clearInterval(this.prober);
    this.prober = null;
  }
}
