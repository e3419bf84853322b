import type { Logger } from 'pino';
import type { BackendRegistry } from '../backend-registry.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { ChangeEvent, EventSource } from '../events/event-types.ts';
import type { EntityModel, JobModel } from '../model.ts';
import type { LiveState } from '../state/live-state.ts';
import type { PublishConfirmations } from './publish-confirmations.ts';
import { RunnerJobs } from './runner-jobs.ts';
import { keepKnownCurrentJob, overlayRunnerFromJob, type RunnerOverlayContext } from './runner-overlay.ts';

export interface IngestOptions {
  readonly source: EventSource;
  /**
   * Publish entities seen for the first time. True for webhooks and polls (a
   * new run is news); false for query results (a first read is not an update).
   */
  readonly publishNew: boolean;
}

/**
 * The one path by which state enters the gateway: apply to the live state,
 * publish real changes on the bus, and derive runner busy/idle from jobs.
 */
/** How long a runner id the backend does not list (e.g. GitHub-hosted) is not looked up again. */
const UNKNOWN_RUNNER_TTL_MS = 10 * 60_000;
const MAX_UNKNOWN_RUNNERS = 10_000;

export class Ingestor {
  private sequence = 0;
  private readonly unknownRunners = new Map<string, number>();
  /** The jobs running on each runner, so one ending does not free a runner another still runs on. */
  private readonly runnerJobs = new RunnerJobs();
  /** While `ingestStored` runs: the store confirmations of what it published. */
  private collected: Promise<void>[] | null = null;

  constructor(
    private readonly state: LiveState,
    private readonly bus: EventBus,
    private readonly registry: BackendRegistry,
    private readonly log: Logger,
    private readonly now: () => Date,
    /** The store's append reports; without them, publishing counts as done at once. */
    private readonly confirmations?: PublishConfirmations,
    /** Told of every change published (the history's write-behind); must not block. */
    private readonly onPublished?: (event: ChangeEvent) => void,
  ) {}

  ingest(entities: readonly EntityModel[], options: IngestOptions): number {
    let published = 0;
    // Runner listings first: a batch is one observation, and job events in it may
    // refine a runner (busy with which job) but must not hide that it went offline.
    for (const entity of entities) if (entity.type === 'Runner') published += this.ingestOne(entity, options);
    for (const entity of entities) if (entity.type !== 'Runner') published += this.ingestOne(entity, options);
    return published;
  }

  /**
   * `ingest`, then wait until every event it published is stored. If one could
   * not be, its entity's live state is reverted (so a retry of the same
   * observation publishes it) and this rejects: the caller must not acknowledge.
   */
  async ingestStored(entities: readonly EntityModel[], options: IngestOptions): Promise<number> {
    const outer = this.collected;
    const stored: Promise<void>[] = [];
    this.collected = stored;
    let published: number;
    try {
      published = this.ingest(entities, options);
    } finally {
      this.collected = outer;
    }
    const outcomes = await Promise.allSettled(stored);
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    return published;
  }

  private ingestOne(observed: EntityModel, options: IngestOptions): number {
    const at = this.now();
    const entity =
      observed.type === 'Runner'
        ? keepKnownCurrentJob(
            observed,
            this.state.get('Runner', observed.backend, observed.nativeId),
            (jobId) => this.state.get('Job', observed.backend, jobId)?.status === 'RUNNING',
            this.runnerJobs.running(observed.backend, observed.nativeId, this.isRunningOn(observed.backend, observed.nativeId)),
          )
        : observed.type === 'Job' ? keepKnownAttempt(observed, this.state.get('Job', observed.backend, observed.nativeId)) : observed;
    const result = this.state.apply(entity, at.getTime());
    if (result.kind === 'stale' || result.kind === 'unchanged') return 0;
    if (entity.type === 'Job') this.runnerJobs.observe(entity);
    if (result.kind === 'created' && !options.publishNew) return 0;
    const previous = result.kind === 'changed' ? result.previous : null;
    this.publish(entity, previous, options.source, at);
    let count = 1;
    if (entity.type === 'Job') count += this.overlayRunner(entity, options);
    return count;
  }

  private publish(entity: EntityModel, previous: EntityModel | null, source: EventSource, at: Date): void {
    const base = { sequence: ++this.sequence, source, receivedAt: at.toISOString() };
    let event: ChangeEvent | null = null;
    switch (entity.type) {
      case 'Job':
        event = { ...base, type: 'Job', job: entity, previousStatus: previous?.type === 'Job' ? previous.status : null };
        break;
      case 'Pipeline':
        event = { ...base, type: 'Pipeline', pipeline: entity, previousStatus: previous?.type === 'Pipeline' ? previous.status : null };
        break;
      case 'Runner':
        event = { ...base, type: 'Runner', runner: entity, previousState: previous?.type === 'Runner' ? previous.state : null };
        break;
      case 'Project':
        return;
    }
    const stored = this.confirmations?.expect(event);
    this.bus.publish(event);
    this.onPublished?.(event);
    if (!stored) return;
    const reverted = stored.catch((error: unknown) => {
      this.state.revert(entity, previous);
      throw error;
    });
    if (this.collected) this.collected.push(reverted);
    else reverted.catch((error: unknown) => this.log.warn({ err: error instanceof Error ? error.message : String(error), type: entity.type }, 'change not published; its state was reverted'));
  }

  private overlayRunner(job: JobModel, options: IngestOptions): number {
    if (!job.runnerNativeId) return 0;
    const adapter = this.registry.get(job.backend)?.adapter;
    if (adapter?.capabilities.runnerStateFromJobs === false) return 0;
    // A runner only its job describes (GitHub-hosted) has no state of its own to derive or fetch.
    if (adapter?.runnerFromJob?.(job)) return 0;
    const runner = this.state.get('Runner', job.backend, job.runnerNativeId);
    if (!runner) {
      // Unknown runner (not listed yet, or by no configured source): learn it, then overlay.
      void this.fetchRunnerThenOverlay(job, options);
      return 0;
    }
    const updated = overlayRunnerFromJob(runner, job, this.now().getTime(), this.overlayContext(job));
    if (!updated) return 0;
    return this.ingestOne(updated, { ...options, source: 'DERIVED' });
  }

  /** What a job event needs to know about its runner beyond the runner itself. */
  private overlayContext(job: JobModel): RunnerOverlayContext {
    const runnerId = job.runnerNativeId;
    if (!runnerId) return {};
    return {
      othersRunning: this.runnerJobs.running(job.backend, runnerId, this.isRunningOn(job.backend, runnerId), job.nativeId),
      severalJobs: this.registry.get(job.backend)?.adapter.capabilities.runnersRunSeveralJobs === true,
    };
  }

  private isRunningOn(backend: string, runnerNativeId: string): (jobNativeId: string) => boolean {
    return (jobNativeId) => {
      const job = this.state.get('Job', backend, jobNativeId);
      return job?.status === 'RUNNING' && job.runnerNativeId === runnerNativeId;
    };
  }

  private async fetchRunnerThenOverlay(job: JobModel, options: IngestOptions): Promise<void> {
    const backend = this.registry.get(job.backend);
    if (!backend || !job.runnerNativeId) return;
    const key = `${job.backend}\u0000${job.runnerNativeId}`;
    const missedAt = this.unknownRunners.get(key);
    if (missedAt !== undefined && this.now().getTime() - missedAt < UNKNOWN_RUNNER_TTL_MS) return;
    try {
      // Through the backend's policy like every upstream read: nothing goes out during a rate-limit wait or while the circuit is open.
      const runnerId = job.runnerNativeId;
      const [runner] = await backend.policy.executeBatch((signal) => backend.adapter.batch.runners([runnerId], signal), { what: `loading runner ${runnerId}` });
      if (!runner || runner instanceof Error) {
        if (runner === null) this.rememberUnknownRunner(key);
        return;
      }
      this.state.apply(runner, this.now().getTime());
      const current = this.state.get('Job', job.backend, job.nativeId) ?? job;
      const updated = overlayRunnerFromJob(runner, current, this.now().getTime(), this.overlayContext(current));
      if (updated) this.ingestOne(updated, { ...options, source: 'DERIVED' });
    } catch (error) {
      this.log.debug({ err: error, runner: job.runnerNativeId }, 'could not load runner named by a job event');
    }
  }

  private rememberUnknownRunner(key: string): void {
    this.unknownRunners.delete(key);
    this.unknownRunners.set(key, this.now().getTime());
    if (this.unknownRunners.size > MAX_UNKNOWN_RUNNERS) {
      const oldest = this.unknownRunners.keys().next();
      if (!oldest.done) this.unknownRunners.delete(oldest.value);
    }
  }
}

/**
 * A job id is one attempt (a retry is a new id or a new run attempt): an observation that cannot
 * see it (a GitLab REST job or Pipeline Hook build says 1) keeps the attempt already known.
 */
export function keepKnownAttempt(job: JobModel, known: JobModel | undefined): JobModel {
  return known && known.attempt > job.attempt ? { ...job, attempt: known.attempt } : job;
}
