import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { BackendEntry } from '../backend-registry.ts';
import type { PollObserver } from '../metrics/gateway-metrics.ts';
import { deliveriesCurrent, RECONCILE_STRETCH } from '../state/deliveries-current.ts';
import { firstSyncLine } from './backend-log-lines.ts';
import type { Ingestor } from './ingestor.ts';

const MAX_BACKOFF_MS = 5 * 60_000;
const DEFAULT_INTERVAL_MS = 30_000;

/** ±20% so many gateways (or backends) do not poll in lockstep. */
function jitter(ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4));
}

/**
 * Owns every poll timer: adapters only implement one poll cycle. Polls each
 * backend at its interval, backs off exponentially on errors, honours the
 * adapter's `nextPollAfterMs` (rate-limit resets), and never overlaps cycles.
 */
export class PollScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly failures = new Map<string, number>();
  private stopped = false;
  private readonly stopping = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  /** The current backends by name: a reload adds and removes them (the constructor's list is the start). */
  private readonly backends = new Map<string, BackendEntry>();
  /** Per backend: aborts its cycle when a reload removes it, and its cycle running now. */
  private readonly removing = new Map<string, AbortController>();
  private readonly cycles = new Map<string, Promise<unknown>>();
  private started = false;
  /** Backends not yet synced once, with when their first cycle began (for the start-up line). */
  private readonly firstSync = new Map<string, number>();

  constructor(
    backends: readonly BackendEntry[],
    private readonly ingestor: Ingestor,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
    /** Where each cycle's outcome and duration is counted (/metrics). */
    private readonly observer?: PollObserver,
  ) {
    for (const b of backends) this.backends.set(b.name, b);
  }

  start(): void {
    this.started = true;
    for (const backend of this.backends.values()) this.begin(backend);
  }

  /** A reload added a backend: it is polled from now on (at once, when the scheduler runs). */
  add(backend: BackendEntry): void {
    this.backends.set(backend.name, backend);
    if (this.started) this.begin(backend);
  }

  /**
   * A reload removed a backend: its timer is cleared, a cycle running now is aborted, and
   * nothing it read is ingested after this resolves (its adapter can then be disposed).
   */
  async remove(name: string): Promise<void> {
    this.backends.delete(name);
    this.firstSync.delete(name);
    this.failures.delete(name);
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
    this.removing.get(name)?.abort(new Error(`backend ${name} removed by a config reload`));
    this.removing.delete(name);
    await this.cycles.get(name)?.catch(() => undefined);
  }

  /** Runs one cycle for a backend now; resolves, once its result is ingested, with the wait the timer would take before the next. */
  async pollNow(name: string): Promise<number | undefined> {
    const backend = this.backends.get(name);
    return backend ? this.cycle(backend) : undefined;
  }

  private begin(backend: BackendEntry): void {
    if (!backend.adapter.poll) return;
    this.firstSync.set(backend.name, this.now().getTime());
    this.schedule(backend, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  private schedule(backend: BackendEntry, delayMs: number): void {
    // Stopped, or removed (or replaced) by a reload while its cycle ran.
    if (this.stopped || this.backends.get(backend.name) !== backend) return;
    const timer = setTimeout(() => {
      this.timers.delete(backend.name);
      const run = this.cycle(backend).then((nextMs) => this.schedule(backend, nextMs));
      this.inFlight.add(run);
      void run.finally(() => this.inFlight.delete(run));
    }, delayMs);
    timer.unref();
    this.timers.set(backend.name, timer);
  }

  private async cycle(backend: BackendEntry): Promise<number> {
    const removed = new AbortController();
    this.removing.set(backend.name, removed);
    const run = this.cycleUnder(backend, AbortSignal.any([this.stopping.signal, removed.signal]));
    this.cycles.set(backend.name, run);
    try {
      return await run;
    } finally {
      if (this.cycles.get(backend.name) === run) this.cycles.delete(backend.name);
      if (this.removing.get(backend.name) === removed) this.removing.delete(backend.name);
    }
  }

  private async cycleUnder(backend: BackendEntry, signal: AbortSignal): Promise<number> {
    const interval = backend.adapter.pollIntervalMs ?? DEFAULT_INTERVAL_MS;
    const startedAt = performance.now();
    const observe = (ok: boolean) => this.observer?.cycle(backend.name, ok, (performance.now() - startedAt) / 1000);
    try {
      const poll = backend.adapter.poll!.bind(backend.adapter);
      // No deadline: a cycle may page through a lot and its requests time out on their own; stop() ends it.
      const result = await backend.policy.execute((signal) => {
        // One cycle fans out to many concurrent reads on this signal, each listening for its abort
        // until it settles: not a leak, so Node's 10-listener warning does not apply to it.
        setMaxListeners(0, signal);
        return poll(signal);
      }, { signal });
      // Removed by a reload while the read was finishing: its entities are not ingested.
      if (this.backends.get(backend.name) !== backend) return 0;
      backend.health.polled();
      this.failures.set(backend.name, 0);
      const published = this.ingestor.ingest(result.entities, { source: 'POLL', publishNew: true });
      observe(true);
      const began = this.firstSync.get(backend.name);
      if (began !== undefined) {
        this.firstSync.delete(backend.name);
        const line = firstSyncLine(backend.name, result.entities, backend.adapter.webhook !== undefined, this.now().getTime() - began);
        this.log.info({ backend: backend.name, ...line.fields }, line.message);
      }
      if (published > 0) this.log.debug({ backend: backend.name, published }, 'poll found changes');
      // The adapter may ask for sooner (builds running) or later (rate-limit reset). While webhooks
      // keep the state current the poll is only the reconcile, and runs at the slower cadence.
      const stretch = deliveriesCurrent(backend, this.now().getTime()) ? RECONCILE_STRETCH : 1;
      return result.nextPollAfterMs ?? jitter(interval * stretch);
    } catch (error) {
      if (signal.aborted) return 0; // ended by stop() or a reload's removal: not a failed poll
      observe(false);
      const n = (this.failures.get(backend.name) ?? 0) + 1;
      this.failures.set(backend.name, n);
      const retryAfter = (error as { details?: { retryAfterMs?: number } }).details?.retryAfterMs ?? 0;
      const delay = Math.max(retryAfter, jitter(Math.min(MAX_BACKOFF_MS, interval * 2 ** Math.min(n, 10))));
      this.log.warn({ backend: backend.name, err: error instanceof Error ? error.message : String(error), retryInMs: delay }, 'poll failed');
      return delay;
    }
  }
}
