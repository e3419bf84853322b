import type { JobModel, RunnerModel } from '../model.ts';

/**
 * Neither GitHub nor GitLab sends runner events, so a job event that names its
 * runner is the freshest busy/idle signal there is: RUNNING makes the runner
 * BUSY with that job; a job that leaves RUNNING frees the runner it held.
 * Returns the runner as it should now be, or null when nothing changes.
 * Offline runners stay offline: a job event does not prove the runner is online.
 */
export function overlayRunnerFromJob(runner: RunnerModel, job: JobModel, observedAtMs: number): RunnerModel | null {
  if (runner.state === 'OFFLINE' || runner.state === 'STALE') return null;
  const revision = [Math.max(observedAtMs, (runner.revision[0] ?? 0) + 1)];
  if (job.status === 'RUNNING') {
    if (runner.state === 'BUSY' && runner.currentJobNativeId === job.nativeId) return null;
    return { ...runner, state: 'BUSY', currentJobNativeId: job.nativeId, revision };
  }
  const releases = runner.currentJobNativeId === job.nativeId || (runner.currentJobNativeId === null && runner.state === 'BUSY');
  if (!releases || runner.state === 'IDLE') return null;
  return { ...runner, state: 'IDLE', currentJobNativeId: null, revision };
}

/**
 * Runner listings say a runner is busy but not with what (GitHub's `busy`);
 * keep the job that job events told us about while that job still runs, so
 * every poll does not flap `currentJob` to null and back.
 */
export function keepKnownCurrentJob(incoming: RunnerModel, existing: RunnerModel | undefined, isRunning: (jobNativeId: string) => boolean): RunnerModel {
  if (incoming.state !== 'BUSY' || incoming.currentJobNativeId !== null) return incoming;
  const known = existing?.currentJobNativeId;
  return known && isRunning(known) ? { ...incoming, currentJobNativeId: known } : incoming;
}
