import type { JobModel, RunnerModel } from '../model.ts';

export interface RunnerOverlayContext {
  /** Other jobs known to be RUNNING on this runner now (RunnerJobs). */
  readonly othersRunning?: readonly string[];
  /**
   * The runner may run several jobs at once (GitLab): when it is BUSY with
   * work the gateway cannot name (a listing said busy, no known job runs on
   * it), a job event neither frees it nor claims its busy state; its next
   * listing decides.
   */
  readonly severalJobs?: boolean;
}

/**
 * Neither GitHub nor GitLab sends runner events, so a job event that names its
 * runner is the freshest busy/idle signal there is: RUNNING makes the runner
 * BUSY with that job; a job that leaves RUNNING frees the runner it held,
 * unless another job still runs on it (then that one becomes its current job).
 * Returns the runner as it should now be, or null when nothing changes.
 * Offline runners stay offline: a job event does not prove the runner is online.
 */
export function overlayRunnerFromJob(runner: RunnerModel, job: JobModel, observedAtMs: number, context: RunnerOverlayContext = {}): RunnerModel | null {
  if (runner.state === 'OFFLINE' || runner.state === 'STALE') return null;
  const others = context.othersRunning ?? [];
  const revision = [Math.max(observedAtMs, (runner.revision[0] ?? 0) + 1)];
  const busyWith = (jobNativeId: string): RunnerModel => ({ ...runner, state: 'BUSY', currentJobNativeId: jobNativeId, revision });
  const unknownWork = runner.state === 'BUSY' && runner.currentJobNativeId === null;
  if (job.status === 'RUNNING') {
    if (runner.state === 'BUSY' && runner.currentJobNativeId === job.nativeId) return null;
    // Still busy with another job that runs: one current job is enough, no flip.
    if (runner.state === 'BUSY' && runner.currentJobNativeId !== null && others.includes(runner.currentJobNativeId)) return null;
    if (unknownWork && context.severalJobs) return null;
    return busyWith(job.nativeId);
  }
  const held = runner.currentJobNativeId === job.nativeId;
  if (!held && !unknownWork) return null;
  const next = others[0];
  if (next !== undefined) return busyWith(next);
  if (unknownWork && context.severalJobs) return null;
  if (runner.state === 'IDLE') return null;
  return { ...runner, state: 'IDLE', currentJobNativeId: null, revision };
}

/**
 * Runner listings say a runner is busy but not with what (GitHub's `busy`,
 * GitLab's `job_execution_status`); name the job that job events told us
 * about while it still runs (the runner's current one first, else another
 * known to run on it), so every poll does not flap `currentJob` to null and back.
 */
export function keepKnownCurrentJob(
  incoming: RunnerModel,
  existing: RunnerModel | undefined,
  isRunning: (jobNativeId: string) => boolean,
  knownRunning: readonly string[] = [],
): RunnerModel {
  if (incoming.state !== 'BUSY' || incoming.currentJobNativeId !== null) return incoming;
  const known = existing?.currentJobNativeId;
  if (known && isRunning(known)) return { ...incoming, currentJobNativeId: known };
  const other = knownRunning.find(isRunning);
  return other ? { ...incoming, currentJobNativeId: other } : incoming;
}
