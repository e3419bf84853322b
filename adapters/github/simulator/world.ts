/**
 * The simulated GitHub Actions world: repositories, workflows, runs, jobs and
 * self-hosted runners, plus the transitions that move them. Pure state; it
 * knows nothing about HTTP. Every mutating method returns the webhook events
 * the transition causes, in the order GitHub would send them.
 *
 * Split by concern: world-entities.ts (types), world-seed.ts (seed data),
 * world-state.ts (state and queries), world-lifecycle.ts (what GitHub does on
 * its own); this file holds what users do (push, trigger, take runners
 * offline) and the housekeeping (history, pruning).
 */
import { isoSeconds, type RunSpec, type SimJob, type SimRun, type SimRunner, type WorldEvent } from './world-entities.ts';
import { ACTORS, BRANCHES, MESSAGES } from './world-seed.ts';
import { WorldLifecycle } from './world-lifecycle.ts';

export type { WorldOptions } from './world-state.ts';

export class World extends WorldLifecycle {
  // Separate, monotonic id spaces at realistic magnitudes (GitHub ids are large).
  private nextRunId = 11_000_000_000;
  private nextJobId = 31_000_000_000;
  private nextCheckSuiteId = 29_000_000_000;
  private readonly runNumbers = new Map<number, number>();

  /**
   * Creates a run and its jobs. Jobs are queued at once (GitHub queues every
   * job whose needs are met; the simulator has no `needs`). Skipped jobs
   * complete immediately without a runner, as `if:`-skipped jobs do.
   */
  createRun(spec: RunSpec, at: Date = this.now()): { run: SimRun; events: WorldEvent[] } {
    const repo = this.repo(spec.repo);
    if (!repo) throw new Error(`unknown repository ${spec.repo}`);
    if (spec.jobs.length === 0) throw new Error('a run needs at least one job');
    const workflow =
      this.workflows.find((w) => w.repo === repo.name && (w.name === spec.workflow || w.path.endsWith(`/${spec.workflow}`))) ??
      this.workflows.find((w) => w.repo === repo.name);
    if (!workflow) throw new Error(`no workflow in ${repo.name}`);
    const ts = isoSeconds(at);
    const event = spec.event ?? 'push';
    const branch = spec.branch ?? (event === 'pull_request' ? this.random.pick(BRANCHES.slice(3)) : repo.defaultBranch);
    const runNumber = (this.runNumbers.get(workflow.id) ?? 0) + 1;
    this.runNumbers.set(workflow.id, runNumber);
    const message = this.random.pick(MESSAGES);
    const actor = event === 'schedule' ? ACTORS[0]! : this.random.pick(ACTORS);
    const sha = this.random.hex(40);
    const run: SimRun = {
      id: (this.nextRunId += this.random.int(1, 400)),
      repo: repo.name,
      workflowId: workflow.id,
      runNumber,
      runAttempt: 1,
      event,
      branch,
      sha,
      treeId: this.random.hex(40),
      message,
      actor,
      checkSuiteId: (this.nextCheckSuiteId += this.random.int(1, 900)),
      pullRequest:
        event === 'pull_request'
          ? { id: 2_100_000_000 + this.random.int(0, 99_999_999), number: this.random.int(10, 900), title: message, baseSha: this.random.hex(40) }
          : null,
      createdAt: ts,
      jobIds: [],
      status: 'queued',
      conclusion: null,
      updatedAt: ts,
      runStartedAt: ts,
      ...(spec.displayTitle === undefined ? {} : { displayTitle: spec.displayTitle }),
    };
    this.runs.set(run.id, run);
    if (event === 'push') {
      repo.pushedAt = ts;
      repo.updatedAt = ts;
    }
    const events: WorldEvent[] = [{ event: 'workflow_run', action: 'requested', runId: run.id }];
    for (const js of spec.jobs) {
      const outcome = js.outcome ?? 'success';
      const userSteps = js.steps && js.steps.length > 0 ? js.steps : ['Run actions/checkout@v4', `Run ${js.name}`];
      const plannedSteps = ['Set up job', ...userSteps, 'Complete job'];
      const job: SimJob = {
        id: (this.nextJobId += this.random.int(1, 60)),
        runId: run.id,
        repo: repo.name,
        name: js.name,
        labels: js.labels ?? ['self-hosted', 'Linux'],
        outcome,
        createdAt: ts,
        plannedSteps,
        // A failing job fails in its last user step, later steps are skipped.
        stopAt: plannedSteps.length - 2,
        status: 'queued',
        conclusion: null,
        // GitHub reports started_at = creation time while a job is still queued.
        startedAt: ts,
        completedAt: null,
        steps: [],
        runnerId: null,
        runnerName: null,
        runnerGroupId: null,
        runnerGroupName: null,
        lastTouched: 0,
        ...(js.environment === undefined ? {} : { environment: js.environment }),
      };
      this.jobs.set(job.id, job);
      run.jobIds.push(job.id);
      if (outcome === 'skipped') {
        job.status = 'completed';
        job.conclusion = 'skipped';
        job.completedAt = ts;
        events.push({ event: 'workflow_job', action: 'completed', jobId: job.id });
      } else if (js.environment !== undefined) {
        // Held by the environment's required reviewers: a pending deployment until reviewed.
        job.status = 'waiting';
        events.push({ event: 'workflow_job', action: 'waiting', jobId: job.id });
      } else {
        events.push({ event: 'workflow_job', action: 'queued', jobId: job.id });
      }
    }
    if (this.jobsOf(run.id).every((j) => j.status === 'waiting' || j.status === 'completed') && this.jobsOf(run.id).some((j) => j.status === 'waiting')) {
      run.status = 'waiting';
    }
    events.push(...this.maybeCompleteRun(run));
    this.changed();
    return { run, events };
  }
  /** Fresh ids from the same monotonic spaces live runs use (the seeded past is created first, so it sorts before them). */
  allocateRunIds(): { runId: number; checkSuiteId: number } {
    return { runId: (this.nextRunId += this.random.int(1, 400)), checkSuiteId: (this.nextCheckSuiteId += this.random.int(1, 900)) };
  }

  allocateJobId(): number {
    return (this.nextJobId += this.random.int(1, 60));
  }

  /** The next run number of a workflow (shared with live runs). */
  allocateRunNumber(workflowId: number): number {
    const n = (this.runNumbers.get(workflowId) ?? 0) + 1;
    this.runNumbers.set(workflowId, n);
    return n;
  }

  /** Runner online/offline flips; only idle runners go offline (a busy one would fail its job). */
  setRunnerStatus(runner: SimRunner, status: 'online' | 'offline'): void {
    if (status === 'offline' && runner.jobId !== null) throw new Error(`runner ${runner.name} is busy`);
    if (runner.status !== status) {
      runner.status = status;
      this.changed();
    }
  }

  /**
   * Drops the oldest completed runs beyond `keep` per repository, so a demo
   * left running for days does not grow without bound.
   */
  prune(keep: number): void {
    for (const repo of this.repos) {
      const completed = this.runsOf(repo.name).filter((r) => r.status === 'completed');
      for (const run of completed.slice(keep)) {
        for (const id of run.jobIds) this.jobs.delete(id);
        this.runs.delete(run.id);
        this.changed();
      }
    }
  }

  /**
   * Pre-creates finished runs in the past so a fresh simulator already has
   * data to list. Uses the same transitions as live runs, with a shifted clock.
   */
  seedHistory(perRepo: number, makeSpec: (repo: string) => RunSpec): void {
    if (perRepo <= 0) return;
    const realNow = this.now;
    const base = realNow().getTime();
    let clock = base;
    this.now = () => new Date(clock);
    try {
      for (let i = perRepo; i >= 1; i--) {
        for (const repo of this.repos) {
          // Runs 12 min apart; each finishes within ~7 min, so history always ends in the past.
          clock = base - i * 12 * 60_000 - this.random.int(0, 120) * 1000;
          const { run } = this.createRun(makeSpec(repo.name), new Date(clock));
          let guard = 0;
          while (run.status !== 'completed' && guard++ < 500) {
            clock = Math.min(base, clock + this.random.int(2, 15) * 1000);
            const start = this.startable().find((s) => s.job.runId === run.id);
            if (start) {
              this.startJob(start.job, start.runner);
              continue;
            }
            const job = this.advanceable().find((j) => j.runId === run.id);
            if (job) {
              this.advanceJob(job);
              continue;
            }
            // No runner can ever take a job (e.g. its runner is offline): cancel it, as GitHub does after 24 h.
            for (const j of this.jobsOf(run.id)) {
              if (j.status === 'queued') {
                j.status = 'completed';
                j.conclusion = 'cancelled';
                j.completedAt = this.nowIso();
              }
            }
            this.maybeCompleteRun(run);
          }
        }
      }
    } finally {
      this.now = realNow;
    }
  }
}
