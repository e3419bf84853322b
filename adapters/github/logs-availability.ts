/**
 * What GitHub offers of a job's log (ADAPTERS.md §14), decided from the job alone. GitHub has no
 * live log API: `GET .../actions/jobs/{job_id}/logs` serves a job's log once it has completed,
 * so a running job is AFTER_COMPLETION (never LIVE); a job that never reached a runner has none.
 */
import type { LogAvailability } from '../../src/adapter-contract.ts';
import { isTerminal, type JobModel } from '../../src/model.ts';

const UNTIL_COMPLETED: LogAvailability = {
  kind: 'AFTER_COMPLETION',
  reason: "GitHub serves a job's log only once the job has completed; live step progress comes through Job.steps and jobUpdated.",
};

const COMPLETED: LogAvailability = {
  kind: 'AFTER_COMPLETION',
  reason: 'The job has completed: GitHub serves its whole log, read once and shared by every watcher.',
};

const NEVER_RAN: LogAvailability = {
  kind: 'NONE',
  reason: 'The job ended without running on a runner (skipped, or cancelled or rejected before it started): GitHub keeps no log for it.',
};

/** Pure: the job's status, runner and steps only. */
export function githubLogAvailability(job: JobModel): LogAvailability {
  if (!isTerminal(job.status)) return UNTIL_COMPLETED;
  return neverRan(job) ? NEVER_RAN : COMPLETED;
}

/**
 * A skipped job (`if:` false, or a failed `needs`) never starts; a job cancelled while queued, or
 * rejected at an environment review, ended with no runner and no steps. Either way there is no log.
 */
function neverRan(job: JobModel): boolean {
  if (job.status === 'SKIPPED') return true;
  return job.runnerNativeId === null && job.runnerName === null && job.steps.length === 0;
}
