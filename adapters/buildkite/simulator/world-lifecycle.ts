/**
 * What Buildkite does on its own: jobs move pending → waiting → scheduled →
 * (limited) → assigned → accepted → running → passed/failed/timed_out, wait
 * steps open when everything before them is done, block steps stop the build
 * (`passed` + `blocked: true`), a hard failure makes the build `failing` and
 * then `failed` (the jobs behind a wait become `waiting_failed`), a job with no
 * agent for its queue `expired`, a job whose branch filter does not match is
 * `broken`, and an agent that stops answering is `lost` with its job failed
 * (exit status -1). Every transition returns the webhook events it causes.
 */
import {
  agentMatches, branchMatches, EXPIRY_STEPS, FINISHED_BUILD, ON_AGENT, queryRules, TERMINAL_JOB,
  type SimAgent, type SimBuild, type SimJob, type StepDef, type WorldEvent,
} from './world-entities.ts';
import { graphqlId, WorldState } from './world-state.ts';

/** Jobs that count against the build: a retried job is superseded by its retry. */
export function currentJobs(build: SimBuild): SimJob[] {
  return build.jobs.filter((j) => !j.retried);
}

/** A failure that fails the build (soft-failed jobs do not). */
export function hardFailed(job: SimJob): boolean {
  return (job.state === 'failed' && !job.softFailed) || job.state === 'timed_out' || job.state === 'expired';
}

export class WorldLifecycle extends WorldState {
  /** A new job for step `stepIndex` (pending; its first lifecycle step places it). */
  protected newJob(build: SimBuild, step: StepDef, stepIndex: number, parallel: { index: number; total: number } | null, outcome: SimJob['outcome']): SimJob {
    const id = this.uuid();
    const job: SimJob = {
      id, graphqlId: graphqlId('Job', id),
      type: step.type === 'command' ? 'script' : step.type === 'wait' ? 'waiter' : step.type === 'block' ? 'manual' : 'trigger',
      stepIndex, step, stepId: `${build.id.slice(0, 24)}${String(stepIndex).padStart(12, '0')}`,
      state: 'pending', exitStatus: null, softFailed: false, signalReason: null, agentId: null,
      createdAt: this.time(), scheduledAt: build.createdAt, runnableAt: null, startedAt: null, finishedAt: null,
      outcome, stepsLeft: step.type === 'command' ? (step.runSteps ?? 2) : 0, starvedSteps: 0,
      retried: false, retriedInJobId: null, retriesCount: 0, retrySource: null,
      parallelIndex: parallel?.index ?? null, parallelTotal: parallel?.total ?? null,
      unblockedBy: null, unblockedAt: null, unblockFields: null, triggeredBuild: null,
    };
    this.jobIndex.set(id, { build, job });
    return job;
  }

  /** Builds that can still move on their own, oldest first. A blocked build waits for unblock. */
  liveBuilds(): SimBuild[] {
    return this.allBuilds().filter((b) => !FINISHED_BUILD.has(b.state)).reverse();
  }

  /** One lifecycle step of every live build (oldest first), then of stopping agents. */
  stepAll(): WorldEvent[] {
    const events: WorldEvent[] = [];
    for (const build of this.liveBuilds()) events.push(...this.advance(build));
    for (const agent of this.agents) {
      if (agent.connectionState === 'stopping' && agent.jobId === null) {
        agent.connectionState = 'stopped';
        agent.disconnectedAt = this.time();
        this.version++;
        events.push({ event: 'agent.stopped', agent });
      }
    }
    return events;
  }

  /** One step of one build: every job that can move moves one state, then the build's state follows. */
  advance(build: SimBuild): WorldEvent[] {
    const events: WorldEvent[] = [];
    const before = this.version;
    for (const job of currentJobs(build)) {
      if (TERMINAL_JOB.has(job.state)) continue;
      events.push(...this.advanceJob(build, job));
    }
    events.push(...this.settle(build));
    if (this.version === before && events.length === 0) return [];
    return events;
  }

  /** Every barrier (wait or block) before `stepIndex` has opened. */
  protected barriersOpen(build: SimBuild, stepIndex: number): boolean {
    return currentJobs(build).every((j) => j.stepIndex >= stepIndex
      || (j.type === 'waiter' ? j.state === 'passed' : j.type === 'manual' ? j.state === 'unblocked' : true));
  }

  /** Everything before `stepIndex` is finished. */
  protected priorDone(build: SimBuild, stepIndex: number): boolean {
    return currentJobs(build).every((j) => j.stepIndex >= stepIndex || TERMINAL_JOB.has(j.state));
  }

  protected priorFailed(build: SimBuild, stepIndex: number): boolean {
    return currentJobs(build).some((j) => j.stepIndex < stepIndex && hardFailed(j));
  }

  private set(job: SimJob, state: SimJob['state']): void {
    job.state = state;
    this.version++;
  }

  private advanceJob(build: SimBuild, job: SimJob): WorldEvent[] {
    const now = this.time();
    const step = job.step;
    switch (job.type) {
      case 'waiter':
      case 'manual':
        return this.advanceBarrier(build, job);
      case 'trigger':
        return this.advanceTrigger(build, job);
      default:
        break;
    }
    if (step.type !== 'command') return [];
    switch (job.state) {
      case 'pending':
        if (step.branches && !branchMatches(step.branches, build.branch)) {
          this.set(job, 'broken');
          job.finishedAt = now;
          return [];
        }
        if (!this.barriersOpen(build, job.stepIndex)) {
          this.set(job, 'waiting');
          return [];
        }
        return this.schedule(build, job);
      case 'waiting':
        return this.barriersOpen(build, job.stepIndex) ? this.schedule(build, job) : [];
      case 'scheduled': {
        if (step.concurrencyGroup && this.groupBusy(step.concurrencyGroup, job)) {
          this.set(job, 'limited');
          return [];
        }
        const rules = queryRules(step);
        const agent = this.agents.find((a) => a.connectionState === 'connected' && a.jobId === null && agentMatches(a, rules));
        if (agent) {
          job.agentId = agent.id;
          agent.jobId = job.id;
          this.set(job, 'assigned');
          return [];
        }
        // Nobody in the organization could ever take it: Buildkite expires it after the scheduled-job expiry.
        if (!this.agents.some((a) => (a.connectionState === 'connected' || a.connectionState === 'stopping') && agentMatches(a, rules))) {
          job.starvedSteps++;
          this.version++;
          if (job.starvedSteps >= EXPIRY_STEPS) {
            this.set(job, 'expired');
            job.finishedAt = now;
            return [{ event: 'job.finished', build, job }];
          }
        }
        return [];
      }
      case 'limited':
        if (step.concurrencyGroup && this.groupBusy(step.concurrencyGroup, job)) return [];
        this.set(job, 'scheduled');
        return [];
      case 'assigned':
        this.set(job, 'accepted');
        return [];
      case 'accepted': {
        job.startedAt = now;
        this.set(job, 'running');
        const events: WorldEvent[] = [{ event: 'job.started', build, job }];
        if (build.state === 'scheduled') {
          build.state = 'running';
          build.startedAt = now;
          events.unshift({ event: 'build.running', build });
        }
        return events;
      }
      case 'running':
        job.stepsLeft--;
        this.version++;
        if (job.stepsLeft > 0) return [];
        return this.complete(build, job);
      case 'timing_out':
        this.set(job, 'timed_out');
        return this.release(build, job, null);
      case 'canceling':
        job.signalReason = 'cancel';
        this.set(job, 'canceled');
        return this.release(build, job, null);
      default:
        return [];
    }
  }

  private schedule(build: SimBuild, job: SimJob): WorldEvent[] {
    job.runnableAt = this.time();
    this.set(job, 'scheduled');
    return [{ event: 'job.scheduled', build, job }];
  }

  private groupBusy(group: string, self: SimJob): boolean {
    for (const { job } of this.jobIndex.values()) {
      if (job !== self && job.step.type === 'command' && job.step.concurrencyGroup === group && ON_AGENT.has(job.state)) return true;
    }
    return false;
  }

  /** A running job reaches its planned outcome. */
  private complete(build: SimBuild, job: SimJob): WorldEvent[] {
    const soft = job.step.type === 'command' && job.step.softFail === true;
    switch (job.outcome) {
      case 'passed':
        job.exitStatus = 0;
        this.set(job, 'passed');
        return this.release(build, job, null);
      case 'failed':
        job.exitStatus = 1;
        job.softFailed = soft;
        this.set(job, 'failed');
        return this.release(build, job, null);
      case 'timed_out':
        // The agent is told to stop the job; it reports back on the next step.
        job.signalReason = 'agent_stop';
        this.set(job, 'timing_out');
        return [];
      case 'lost': {
        const agent = job.agentId ? this.agent(job.agentId) : undefined;
        return agent ? this.loseAgent(agent) : this.release(build, job, null);
      }
    }
  }

  /** The job ends: its agent is free again; job.finished. */
  protected release(build: SimBuild, job: SimJob, extra: WorldEvent | null): WorldEvent[] {
    const now = this.time();
    job.finishedAt = now;
    const agent = job.agentId ? this.agent(job.agentId) : undefined;
    if (agent && agent.jobId === job.id) {
      agent.jobId = null;
      agent.lastJobFinishedAt = now;
    }
    this.version++;
    return [...(extra ? [extra] : []), { event: 'job.finished', build, job }];
  }

  /**
   * The agent stops heart-beating: Buildkite marks it `lost` and fails the job it held
   * with exit status -1 ("Buildkite lost contact with the agent").
   */
  loseAgent(agent: SimAgent): WorldEvent[] {
    if (agent.connectionState === 'lost') return [];
    agent.connectionState = 'lost';
    agent.lostAt = this.time();
    this.version++;
    const events: WorldEvent[] = [{ event: 'agent.lost', agent }];
    const held = agent.jobId ? this.job(agent.jobId) : undefined;
    if (held && !TERMINAL_JOB.has(held.job.state)) {
      const { build, job } = held;
      job.exitStatus = -1;
      job.softFailed = job.step.type === 'command' && job.step.softFail === true;
      job.startedAt ??= this.time();
      this.set(job, 'failed');
      events.push(...this.release(build, job, null));
      agent.jobId = null;
    }
    return events;
  }

  private advanceBarrier(build: SimBuild, job: SimJob): WorldEvent[] {
    if (job.state === 'pending') {
      this.set(job, 'waiting');
      return [];
    }
    if (job.state !== 'waiting') return [];
    if (!this.priorDone(build, job.stepIndex) || !this.barriersOpen(build, job.stepIndex)) return [];
    const failed = this.priorFailed(build, job.stepIndex);
    if (job.type === 'waiter') {
      const cont = job.step.type === 'wait' && job.step.continueOnFailure === true;
      if (failed && !cont) {
        this.set(job, 'waiting_failed');
        return [];
      }
      job.finishedAt = this.time();
      this.set(job, 'passed');
      return [{ event: 'job.finished', build, job }];
    }
    if (failed) {
      this.set(job, 'blocked_failed');
      return [];
    }
    job.runnableAt = this.time();
    this.set(job, 'blocked');
    return [];
  }

  private advanceTrigger(build: SimBuild, job: SimJob): WorldEvent[] {
    if (job.state === 'pending') {
      this.set(job, 'waiting');
      return [];
    }
    const step = job.step;
    if (step.type !== 'trigger') return [];
    if (job.state === 'waiting') {
      if (!this.priorDone(build, job.stepIndex) || !this.barriersOpen(build, job.stepIndex)) return [];
      if (this.priorFailed(build, job.stepIndex)) {
        this.set(job, 'waiting_failed');
        return [];
      }
      const target = this.pipeline(step.trigger);
      job.startedAt = this.time();
      if (!target) {
        job.exitStatus = null;
        this.set(job, 'failed');
        job.finishedAt = this.time();
        return [{ event: 'job.finished', build, job }];
      }
      const created = this.createTriggered(build, target.slug);
      job.triggeredBuild = { pipeline: target.slug, number: created.build.number };
      if (step.async) {
        this.set(job, 'passed');
        job.finishedAt = this.time();
        return [...created.events, { event: 'job.finished', build, job }];
      }
      this.set(job, 'running');
      return created.events;
    }
    if (job.state === 'running' && job.triggeredBuild) {
      const child = this.build(job.triggeredBuild.pipeline, job.triggeredBuild.number);
      if (!child || !FINISHED_BUILD.has(child.state) || child.blocked) return [];
      this.set(job, child.state === 'passed' ? 'passed' : 'failed');
      job.finishedAt = this.time();
      return [{ event: 'job.finished', build, job }];
    }
    return [];
  }

  /** Implemented by World (a trigger step creates a build in another pipeline). */
  protected createTriggered(_parent: SimBuild, _slug: string): { build: SimBuild; events: WorldEvent[] } {
    throw new Error('createTriggered is provided by World');
  }

  /** The build's state follows its jobs. */
  protected settle(build: SimBuild): WorldEvent[] {
    const now = this.time();
    const jobs = currentJobs(build);
    const finish = (state: SimBuild['state'], blocked = false): WorldEvent[] => {
      build.state = state;
      build.blocked = blocked;
      build.finishedAt = now;
      this.version++;
      return [{ event: 'build.finished', build }];
    };
    if (build.state === 'canceling') {
      return jobs.some((j) => ON_AGENT.has(j.state)) ? [] : finish('canceled');
    }
    if (build.state === 'canceled' || build.state === 'skipped') return [];
    const runnable = jobs.filter((j) => j.type !== 'waiter');
    if (runnable.length > 0 && runnable.every((j) => j.state === 'broken')) {
      for (const j of jobs) if (j.type === 'waiter' && !TERMINAL_JOB.has(j.state)) j.state = 'skipped';
      return finish('not_run');
    }
    const failed = jobs.some(hardFailed);
    const moving = jobs.filter((j) => !TERMINAL_JOB.has(j.state) && j.state !== 'blocked' && !this.stalled(build, j));
    if (moving.length === 0) {
      if (failed) {
        for (const j of jobs) {
          if (j.state === 'waiting' || j.state === 'pending') j.state = 'waiting_failed';
          if (j.state === 'blocked') j.state = 'blocked_failed';
        }
        return finish('failed');
      }
      if (jobs.some((j) => j.state === 'blocked')) return build.blocked ? [] : finish('passed', true);
      return finish('passed');
    }
    // A retry replaced the only hard failure: the build runs on as before.
    if (!failed && build.state === 'failing') {
      build.state = 'running';
      this.version++;
      return [{ event: 'build.running', build }];
    }
    if (failed && build.state !== 'failing') {
      build.failingAt ??= now;
      build.state = 'failing';
      this.version++;
      return [{ event: 'build.failing', build }];
    }
    return [];
  }

  /**
   * A job that cannot move until someone acts: it waits behind a block step that is
   * blocked, or behind a barrier a failure has closed for good.
   */
  private stalled(build: SimBuild, job: SimJob): boolean {
    if (job.state !== 'waiting' && job.state !== 'pending') return false;
    return currentJobs(build).some((b) => b.stepIndex < job.stepIndex && (b.type === 'waiter' || b.type === 'manual')
      && (b.state === 'blocked' || b.state === 'waiting_failed' || b.state === 'blocked_failed'
        || (b.state === 'waiting' && this.priorDone(build, b.stepIndex) && this.priorFailed(build, b.stepIndex)
          && !(b.step.type === 'wait' && b.step.continueOnFailure === true))));
  }
}
