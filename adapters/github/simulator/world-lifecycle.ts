/**
 * What GitHub does on its own in the simulated world: assigns queued jobs to
 * idle runners (or GitHub-hosted VMs), steps running jobs forward, and
 * completes jobs and runs. Every transition returns the webhook events it
 * causes, in the order GitHub would send them.
 */
import type { SimJob, SimRun, SimRunner, WorldEvent } from './world-entities.ts';
import { HOSTED_RUNNER_GROUP, runsOnGithubHosted } from './world-seed.ts';
import { WorldState } from './world-state.ts';

export class WorldLifecycle extends WorldState {
  /** GitHub-hosted runner ids are large and never reused (one VM per job). */
  private nextHostedRunnerId = 1_000_000_000;
  private touch = 0;

  private canRun(runner: SimRunner, job: SimJob): boolean {
    if (runner.status !== 'online' || runner.jobId !== null) return false;
    if (runner.scope !== 'org' && runner.scope.repo !== job.repo) return false;
    // GitHub matches runs-on labels case-insensitively; the runner needs all of them.
    const have = new Set(runner.labels.map((l) => l.name.toLowerCase()));
    return job.labels.every((l) => have.has(l.toLowerCase()));
  }

  /**
   * Queued jobs that some idle online runner can take right now, oldest first.
   * `runner: null` means a GitHub-hosted VM takes it (no capacity limit is modelled).
   */
  startable(): { job: SimJob; runner: SimRunner | null }[] {
    const out: { job: SimJob; runner: SimRunner | null }[] = [];
    const claimed = new Set<number>();
    const queued = [...this.jobs.values()].filter((j) => j.status === 'queued').sort((a, b) => a.id - b.id);
    for (const job of queued) {
      if (runsOnGithubHosted(job.labels)) {
        out.push({ job, runner: null });
        continue;
      }
      const runner = this.runners.find((r) => !claimed.has(r.id) && this.canRun(r, job));
      if (runner) {
        claimed.add(runner.id);
        out.push({ job, runner });
      }
    }
    return out;
  }

  /** In-progress jobs, least recently advanced first. */
  advanceable(): SimJob[] {
    return [...this.jobs.values()]
      .filter((j) => j.status === 'in_progress')
      .sort((a, b) => a.lastTouched - b.lastTouched || a.id - b.id);
  }

  /** Starts `job` on `runner`, or on a fresh GitHub-hosted VM when `runner` is null. */
  startJob(job: SimJob, runner: SimRunner | null): WorldEvent[] {
    const fits = runner ? this.canRun(runner, job) : runsOnGithubHosted(job.labels);
    if (job.status !== 'queued' || !fits) throw new Error(`job ${job.id} cannot start on ${runner?.name ?? 'a GitHub-hosted runner'}`);
    const run = this.runs.get(job.runId);
    if (!run) throw new Error(`run ${job.runId} missing`);
    const ts = this.nowIso();
    const events: WorldEvent[] = [];
    if (run.status === 'queued' || run.status === 'waiting') {
      run.status = 'in_progress';
      run.updatedAt = ts;
      events.push({ event: 'workflow_run', action: 'in_progress', runId: run.id });
    }
    job.status = 'in_progress';
    job.startedAt = ts;
    if (runner) {
      runner.jobId = job.id;
      job.runnerId = runner.id;
      job.runnerName = runner.name;
      job.runnerGroupId = runner.groupId;
      job.runnerGroupName = runner.groupName;
    } else {
      const id = (this.nextHostedRunnerId += this.random.int(1, 500));
      job.runnerId = id;
      job.runnerName = `GitHub Actions ${id}`;
      job.runnerGroupId = HOSTED_RUNNER_GROUP.id;
      job.runnerGroupName = HOSTED_RUNNER_GROUP.name;
    }
    job.steps = job.plannedSteps.map((name, i) => ({
      name,
      number: i + 1,
      status: i === 0 ? 'in_progress' : 'queued',
      conclusion: null,
      startedAt: i === 0 ? ts : null,
      completedAt: null,
    }));
    job.lastTouched = ++this.touch;
    run.updatedAt = ts;
    events.push({ event: 'workflow_job', action: 'in_progress', jobId: job.id });
    this.changed();
    return events;
  }

  /**
   * Finishes the current step and starts the next one (no webhook: GitHub
   * sends none for steps). Completes the job, and the run if it was the last
   * job, when the final step is done.
   */
  advanceJob(job: SimJob): WorldEvent[] {
    if (job.status !== 'in_progress') throw new Error(`job ${job.id} is not in progress`);
    const run = this.runs.get(job.runId);
    if (!run) throw new Error(`run ${job.runId} missing`);
    const ts = this.nowIso();
    job.lastTouched = ++this.touch;
    run.updatedAt = ts;
    this.changed();
    const idx = job.steps.findIndex((s) => s.status === 'in_progress');
    const current = job.steps[idx];
    if (!current) throw new Error(`job ${job.id} has no running step`);
    current.status = 'completed';
    current.completedAt = ts;
    const stopsHere = job.outcome !== 'success' && idx === job.stopAt;
    if (stopsHere) {
      current.conclusion = job.outcome === 'cancelled' ? 'cancelled' : 'failure';
      // Later steps never ran; GitHub reports them skipped, except the cleanup step.
      job.steps.forEach((s, i) => {
        if (i <= idx) return;
        s.status = 'completed';
        s.conclusion = i === job.steps.length - 1 ? 'success' : 'skipped';
        s.startedAt = ts;
        s.completedAt = ts;
      });
      return this.completeJob(job, run, ts);
    }
    current.conclusion = 'success';
    const nextStep = job.steps[idx + 1];
    if (!nextStep) return this.completeJob(job, run, ts);
    nextStep.status = 'in_progress';
    nextStep.startedAt = ts;
    return [];
  }

  private completeJob(job: SimJob, run: SimRun, ts: string): WorldEvent[] {
    job.status = 'completed';
    job.conclusion = job.outcome;
    job.completedAt = ts;
    const runner = job.runnerId === null ? undefined : this.runner(job.runnerId);
    if (runner && runner.jobId === job.id) runner.jobId = null;
    return [{ event: 'workflow_job', action: 'completed', jobId: job.id }, ...this.maybeCompleteRun(run)];
  }

  /** Jobs of the run's current attempt (a re-run keeps the earlier attempts' jobs under their own attempt). */
  currentJobs(run: SimRun): SimJob[] {
    return this.jobsOf(run.id).filter((j) => (j.runAttempt ?? run.runAttempt) === run.runAttempt);
  }

  protected maybeCompleteRun(run: SimRun): WorldEvent[] {
    const jobs = this.currentJobs(run);
    if (run.status === 'completed' || jobs.some((j) => j.status !== 'completed')) return [];
    const conclusions = jobs.map((j) => j.conclusion);
    run.status = 'completed';
    run.conclusion = conclusions.some((c) => c === 'failure' || c === 'timed_out')
      ? 'failure'
      : conclusions.some((c) => c === 'cancelled')
        ? 'cancelled'
        : conclusions.every((c) => c === 'skipped')
          ? 'skipped'
          : 'success';
    run.updatedAt = this.nowIso();
    return [{ event: 'workflow_run', action: 'completed', runId: run.id }];
  }}
