/**
 * The simulated GitLab CI world: one group, its projects, pipelines with
 * stages, jobs (builds and bridges), child pipelines and runners, plus the
 * transitions that move them. Pure state; it knows nothing about HTTP.
 *
 * Status semantics follow GitLab (gitlabhq app/models/concerns/ci/has_status.rb,
 * lib/gitlab/ci/status/composite.rb, app/services/ci/pipeline_processing/):
 * jobs start `created`; a stage is enqueued once every earlier stage is done;
 * `when: manual` jobs wait in `manual`, `when: delayed` ones in `scheduled`;
 * resource-group jobs pass through `waiting_for_resource`; a pipeline's status
 * is the composite of its latest jobs, where allowed-to-fail failures count
 * as "success with warnings" and non-blocking manual jobs are ignored.
 *
 * Every mutating method returns the webhook events the transition causes, in
 * order (job hooks before the pipeline hook they lead to).
 *
 * Split by concern: world-entities.ts (types), world-seed.ts (seed data),
 * world-state.ts (state and queries), world-lifecycle.ts (what GitLab does on
 * its own, pipeline creation included); this file holds what users do (play,
 * retry, cancel, runner status) and the housekeeping (history, pruning).
 */
import { COMPLETED, type JobOutcome, type PipelineSpec, type SimDeployment, type SimJob, type SimVariable, type SimPipeline, type SimRunner, type WorldEvent } from './world-entities.ts';
import { WorldLifecycle } from './world-lifecycle.ts';

export type { WorldOptions } from './world-state.ts';

export class World extends WorldLifecycle {
  /** Ids for a past pipeline from the live id spaces (the past is seeded first, so it sorts before live pipelines). */
  allocatePipeline(projectId: number): { pipelineId: number; iid: number } {
    const iid = (this.iids.get(projectId) ?? 0) + 1;
    this.iids.set(projectId, iid);
    return { pipelineId: (this.nextPipelineId += this.random.int(1, 900)), iid };
  }

  allocateJobId(): number {
    return (this.nextJobId += this.random.int(1, 60));
  }

  /** Whether GitLab's `playable?` holds: a manual or delayed build not blocked by a deployment approval. */
  playable(job: SimJob): boolean {
    if (job.kind !== 'build' || job.retried) return false;
    if (job.status === 'scheduled') return true;
    return job.status === 'manual' && this.deploymentOf(job)?.status !== 'blocked';
  }

  /** Plays a manual (or delayed) job (POST /jobs/:id/play), with its job variables. */
  playJob(job: SimJob, variables: readonly SimVariable[] = []): WorldEvent[] {
    if (!this.playable(job)) throw new Error(`job ${job.id} is not playable (${job.status})`);
    if (variables.length > 0) job.jobVariables = [...variables];
    const events: WorldEvent[] = [];
    this.enqueue(job, events, true);
    this.processPipeline(this.pipelineOf(job), events);
    return events;
  }

  /**
   * Retries a finished job (POST /jobs/:id/retry): the old job is marked
   * retried, a clone with a new id is created and enqueued, and jobs of later
   * stages that were skipped are reset to `created` (Ci::ResetSkippedJobsService).
   */
  retryJob(job: SimJob, outcome: JobOutcome = 'success'): { job: SimJob; events: WorldEvent[] } {
    if (!COMPLETED.has(job.status) || job.retried || (job.kind === 'bridge' && job.downstream === null)) throw new Error(`job ${job.id} cannot be retried (${job.status})`);
    const p = this.pipelineOf(job);
    const events: WorldEvent[] = [];
    job.retried = true;
    const clone = this.newJob(
      p,
      {
        name: job.name, stage: job.stage, tags: [...job.tags], outcome, when: 'on_success', allowFailure: job.allowFailure,
        failureReason: job.failureReason, resourceGroup: job.resourceGroup ?? false, preparing: job.preparing,
        callback: job.callback, ...(job.environment ? { environment: job.environment } : {}),
        ...(job.approval ? { approval: true } : {}),
      },
      this.nowIso(),
      job.retriesCount + 1,
      // A retried trigger job is a new bridge that creates a new downstream pipeline.
      job.kind === 'bridge' ? job.downstream : null,
    );
    events.push({ kind: 'job', jobId: clone.id });
    this.enqueue(clone, events, true);
    for (const j of this.latestJobsOf(p.id)) {
      if (j.stageIndex > job.stageIndex && j.status === 'skipped' && j.outcome !== 'skipped') this.setJob(j, 'created', events);
    }
    this.processPipeline(p, events);
    return { job: clone, events };
  }

  /**
   * Retries a pipeline (POST /pipelines/:id/retry, Ci::RetryPipelineService): every latest
   * failed or canceled job (builds and trigger jobs) gets a new job, skipped ones are reset; nothing to retry changes nothing.
   */
  retryPipeline(p: SimPipeline): { jobIds: number[]; events: WorldEvent[] } {
    const events: WorldEvent[] = [];
    const jobIds: number[] = [];
    for (const j of this.latestJobsOf(p.id)) {
      if (j.status !== 'failed' && j.status !== 'canceled') continue;
      const { job, events: more } = this.retryJob(j);
      jobIds.push(job.id);
      events.push(...more);
    }
    return { jobIds, events };
  }

  /** Answers a blocked deployment (POST /deployments/:id/approval): approval enqueues the job, rejection fails it. */
  answerDeployment(d: SimDeployment, status: 'approved' | 'rejected', comment: string | null): WorldEvent[] {
    const job = this.jobs.get(d.jobId);
    const ts = this.nowIso();
    d.approvals.push({ status, comment, createdAt: ts });
    d.updatedAt = ts;
    const events: WorldEvent[] = [];
    if (!job) return events;
    if (status === 'rejected') {
      d.status = 'failed';
      (job as { failureReason: string }).failureReason = 'deployment_rejected';
      this.setJob(job, 'failed', events);
    } else {
      d.status = 'created';
      this.enqueue(job, events, true);
    }
    this.processPipeline(this.pipelineOf(job), events);
    return events;
  }

  /** Cancels a job: a running one goes `canceling` (graceful), anything not finished goes `canceled`. */
  cancelJob(job: SimJob): WorldEvent[] {
    const events: WorldEvent[] = [];
    this.cancelOne(job, events);
    this.processPipeline(this.pipelineOf(job), events);
    return events;
  }

  /** Force-cancel (POST /jobs/:id/cancel?force=true): a job in `canceling` goes `canceled` without waiting for the runner. */
  forceCancelJob(job: SimJob): WorldEvent[] {
    const events: WorldEvent[] = [];
    if (job.status !== 'canceling') return events;
    this.setJob(job, 'canceled', events);
    this.processPipeline(this.pipelineOf(job), events);
    return events;
  }

  private cancelOne(job: SimJob, events: WorldEvent[]): void {
    if (COMPLETED.has(job.status) || job.status === 'canceling') return;
    if (job.status === 'running' && job.kind === 'build') return this.setJob(job, 'canceling', events);
    if (job.kind === 'bridge' && job.downstreamPipelineId !== null) {
      const child = this.pipelines.get(job.downstreamPipelineId);
      if (child) for (const cj of this.latestJobsOf(child.id)) this.cancelOne(cj, events);
      if (child) this.refreshPipeline(child, events);
      if (COMPLETED.has(job.status)) return;
    }
    this.setJob(job, 'canceled', events);
  }

  /** Cancels every unfinished job of a pipeline (POST /pipelines/:id/cancel). */
  cancelPipeline(p: SimPipeline): WorldEvent[] {
    const events: WorldEvent[] = [];
    for (const j of this.latestJobsOf(p.id)) this.cancelOne(j, events);
    p.processed = true;
    this.refreshPipeline(p, events);
    return events;
  }

  setRunnerStatus(runner: SimRunner, s: { online?: boolean; paused?: boolean }): void {
    if (s.online !== undefined && s.online !== runner.online) {
      if (!s.online && runner.jobIds.size > 0) throw new Error(`runner ${runner.description} is busy`);
      runner.online = s.online;
      if (s.online) {
        runner.neverContacted = false;
        runner.stale = false;
      } else {
        runner.contactedAt = this.nowIso();
      }
    }
    if (s.paused !== undefined) runner.paused = s.paused;
    this.changed();
  }

  /** Drops the oldest finished top-level pipelines beyond `keep` per project (with their children). */
  prune(keep: number): void {
    for (const project of this.projects) {
      const done = this.pipelinesOf(project.id).filter((p) => p.parent === null && COMPLETED.has(p.status));
      for (const p of done.slice(keep)) this.dropPipeline(p);
    }
  }

  private dropPipeline(p: SimPipeline): void {
    for (const j of this.jobsOf(p.id)) {
      if (j.downstreamPipelineId !== null) {
        const child = this.pipelines.get(j.downstreamPipelineId);
        if (child) this.dropPipeline(child);
      }
      this.jobs.delete(j.id);
    }
    this.pipelines.delete(p.id);
    this.changed();
  }

  /** Pipelines at `root` and below (child pipelines). */
  private family(root: SimPipeline): Set<number> {
    const ids = new Set<number>([root.id]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const p of this.pipelines.values()) {
        if (p.parent && ids.has(p.parent.pipelineId) && !ids.has(p.id)) {
          ids.add(p.id);
          grew = true;
        }
      }
    }
    return ids;
  }

  /** Pre-creates finished pipelines in the past, using the live transitions on a shifted clock. */
  seedHistory(perProject: number, makeSpec: (project: string) => PipelineSpec): void {
    if (perProject <= 0) return;
    const realNow = this.now;
    const base = realNow().getTime();
    let clock = base;
    this.now = () => new Date(clock);
    try {
      for (let i = perProject; i >= 1; i--) {
        for (const project of this.projects) {
          clock = base - i * 15 * 60_000 - this.random.int(0, 120) * 1000;
          const { pipeline } = this.createPipeline(makeSpec(project.path), new Date(clock));
          let guard = 0;
          while (!COMPLETED.has(pipeline.status) || !pipeline.processed) {
            if (guard++ > 500) break;
            clock = Math.min(base, clock + this.random.int(2, 40) * 1000);
            const fam = this.family(pipeline);
            const t = this.transitions().find((x) => fam.has(x.type === 'process' ? x.pipeline.id : x.job.pipelineId));
            if (t) {
              this.apply(t);
              continue;
            }
            // Blocked (a manual job, or a job no runner can take): leave it as GitLab would show it.
            break;
          }
          // Jobs nobody could run stay pending forever on GitLab until the stuck timeout fails them.
          for (const j of this.latestJobsOf(pipeline.id)) {
            if (j.status === 'pending') {
              const events: WorldEvent[] = [];
              j.runnerId = null;
              (j as { failureReason: string }).failureReason = 'stuck_or_timeout_failure';
              this.setJob(j, 'failed', events);
              this.processPipeline(pipeline, events);
            }
          }
        }
      }
    } finally {
      this.now = realNow;
    }
  }
}
