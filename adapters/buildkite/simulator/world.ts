/**
 * The simulated Buildkite organization: pipelines, builds, jobs and agents,
 * plus the transitions that move them. Pure state; it knows nothing about
 * HTTP. Transitions return the webhook events they cause.
 *
 * Split by concern: world-entities.ts (types and Buildkite's rules),
 * world-seed.ts (seed data), world-state.ts (state and queries),
 * world-lifecycle.ts (what Buildkite does on its own); this file holds what
 * users do (create, cancel, rebuild, retry, unblock, agents coming and going)
 * and the housekeeping (history, pruning).
 */
import {
  CANCELABLE_BUILD, FINISHED_BUILD, ON_AGENT, TERMINAL_JOB,
  type JobOutcome, type SimBuild, type SimCreator, type SimJob, type SimPipeline, type WorldEvent,
} from './world-entities.ts';
import { currentJobs, WorldLifecycle } from './world-lifecycle.ts';
import { graphqlId } from './world-state.ts';
import { ACTORS, FEATURE_BRANCHES, MESSAGES } from './world-seed.ts';

export type { WorldOptions } from './world-state.ts';

/** An action Buildkite refuses: the HTTP status and `message` it answers. */
export class SimRefusal extends Error {
  constructor(readonly status: number, message: string, readonly errors?: unknown[]) {
    super(message);
  }
}

export interface BuildSpec {
  readonly branch?: string;
  readonly commit?: string;
  readonly message?: string;
  readonly env?: Record<string, string>;
  readonly metaData?: Record<string, string>;
  readonly source?: SimBuild['source'];
  readonly creator?: SimCreator | null;
  /** Outcome per step key (every job of that step), overriding the pipeline's defaults. */
  readonly outcomes?: Record<string, JobOutcome>;
  readonly rebuiltFrom?: SimBuild;
  readonly pullRequest?: SimBuild['pullRequest'];
}

export class World extends WorldLifecycle {
  // ---- builds -----------------------------------------------------------------------------

  /** A new build, `scheduled`, with a pending job per step (N per parallel step); skips older queued builds of its branch when the pipeline says so. */
  createBuild(pipeline: SimPipeline, spec: BuildSpec = {}): { build: SimBuild; events: WorldEvent[] } {
    const now = this.time();
    const id = this.uuid();
    const build: SimBuild = {
      id, graphqlId: graphqlId('Build', id), pipeline, number: pipeline.nextNumber++,
      state: 'scheduled', blocked: false,
      branch: spec.branch ?? pipeline.defaultBranch,
      commit: spec.commit ?? this.random.hex(40),
      message: spec.message ?? this.random.pick(MESSAGES),
      env: { ...(spec.env ?? {}) }, metaData: { ...(spec.metaData ?? {}) },
      source: spec.source ?? 'api',
      creator: spec.creator === undefined ? this.random.pick(ACTORS) : spec.creator,
      createdAt: now, scheduledAt: now, startedAt: null, failingAt: null, finishedAt: null, cancelReason: null,
      rebuiltFrom: spec.rebuiltFrom ? { id: spec.rebuiltFrom.id, number: spec.rebuiltFrom.number } : null,
      pullRequest: spec.pullRequest ?? null,
      jobs: [],
    };
    pipeline.steps.forEach((step, i) => {
      const outcome = (step.key !== undefined ? spec.outcomes?.[step.key] : undefined)
        ?? (step.type === 'command' ? step.outcome ?? 'passed' : 'passed');
      const total = step.type === 'command' ? step.parallelism ?? 0 : 0;
      if (total > 1) for (let k = 0; k < total; k++) build.jobs.push(this.newJob(build, step, i, { index: k, total }, outcome));
      else build.jobs.push(this.newJob(build, step, i, null, outcome));
    });
    const events: WorldEvent[] = [];
    if (pipeline.skipQueuedBranchBuilds) {
      for (const older of this.builds.get(pipeline.slug) ?? []) {
        if (older.branch === build.branch && older.state === 'scheduled' && older.startedAt === null) events.push(...this.skip(older));
      }
    }
    this.builds.get(pipeline.slug)!.push(build);
    this.version++;
    events.push({ event: 'build.scheduled', build });
    return { build, events };
  }

  protected override createTriggered(parent: SimBuild, slug: string): { build: SimBuild; events: WorldEvent[] } {
    return this.createBuild(this.findPipeline(slug), {
      branch: parent.branch, commit: parent.commit, message: parent.message, source: 'trigger_job', creator: parent.creator,
    });
  }

  /** skip_queued_branch_builds: a newer build supersedes a queued one. */
  private skip(build: SimBuild): WorldEvent[] {
    const now = this.time();
    build.state = 'skipped';
    build.finishedAt = now;
    for (const j of build.jobs) {
      if (!TERMINAL_JOB.has(j.state)) {
        j.state = 'skipped';
        j.finishedAt = now;
      }
    }
    this.version++;
    return [{ event: 'build.skipped', build }];
  }

  /** PUT …/cancel: only scheduled, running or failing builds; running jobs go `canceling` first. */
  cancel(build: SimBuild, by: SimCreator | null): WorldEvent[] {
    if (!CANCELABLE_BUILD.has(build.state)) {
      throw new SimRefusal(422, `Build can't be canceled because it's ${build.state === 'canceling' ? 'already being canceled' : 'already finished'}`);
    }
    const now = this.time();
    const events: WorldEvent[] = [];
    build.cancelReason = by ? `canceled by ${by.name}` : null;
    for (const j of currentJobs(build)) {
      if (j.state === 'running' || j.state === 'timing_out') {
        j.state = 'canceling';
      } else if (!TERMINAL_JOB.has(j.state) || j.state === 'blocked') {
        const agent = j.agentId ? this.agent(j.agentId) : undefined;
        if (agent && agent.jobId === j.id) agent.jobId = null;
        j.state = j.state === 'blocked' ? 'blocked_failed' : 'canceled';
        j.finishedAt = now;
        if (j.type === 'script' && j.runnableAt !== null) events.push({ event: 'job.finished', build, job: j });
      }
    }
    this.version++;
    if (currentJobs(build).some((j) => ON_AGENT.has(j.state))) {
      build.state = 'canceling';
      return events;
    }
    build.state = 'canceled';
    build.finishedAt = now;
    return [...events, { event: 'build.finished', build }];
  }

  /**
   * PUT …/rebuild: a new build of the same commit, branch, message, env and meta-data. The
   * reference documents no refusal by state, so a running build may be rebuilt too.
   */
  rebuild(build: SimBuild, by: SimCreator | null): { build: SimBuild; events: WorldEvent[] } {
    return this.createBuild(build.pipeline, {
      branch: build.branch, commit: build.commit, message: build.message, env: build.env, metaData: build.metaData,
      source: 'ui', creator: by, rebuiltFrom: build, pullRequest: build.pullRequest,
    });
  }

  /** PUT …/jobs/{id}/retry: a new job for the same step; each job id can be retried once. */
  retry(build: SimBuild, job: SimJob, by: SimCreator | null, outcome?: JobOutcome): { job: SimJob; events: WorldEvent[] } {
    if (job.type !== 'script') throw new SimRefusal(422, 'Only command jobs can be retried');
    if (build.state === 'canceled' || build.state === 'canceling') throw new SimRefusal(422, "Jobs in a canceled build can't be retried");
    if (job.retried) throw new SimRefusal(422, 'This job has already been retried');
    if (!['failed', 'timed_out', 'canceled'].includes(job.state)) {
      throw new SimRefusal(422, 'Only failed, timed out or canceled jobs can be retried');
    }
    const fresh = this.newJob(build, job.step, job.stepIndex,
      job.parallelIndex === null ? null : { index: job.parallelIndex, total: job.parallelTotal ?? 1 }, outcome ?? job.outcome);
    fresh.retriesCount = job.retriesCount + 1;
    fresh.retrySource = { job_id: job.id, retry_type: 'manual', ...(by ? { retried_by: { name: by.name, email: by.email } } : {}) };
    job.retried = true;
    job.retriedInJobId = fresh.id;
    build.jobs.splice(build.jobs.indexOf(job) + 1, 0, fresh);
    const events: WorldEvent[] = [];
    // A finished build runs again; what the failure had stopped waits again.
    if (FINISHED_BUILD.has(build.state)) {
      for (const j of currentJobs(build)) {
        if (j.state === 'waiting_failed') j.state = 'waiting';
        if (j.state === 'blocked_failed') j.state = 'waiting';
      }
      build.state = build.startedAt === null ? 'scheduled' : 'running';
      build.finishedAt = null;
      if (build.state === 'running') events.push({ event: 'build.running', build });
    }
    this.version++;
    return { job: fresh, events };
  }

  /**
   * The values an unblock through the API stores: every required field without a default must
   * be given, a select only one of its options (422 otherwise); defaults fill the rest.
   */
  checkFields(job: SimJob, given: Record<string, string> | null): Record<string, string> | null {
    const defs = job.step.type === 'block' ? job.step.fields ?? [] : [];
    if (defs.length === 0) return given;
    const out: Record<string, string> = {};
    for (const f of defs) {
      const value = given?.[f.key] ?? f.default;
      if (value === undefined || value === '') {
        if (f.required !== false) throw new SimRefusal(422, `The ${f.key} field is required`);
        continue;
      }
      if (f.options && !f.options.some((o) => o.value === value)) {
        throw new SimRefusal(422, `The ${f.key} field must be one of: ${f.options.map((o) => o.value).join(', ')}`);
      }
      out[f.key] = value;
    }
    return out;
  }

  /** PUT …/jobs/{id}/unblock: releases a block step; the build runs on. */
  unblock(build: SimBuild, job: SimJob, by: SimCreator | null, fields: Record<string, string> | null): WorldEvent[] {
    if (job.type !== 'manual') throw new SimRefusal(400, 'This job type cannot be unblocked');
    if (job.state !== 'blocked') {
      throw new SimRefusal(422, job.state === 'unblocked' ? 'This job has already been unblocked' : "This job can't be unblocked yet");
    }
    const now = this.time();
    job.state = 'unblocked';
    job.unblockedBy = by;
    job.unblockedAt = now;
    job.finishedAt = now;
    job.unblockFields = fields;
    build.blocked = false;
    build.finishedAt = null;
    build.state = build.startedAt === null ? 'scheduled' : 'running';
    this.version++;
    return [{ event: 'job.activated', build, job }];
  }

  // ---- agents -----------------------------------------------------------------------------

  connectAgent(name: string): WorldEvent[] {
    const agent = this.agentByName(name);
    if (agent.connectionState === 'connected') return [];
    agent.connectionState = 'connected';
    agent.disconnectedAt = null;
    agent.lostAt = null;
    this.version++;
    return [{ event: 'agent.connected', agent }];
  }

  /** An idle agent disconnects cleanly; a busy one is told to stop and finishes its job first. */
  stopAgent(name: string): WorldEvent[] {
    const agent = this.agentByName(name);
    if (agent.connectionState !== 'connected') return [];
    this.version++;
    if (agent.jobId !== null) {
      agent.connectionState = 'stopping';
      return [{ event: 'agent.stopping', agent }];
    }
    agent.connectionState = 'disconnected';
    agent.disconnectedAt = this.time();
    return [{ event: 'agent.disconnected', agent }];
  }

  // ---- history ----------------------------------------------------------------------------

  /**
   * Finished builds per pipeline, back-dated and run through the ordinary lifecycle on a
   * synthetic clock. Block steps are unblocked by a person, and one build loses its agent
   * mid-job (the agent stays `lost`), as happens in any fleet.
   */
  seedHistory(perPipeline: number): void {
    if (perPipeline <= 0) return;
    const pipelines = this.pipelines.filter((p) => (this.builds.get(p.slug)?.length ?? 0) === 0);
    const end = this.now().getTime();
    let t = end - perPipeline * 3_600_000 - 600_000;
    let lost = false;
    for (let round = 0; round < perPipeline; round++) {
      for (const pipeline of pipelines) {
        this.fakeNow = t + this.random.int(0, 600_000);
        const feature = this.random.chance(0.4);
        const failing = this.random.chance(0.2) ? pipeline.steps.find((s) => s.type === 'command' && !s.softFail) : undefined;
        const { build } = this.createBuild(pipeline, {
          branch: feature ? this.random.pick(FEATURE_BRANCHES) : pipeline.defaultBranch,
          source: feature ? 'webhook' : this.random.pick(['webhook', 'ui', 'schedule'] as const),
          outcomes: failing?.key ? { [failing.key]: 'failed' } : {},
        });
        const loseHere = !lost && round === perPipeline - 1 && pipeline.steps.some((s) => s.type === 'command' && s.queue === 'default');
        // Every live build moves (a trigger step's child build too) until all have finished.
        for (let guard = 0; this.liveBuilds().length > 0 || this.unblockInHistory(); guard++) {
          if (guard > 300) throw new Error(`history build ${pipeline.slug}#${build.number} did not finish`);
          this.fakeNow += this.random.int(5_000, 60_000);
          this.stepAll();
          const running = currentJobs(build).find((j) => j.state === 'running' && j.type === 'script');
          if (loseHere && !lost && running?.agentId) {
            this.loseAgent(this.agent(running.agentId)!);
            lost = true;
          }
        }
      }
      t += 3_600_000;
    }
    this.fakeNow = null;
  }

  /** In history someone answers every block step (true: the build runs on). */
  private unblockInHistory(): boolean {
    const build = this.allBuilds().find((b) => b.blocked);
    const job = build && currentJobs(build).find((j) => j.state === 'blocked');
    if (!build || !job) return false;
    this.fakeNow! += this.random.int(60_000, 900_000);
    this.unblock(build, job, this.random.pick(ACTORS), null);
    return true;
  }

  /** Keeps at most `keep` builds per pipeline, never dropping unfinished or blocked ones. */
  prune(keep: number): void {
    for (const [slug, builds] of this.builds) {
      let drop = builds.length - keep;
      const kept: SimBuild[] = [];
      for (const b of builds) {
        if (drop > 0 && FINISHED_BUILD.has(b.state) && !b.blocked) {
          drop--;
          for (const j of b.jobs) this.jobIndex.delete(j.id);
          continue;
        }
        kept.push(b);
      }
      this.builds.set(slug, kept);
    }
  }
}
