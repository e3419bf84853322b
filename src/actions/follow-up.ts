import type { Logger } from 'pino';
import type { BackendEntry } from '../backend-registry.ts';
import type { Ingestor } from '../ingest/ingestor.ts';
import { isTerminal, type EntityModel, type JobModel, type PipelineModel } from '../model.ts';
import type { LiveState } from '../state/live-state.ts';

/** What an action changed, to re-read until the change shows. */
export interface FollowTarget {
  readonly backend: BackendEntry;
  /** The pipeline to re-read; null for a trigger whose upstream did not name the new one. */
  readonly pipelineNativeId: string | null;
  /** The pipeline as known before the action (null when new or unknown). */
  readonly before: PipelineModel | null;
  /** The job acted on and how it was before (cancelJob, retryJob, approve of a job). */
  readonly job?: { readonly nativeId: string; readonly before: JobModel | null } | undefined;
  /** A trigger without a pipeline id: a pipeline of this project on this ref created after `after`. */
  readonly trigger?: { readonly projectNativeId: string; readonly ref: string; readonly after: Date } | undefined;
  /**
   * Follow until the target finishes, not only until it changes: a cancel or a reject whose first
   * visible change is a step on the way (Jenkins: still RUNNING while an aborted build winds down).
   */
  readonly untilFinished?: boolean;
}

export interface FollowUpOptions {
  /** Delays between re-reads (ms); bounded, ~60 s in all by default. */
  readonly scheduleMs?: readonly number[];
  /** Follow-ups running at once; more are not started (a webhook or the poller still brings the change). */
  readonly maxInFlight?: number;
  /** Deadline of one re-read. */
  readonly readTimeoutMs?: number;
}

export const DEFAULT_SCHEDULE_MS: readonly number[] = [500, 1000, 2000, 3000, 5000, 5000, 8000, 10_000, 12_000, 15_000];

function differs(before: { status: string; attempt: number; updatedAt?: string | null } | null, after: { status: string; attempt: number; updatedAt?: string | null } | null): boolean {
  if (!after) return false;
  if (!before) return true;
  return before.status !== after.status || before.attempt !== after.attempt || (before.updatedAt ?? null) !== (after.updatedAt ?? null);
}

/**
 * Feedback through the live path: after an action, the affected pipeline (and its jobs) is
 * re-read on a short backoff schedule through the adapter's batch functions under the backend's
 * policy, and what changed is ingested, so `pipelineUpdated` / `jobUpdated` subscribers see it
 * whether or not a webhook comes (a GitHub re-run sends none). It stops once the change shows.
 */
export class FollowUps {
  private readonly running = new Set<AbortController>();
  private readonly scheduleMs: readonly number[];
  private readonly maxInFlight: number;
  private readonly readTimeoutMs: number;
  private stopped = false;

  constructor(
    private readonly state: LiveState,
    private readonly ingestor: Ingestor,
    private readonly log: Logger,
    options: FollowUpOptions = {},
  ) {
    this.scheduleMs = options.scheduleMs ?? DEFAULT_SCHEDULE_MS;
    this.maxInFlight = options.maxInFlight ?? 100;
    this.readTimeoutMs = options.readTimeoutMs ?? 8000;
  }

  get inFlight(): number {
    return this.running.size;
  }

  /**
   * One re-read now, ingested: the pipeline (found for a trigger) as the gateway sees it after,
   * and whether the change shows.
   */
  async readNow(target: FollowTarget, signal?: AbortSignal): Promise<{ pipeline: PipelineModel | null; changed: boolean; done: boolean }> {
    const { backend } = target;
    const { adapter, policy } = backend;
    const options = { deadlineMs: this.readTimeoutMs, what: 'following an action', ...(signal ? { signal } : {}) };
    let pipelineId = target.pipelineNativeId;
    const seen: EntityModel[] = [];
    if (pipelineId === null && target.trigger) {
      const { projectNativeId, ref, after } = target.trigger;
      const found = await policy.execute((s) => adapter.listPipelines({ projectNativeIds: [projectNativeId], branch: ref, createdAfter: after, limit: 5 }, s), options);
      const newest = found.filter((p) => adapter.owns(p) && Date.parse(p.createdAt) >= after.getTime())[0];
      if (!newest) return { pipeline: null, changed: false, done: false };
      pipelineId = newest.nativeId;
    }
    if (pipelineId === null) return { pipeline: null, changed: false, done: false };
    const id = pipelineId;
    const [pipelines, jobLists] = await Promise.all([
      policy.executeBatch((s) => adapter.batch.pipelines([id], s), options),
      policy.executeBatch((s) => adapter.batch.jobsOfPipelines([id], s), options),
    ]);
    const pipeline = pipelines[0];
    if (pipeline instanceof Error) throw pipeline;
    if (pipeline && adapter.owns(pipeline)) seen.push(pipeline);
    const jobs = jobLists[0];
    if (Array.isArray(jobs)) {
      const owned = (jobs as readonly JobModel[]).filter((j) => adapter.owns(j));
      seen.push(...owned);
    }
    // New pipelines are news here (a trigger, a Jenkins rebuild): published as polls would.
    this.ingestor.ingest(seen, { source: 'POLL', publishNew: true });
    if (Array.isArray(jobs)) this.state.setPipelineJobs(backend.name, id, (jobs as readonly JobModel[]).filter((j) => adapter.owns(j)), Date.now());
    const now = (this.state.get('Pipeline', backend.name, id) as PipelineModel | undefined) ?? (pipeline && !(pipeline instanceof Error) ? pipeline : null);
    const job = target.job ? ((this.state.get('Job', backend.name, target.job.nativeId) as JobModel | undefined) ?? null) : null;
    // Without a pipeline as it was, its appearance is the change only when no job says more (a new pipeline).
    const pipelineChanged = target.before ? differs(target.before, now) : target.job === undefined && now !== null;
    const changed = pipelineChanged || (target.job !== undefined && differs(target.job.before, job));
    const finished = target.job !== undefined ? job !== null && isTerminal(job.status) : now !== null && isTerminal(now.status);
    return { pipeline: now, changed, done: target.untilFinished ? changed && finished : changed };
  }

  /** Follows `target` in the background until the change shows (or it finishes, `untilFinished`), the schedule ends, or stop(). */
  start(target: FollowTarget): boolean {
    if (target.pipelineNativeId === null && !target.trigger) return false;
    if (this.stopped || this.running.size >= this.maxInFlight) {
      this.log.debug({ backend: target.backend.name, inFlight: this.running.size }, 'action follow-up not started (bound reached)');
      return false;
    }
    const controller = new AbortController();
    this.running.add(controller);
    void this.follow(target, controller.signal).finally(() => this.running.delete(controller));
    return true;
  }

  private async follow(target: FollowTarget, signal: AbortSignal): Promise<void> {
    let current = target;
    for (const delay of this.scheduleMs) {
      if (!(await sleep(delay, signal))) return;
      try {
        const { pipeline, done } = await this.readNow(current, signal);
        if (done) return;
        // A trigger's pipeline, once found, is followed by id.
        if (pipeline && current.pipelineNativeId === null) current = { ...current, pipelineNativeId: pipeline.nativeId, before: null, trigger: undefined };
      } catch (error) {
        if (signal.aborted) return;
        this.log.debug({ backend: target.backend.name, err: error instanceof Error ? error.message : String(error) }, 'action follow-up read failed');
      }
    }
  }

  /** Ends every follow-up (shutdown): their timers and reads are aborted. */
  stop(): void {
    this.stopped = true;
    for (const c of this.running) c.abort();
    this.running.clear();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    timer.unref?.();
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
