import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { HistoryStore } from '../../history/history-store.ts';
import type { HistoryTask } from '../../history/history-service.ts';
import { throttledEvent, type ThrottledEvent } from '../../server/throttled-log.ts';
import type { DeliveryRecord } from '../notify-context.ts';
import type { NotificationsConfig, SinkConfig } from '../notify-config.ts';
import type { NotificationSink, SendOutcome } from '../sink.ts';
import { NO_DELIVERY_METRICS, type DeliveryObserver } from './delivery-metrics.ts';
import { OutboxStore, type Completion } from './outbox-store.ts';
import { verdictOf, type RetryPolicy } from './retry-policy.ts';
import { SinkLimiter } from './sink-limiter.ts';

export interface DeliveryWorkerOptions {
  /** Built elsewhere (src/notify/sinks), by name; rows for a sink not here wait in the outbox. */
  readonly sinks: ReadonlyMap<string, NotificationSink>;
  readonly config: NotificationsConfig;
  readonly log: Logger;
  readonly now: () => Date;
  readonly observer?: DeliveryObserver;
  /** How often the outbox is read for rows this instance was not told about (other instances' enqueues, leases that ran out). */
  readonly pollMs?: number;
  readonly random?: () => number;
}

const DEFAULT_POLL_MS = 1000;
const PRUNE_INTERVAL_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** A lease outlives the attempt's timeout by this much, so a slow but live sender keeps its claim. */
const LEASE_MARGIN_MS = 5000;

interface SinkLane {
  readonly sink: NotificationSink;
  readonly limiter: SinkLimiter;
  readonly timeoutMs: number;
  readonly leaseMs: number;
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Settles with the send, or with the signal's abort if the sink ignores it: a sink that never returns blocks nothing. */
function raceAbort(send: Promise<SendOutcome>, signal: AbortSignal): Promise<SendOutcome> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    send.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Sends the outbox's rows (NOTIFICATIONS.md "Delivery: the outbox"): a history task, started once
 * the history is open and closed before it. Each pass claims, per sink, as many due rows as the
 * sink's concurrency and rate allow (the claim is exclusive across instances), sends them with a
 * per-attempt timeout, and records the outcome. It runs on a short poll, at once after `wake()`
 * (an enqueue on this instance, a send finishing), and when the next retry falls due.
 * The history failing never ends it: the failure is logged (throttled) and the next pass tries again.
 */
export class DeliveryWorker implements HistoryTask {
  readonly sender = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  private outbox: OutboxStore | null = null;
  private readonly lanes = new Map<string, SinkLane>();
  private readonly policy: RetryPolicy;
  private readonly pollMs: number;
  private readonly observer: DeliveryObserver;
  private readonly random: () => number;
  private readonly inFlight = new Set<Promise<void>>();
  /** The attempts under way, cut short when the worker closes. */
  private readonly attempts = new Set<AbortController>();
  /**
   * Outcomes not yet recorded: written in batches (one transaction for all that finished meanwhile, so a
   * busy sink costs one write per batch, not per message); kept through a history outage and written
   * at the next pass, before the lease runs out.
   */
  private readonly unrecorded: { readonly id: string; readonly completion: Completion; readonly at: Date }[] = [];
  private recording: Promise<void> | null = null;
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private pruneTimer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private lastError = '';
  private readonly failure: ThrottledEvent;

  constructor(private readonly options: DeliveryWorkerOptions) {
    const { delivery } = options.config;
    this.policy = { maxAttempts: delivery.maxAttempts, initialBackoffMs: delivery.initialBackoffSeconds * 1000, maxBackoffMs: delivery.maxBackoffSeconds * 1000 };
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.observer = options.observer ?? NO_DELIVERY_METRICS;
    this.random = options.random ?? Math.random;
    const configs = new Map<string, SinkConfig>(options.config.sinks.map((s) => [s.name, s]));
    const clock = () => options.now().getTime();
    for (const [name, sink] of options.sinks) {
      const c = configs.get(name);
      const timeoutMs = (c?.timeoutSeconds ?? 10) * 1000;
      this.lanes.set(name, {
        sink, timeoutMs, limiter: new SinkLimiter(c?.concurrency ?? 2, c?.ratePerMinute ?? 60, clock),
        leaseMs: Math.max(delivery.claimSeconds * 1000, timeoutMs + LEASE_MARGIN_MS),
      });
    }
    this.failure = throttledEvent((n) => options.log.warn({ failures: n, err: this.lastError }, 'notifications: the outbox is unavailable; delivery resumes when the history answers'), 60_000);
  }

  start(store: HistoryStore): void {
    if (this.closed) return;
    this.outbox = new OutboxStore(() => store, this.options.now);
    this.wake();
    const prune = () => void this.prune();
    prune();
    this.pruneTimer = setInterval(prune, PRUNE_INTERVAL_MS);
    this.pruneTimer.unref();
  }

  /** Runs a pass now (a message was enqueued or re-driven on this instance, or a send finished). */
  wake(): void {
    this.schedule(0);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.timer = null;
    this.pruneTimer = null;
    // Sends in flight are cut short and their rows released, so the next sender starts at once, not after the lease.
    this.stopping.abort(new Error('the gateway is shutting down'));
    for (const attempt of this.attempts) attempt.abort(this.stopping.signal.reason);
    await this.running;
    await Promise.allSettled([...this.inFlight]);
    await this.recording;
    await this.recordOutcomes();
  }

  private schedule(delayMs: number): void {
    if (this.closed || !this.outbox) return;
    const at = Date.now() + Math.max(0, delayMs);
    if (this.timer && at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.runPass();
    }, Math.max(0, delayMs));
    this.timer.unref();
  }

  private runPass(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.runPass();
      }
    });
  }

  private async pass(): Promise<void> {
    const outbox = this.outbox;
    if (!outbox) return;
    let next = this.pollMs;
    let sent = 0;
    try {
      void this.recordOutcomes();
      for (const [name, lane] of this.lanes) {
        if (this.closed) return;
        const free = lane.limiter.available();
        if (free === 0) {
          // Full: a finishing send wakes the worker; rate-limited: wake when a token is back.
          const wait = lane.limiter.msUntilToken();
          if (wait > 0) next = Math.min(next, wait);
          continue;
        }
        const claimed = await outbox.claim(name, free, this.sender, new Date(this.options.now().getTime() + lane.leaseMs));
        for (const record of claimed) this.track(this.deliver(outbox, lane, record));
        sent += claimed.length;
      }
      // Sends under way wake the worker when they finish; an idle worker sleeps until the next retry falls due.
      const due = sent === 0 ? await outbox.nextDue([...this.lanes.keys()]) : null;
      if (due) next = Math.min(next, Math.max(0, due.getTime() - this.options.now().getTime()));
    } catch (error) {
      this.lastError = message(error);
      this.failure();
    }
    // Rows due now whose sink is full: the finishing sends wake the worker; the poll is the fallback.
    this.schedule(next > 0 ? next : this.pollMs);
  }

  private track(send: Promise<void>): void {
    this.inFlight.add(send);
    void send.finally(() => this.inFlight.delete(send));
  }

  private async deliver(outbox: OutboxStore, lane: SinkLane, record: DeliveryRecord): Promise<void> {
    const { sink, limiter, timeoutMs } = lane;
    limiter.acquire();
    const attempt = new AbortController();
    const timeout = setTimeout(() => attempt.abort(new Error(`${sink.describe()} did not answer within ${timeoutMs / 1000}s`)), timeoutMs);
    this.attempts.add(attempt);
    let outcome: SendOutcome;
    try {
      outcome = await raceAbort(sink.send({ notification: record.notification, deliveryId: record.id, attempt: record.attempts }, attempt.signal), attempt.signal);
    } catch (error) {
      // A sink must not throw; one that does (or ignores the signal) is treated as a failed attempt.
      outcome = { ok: false, kind: 'retry', status: null, error: attempt.signal.aborted ? message(attempt.signal.reason) : `${sink.describe()}: ${message(error)}` };
    } finally {
      clearTimeout(timeout);
      this.attempts.delete(attempt);
    }
    this.unrecorded.push({ id: record.id, completion: this.completionOf(lane, record, outcome), at: this.options.now() });
    limiter.release();
    // The row stays claimed (ours) until its outcome is written: no other pass or instance takes it meanwhile.
    await this.recordOutcomes();
    this.wake();
  }

  private completionOf(lane: SinkLane, record: DeliveryRecord, outcome: SendOutcome): Completion {
    const { log, now } = this.options;
    const fields = { deliveryId: record.id, sink: lane.sink.name, attempt: record.attempts, trigger: record.notification.trigger };
    if (!outcome.ok && this.stopping.signal.aborted) return { kind: 'release' };
    const verdict = verdictOf(outcome, record.attempts, this.policy, this.random);
    switch (verdict.kind) {
      case 'delivered': {
        const latencyMs = now().getTime() - Date.parse(record.notification.detectedAt);
        this.observer.delivered(lane.sink.name, latencyMs);
        log.debug({ ...fields, status: verdict.status, latencyMs }, 'notification delivered');
        return { kind: 'delivered', status: verdict.status };
      }
      case 'retry':
        this.observer.retried(lane.sink.name);
        log.info({ ...fields, status: verdict.status, err: verdict.error, retryInMs: Math.round(verdict.delayMs) }, 'notification not delivered; retrying');
        return { kind: 'retry', status: verdict.status, error: verdict.error, nextAttemptAt: new Date(now().getTime() + verdict.delayMs) };
      case 'dead':
        this.observer.dead(lane.sink.name);
        log.warn({ ...fields, status: verdict.status, err: verdict.error }, 'notification dead: not retried until re-driven (redriveNotifications)');
        return { kind: 'dead', status: verdict.status, error: verdict.error };
    }
  }

  /** Writes the outcomes waiting, one batch at a time; resolves when none waits or the history failed. */
  private recordOutcomes(): Promise<void> {
    const outbox = this.outbox;
    if (this.recording || !outbox) return this.recording ?? Promise.resolve();
    this.recording = (async () => {
      while (this.unrecorded.length > 0) {
        const batch = this.unrecorded.splice(0);
        try {
          const held = await outbox.completeMany(this.sender, batch);
          if (held < batch.length) this.options.log.debug({ lost: batch.length - held }, 'notifications: claims lost before their outcome was recorded (lease ran out or re-driven)');
        } catch (error) {
          this.unrecorded.unshift(...batch);
          this.lastError = message(error);
          this.failure();
          return;
        }
      }
    })().finally(() => {
      this.recording = null;
    });
    return this.recording;
  }

  private async prune(): Promise<void> {
    if (!this.outbox || this.closed) return;
    const cutoff = new Date(this.options.now().getTime() - this.options.config.delivery.keepDays * DAY_MS);
    try {
      const deleted = await this.outbox.prune(cutoff);
      if (deleted) this.options.log.info({ deleted, cutoff: cutoff.toISOString() }, 'notifications: delivered and dead messages pruned');
    } catch (error) {
      this.lastError = message(error);
      this.failure();
    }
  }
}
