import type { JobModel } from '../model.ts';

const MAX_TRACKED = 100_000;

/**
 * Which jobs run on which runner, as the job observations the gateway applied
 * say: a runner may run several jobs at once (GitLab `concurrent`), so one
 * job ending does not free it while another still runs. Only RUNNING jobs
 * are kept; callers check each id against the live state (`isRunningOn`), so
 * an entry the live state evicted or reverted is never trusted.
 */
export class RunnerJobs {
  /** backend + runner → job native ids running on it. */
  private readonly byRunner = new Map<string, Set<string>>();
  /** backend + job → the runner key it is recorded under. */
  private readonly runnerOf = new Map<string, string>();

  /** Records a job observation the live state accepted. */
  observe(job: JobModel): void {
    const jobKey = `${job.backend}\u0000${job.nativeId}`;
    const runnerKey = job.status === 'RUNNING' && job.runnerNativeId ? `${job.backend}\u0000${job.runnerNativeId}` : null;
    const before = this.runnerOf.get(jobKey);
    if (before === runnerKey) return;
    if (before !== undefined) this.remove(jobKey, before, job.nativeId);
    if (runnerKey === null || this.runnerOf.size >= MAX_TRACKED) return;
    this.runnerOf.set(jobKey, runnerKey);
    let jobs = this.byRunner.get(runnerKey);
    if (!jobs) this.byRunner.set(runnerKey, (jobs = new Set()));
    jobs.add(job.nativeId);
  }

  /** Jobs other than `exceptJobId` still running on the runner, oldest recorded first. */
  running(backend: string, runnerNativeId: string, isRunningOn: (jobNativeId: string) => boolean, exceptJobId?: string): string[] {
    const runnerKey = `${backend}\u0000${runnerNativeId}`;
    const out: string[] = [];
    for (const id of [...(this.byRunner.get(runnerKey) ?? [])]) {
      if (id === exceptJobId) continue;
      if (isRunningOn(id)) out.push(id);
      else this.remove(`${backend}\u0000${id}`, runnerKey, id);
    }
    return out;
  }

  private remove(jobKey: string, runnerKey: string, jobNativeId: string): void {
    this.runnerOf.delete(jobKey);
    const jobs = this.byRunner.get(runnerKey);
    jobs?.delete(jobNativeId);
    if (jobs?.size === 0) this.byRunner.delete(runnerKey);
  }
}
