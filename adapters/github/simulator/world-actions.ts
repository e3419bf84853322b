/**
 * What a user with write access asks of GitHub Actions (issue 15): cancel, re-run (all, failed
 * only, one job), workflow_dispatch and deployment reviews, with GitHub's refusals. A refusal is
 * a SimRefusal carrying the HTTP status and GitHub's wording; the REST layer answers it as is.
 */
import { type JobOutcome, type SimJob, type SimRun, type WorldEvent } from './world-entities.ts';
import { BRANCHES } from './world-seed.ts';
import { World } from './world.ts';
import { dispatchInputsOf, dispatchJobsOf, runNameOf } from './workflow-files.ts';

export class SimRefusal extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const DAY_MS = 86_400_000;
/** "You can re-run ... up to 30 days after the initial run." */
const RERUN_WINDOW_MS = 30 * DAY_MS;
/** "A workflow run can be re-run a maximum of 50 times." */
const MAX_RERUNS = 50;
/** Wording not verified against github.com (docs state the rule, not the API's text). */
export const RERUN_TOO_OLD = 'Unable to re-run this workflow run because it was created over a month ago';
const FAILED_LIKE: ReadonlySet<JobOutcome | null> = new Set(['failure', 'cancelled', 'timed_out']);
const TAGS = ['v2.3.0', 'v2.4.0'];

export interface PendingDeployment {
  readonly environment: { readonly id: number; readonly name: string };
  readonly waitTimerStartedAt: string;
}

export class ActionWorld extends World {
  private readonly environmentIds = new Map<string, number>();

  environmentId(name: string): number {
    let id = this.environmentIds.get(name);
    if (id === undefined) {
      id = 160_000_000 + this.random.int(0, 9_999_999);
      this.environmentIds.set(name, id);
    }
    return id;
  }

  /** POST .../cancel and /force-cancel: accepted now, carried out by the next transition (`finishCancel`). */
  requestCancel(run: SimRun): void {
    if (run.status === 'completed') throw new SimRefusal(409, 'Cannot cancel a workflow run that is completed.');
    run.cancelRequested = true;
    this.changed();
  }

  /** Runs whose cancel is still to be carried out. */
  cancelling(): SimRun[] {
    return [...this.runs.values()].filter((r) => r.cancelRequested === true && r.status !== 'completed');
  }

  /** Cancels every unfinished job of the attempt, then completes the run as cancelled. */
  finishCancel(run: SimRun): WorldEvent[] {
    const ts = this.nowIso();
    const events: WorldEvent[] = [];
    for (const job of this.currentJobs(run)) {
      if (job.status === 'completed') continue;
      const running = job.status === 'in_progress';
      for (const step of job.steps) {
        if (step.status === 'completed') continue;
        step.conclusion = running && step.status === 'in_progress' ? 'cancelled' : 'skipped';
        step.status = 'completed';
        step.startedAt ??= ts;
        step.completedAt = ts;
      }
      job.status = 'completed';
      job.conclusion = 'cancelled';
      job.completedAt = ts;
      const runner = job.runnerId === null ? undefined : this.runner(job.runnerId);
      if (runner && runner.jobId === job.id) runner.jobId = null;
      events.push({ event: 'workflow_job', action: 'completed', jobId: job.id });
    }
    run.cancelRequested = false;
    run.status = 'completed';
    run.conclusion = 'cancelled';
    run.updatedAt = ts;
    events.push({ event: 'workflow_run', action: 'completed', runId: run.id });
    this.changed();
    return events;
  }

  /** POST .../rerun (every job) or .../rerun-failed-jobs: a new attempt of the same run. */
  rerun(run: SimRun, failedOnly: boolean): void {
    this.checkRerunnable(run);
    const jobs = this.currentJobs(run);
    if (failedOnly && !jobs.some((j) => FAILED_LIKE.has(j.conclusion))) {
      throw new SimRefusal(403, 'This workflow run has no failed jobs to re-run');
    }
    this.newAttempt(run, (j) => !failedOnly || FAILED_LIKE.has(j.conclusion));
  }

  /** POST .../jobs/{job_id}/rerun: a new attempt re-running that job, the others carried over. */
  rerunJob(job: SimJob): SimRun {
    const run = this.runs.get(job.runId);
    if (!run) throw new SimRefusal(404, 'Not Found');
    this.checkRerunnable(run);
    this.newAttempt(run, (j) => j.id === job.id);
    return run;
  }

  private checkRerunnable(run: SimRun): void {
    if (run.status !== 'completed') throw new SimRefusal(403, 'This workflow is already running');
    if (this.now().getTime() - Date.parse(run.createdAt) > RERUN_WINDOW_MS) throw new SimRefusal(403, RERUN_TOO_OLD);
  }

  /**
   * Earlier jobs keep their attempt; re-run jobs are queued afresh under the new attempt, the rest
   * are listed again unchanged (new ids). Beyond 50 re-runs GitHub accepts the request but the new
   * attempt fails at once ("a failed check suite with an annotation", changelog 2026-04-10).
   */
  private newAttempt(run: SimRun, rerunIt: (job: SimJob) => boolean): void {
    const ts = this.nowIso();
    const previous = this.currentJobs(run);
    for (const j of previous) j.runAttempt = run.runAttempt;
    run.previousAttempts = [
      ...(run.previousAttempts ?? []),
      { runAttempt: run.runAttempt, conclusion: run.conclusion ?? 'failure', updatedAt: run.updatedAt, runStartedAt: run.runStartedAt },
    ];
    const overLimit = run.runAttempt > MAX_RERUNS;
    run.runAttempt += 1;
    run.runStartedAt = ts;
    run.updatedAt = ts;
    run.silent = true;
    this.changed();
    if (overLimit) {
      run.status = 'completed';
      run.conclusion = 'failure';
      return;
    }
    run.status = 'queued';
    run.conclusion = null;
    for (const old of previous) {
      const id = this.allocateJobId();
      const again = rerunIt(old);
      const job: SimJob = again
        ? {
          ...old, id, runAttempt: run.runAttempt, createdAt: ts, startedAt: ts, completedAt: null, steps: [],
          status: old.environment === undefined ? 'queued' : 'waiting', conclusion: null,
          // A re-run is what fixes a flaky job: the new attempt passes.
          outcome: 'success',
          runnerId: null, runnerName: null, runnerGroupId: null, runnerGroupName: null, lastTouched: 0,
        }
        : { ...old, id, runAttempt: run.runAttempt, steps: old.steps.map((s) => ({ ...s })) };
      this.jobs.set(id, job);
      run.jobIds.push(id);
    }
    if (this.currentJobs(run).every((j) => j.status === 'waiting' || j.status === 'completed')) run.status = 'waiting';
  }

  /** GET .../pending_deployments: one entry per environment a job of the attempt waits for. */
  pendingDeployments(run: SimRun): PendingDeployment[] {
    const byName = new Map<string, PendingDeployment>();
    for (const j of this.currentJobs(run)) {
      if (j.status !== 'waiting' || j.environment === undefined || byName.has(j.environment)) continue;
      byName.set(j.environment, { environment: { id: this.environmentId(j.environment), name: j.environment }, waitTimerStartedAt: j.createdAt });
    }
    return [...byName.values()];
  }

  /** POST .../pending_deployments: approved jobs are queued (the run proceeds), rejected ones fail and so does the run. */
  review(run: SimRun, environmentIds: readonly number[], state: 'approved' | 'rejected'): { events: WorldEvent[]; reviewed: PendingDeployment[] } {
    const pending = this.pendingDeployments(run);
    const chosen = pending.filter((p) => environmentIds.includes(p.environment.id));
    if (chosen.length === 0 || chosen.length !== new Set(environmentIds).size) {
      // Wording not verified against github.com.
      throw new SimRefusal(422, 'No pending deployment requests to approve or reject');
    }
    const names = new Set(chosen.map((p) => p.environment.name));
    const ts = this.nowIso();
    const events: WorldEvent[] = [];
    for (const j of this.currentJobs(run)) {
      if (j.status !== 'waiting' || j.environment === undefined || !names.has(j.environment)) continue;
      if (state === 'approved') {
        j.status = 'queued';
        events.push({ event: 'workflow_job', action: 'queued', jobId: j.id });
      } else {
        // "If a job is rejected, the workflow will fail."
        j.status = 'completed';
        j.conclusion = 'failure';
        j.completedAt = ts;
        events.push({ event: 'workflow_job', action: 'completed', jobId: j.id });
      }
    }
    run.updatedAt = ts;
    if (state === 'approved' && run.status === 'waiting') {
      run.status = 'in_progress';
      events.unshift({ event: 'workflow_run', action: 'in_progress', runId: run.id });
    }
    events.push(...this.maybeCompleteRun(run));
    this.changed();
    return { events, reviewed: chosen };
  }

  /** POST .../workflows/{workflow_id}/dispatches: validates ref and inputs as GitHub does, then starts the run. */
  dispatch(repoName: string, workflowKey: string, ref: unknown, rawInputs: unknown): { run: SimRun; events: WorldEvent[] } {
    const wf = this.workflows.find((w) => w.repo === repoName && (String(w.id) === workflowKey || w.path === `.github/workflows/${workflowKey}`));
    if (!wf) throw new SimRefusal(404, 'Not Found');
    const file = wf.path.slice('.github/workflows/'.length);
    if (typeof ref !== 'string' || ref === '') throw new SimRefusal(422, `Invalid request.\n\n"ref" wasn't supplied.`);
    const branch = this.resolveRef(repoName, ref);
    if (branch === null) throw new SimRefusal(422, `No ref found for: ${ref}`);
    const declared = dispatchInputsOf(file);
    if (declared === null) throw new SimRefusal(422, "Workflow does not have 'workflow_dispatch' trigger");
    const inputs = rawInputs ?? {};
    if (typeof inputs !== 'object' || Array.isArray(inputs)) throw new SimRefusal(422, `For 'properties/inputs', ${JSON.stringify(inputs)} is not an object.`);
    const given = inputs as Record<string, unknown>;
    for (const [name, value] of Object.entries(given)) {
      if (typeof value !== 'string') throw new SimRefusal(422, `For 'properties/${name}', ${JSON.stringify(value)} is not a string.`);
    }
    const unexpected = Object.keys(given).filter((k) => !declared.has(k));
    if (unexpected.length > 0) throw new SimRefusal(422, `Unexpected inputs provided: ${JSON.stringify(unexpected)}`);
    const values: Record<string, string> = {};
    for (const [name, d] of declared) {
      const value = (given[name] as string | undefined) ?? d.default ?? undefined;
      if (value === undefined) {
        if (d.required) throw new SimRefusal(422, `Required input '${name}' not provided`);
        continue;
      }
      if (d.type === 'choice' && !d.options.includes(value)) throw new SimRefusal(422, `Provided value '${value}' for input '${name}' not in the list of allowed values`);
      if (d.type === 'boolean' && value !== 'true' && value !== 'false') throw new SimRefusal(422, `Provided value '${value}' for input '${name}' is not a valid boolean`);
      if (d.type === 'number' && !Number.isFinite(Number(value))) throw new SimRefusal(422, `Provided value '${value}' for input '${name}' is not a valid number`);
      values[name] = value;
    }
    const displayTitle = runNameOf(file, values);
    return this.createRun({
      repo: repoName, workflow: wf.name, branch, event: 'workflow_dispatch', jobs: dispatchJobsOf(file, values),
      ...(displayTitle === undefined ? {} : { displayTitle }),
    });
  }

  /** A branch or tag of the repository (bare or fully qualified), as the run's head_branch names it; null when unknown. */
  private resolveRef(repoName: string, ref: string): string | null {
    const repo = this.repo(repoName);
    const branches = new Set([...BRANCHES, repo?.defaultBranch ?? 'main']);
    const name = ref.replace(/^refs\/(heads|tags)\//, '');
    if (ref.startsWith('refs/tags/')) return TAGS.includes(name) ? name : null;
    if (ref.startsWith('refs/heads/')) return branches.has(name) ? name : null;
    return branches.has(name) || TAGS.includes(name) ? name : null;
  }

  /** Whether a ref names something in the repository (the contents API answers 404 otherwise). */
  hasRef(repoName: string, ref: string): boolean {
    return this.resolveRef(repoName, ref) !== null;
  }
}
