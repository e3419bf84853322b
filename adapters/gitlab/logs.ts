import { nullOn404 } from '../../src/adapter-kit/upstream-errors.ts';
import type { BackendLogs, LogAvailability } from '../../src/adapter-contract.ts';
import { TERMINAL_STATUSES, type JobModel } from '../../src/model.ts';
import { seg, type GitlabClient } from './client.ts';
import { parseJobId } from './native-ids.ts';
import { BRIDGE_LABEL } from './normalize.ts';
import type { ProjectDirectory } from './projects.ts';

/**
 * GitLab job logs (ADAPTERS.md §14): `GET /projects/:id/jobs/:job_id/trace` answers the whole
 * trace as text/plain, while the job runs and after it finished. It has no byte ranges, so every
 * read costs the whole trace and the adapter keeps the bytes after the caller's offset; and it
 * never says whether more will come, so `complete` is always false (the core ends the tail from
 * the job's status). GitLab answers 404 for a job it does not know (or a trigger job: the trace
 * route finds builds only) and 200 with an empty body for a build without a trace (not started,
 * erased, expired): null and empty bytes respectively.
 */

/** The runner uploads the trace about every 3 s (gitlab-runner `update_interval`): polling faster only costs requests. */
export const GITLAB_LOG_MIN_POLL_MS = 3_000;

export interface GitlabLogsDeps {
  readonly client: GitlabClient;
  readonly projects: ProjectDirectory;
}

export function createGitlabLogs(deps: GitlabLogsDeps): BackendLogs {
  return {
    availability: gitlabLogAvailability,
    minPollIntervalMs: GITLAB_LOG_MIN_POLL_MS,
    async read(jobNativeId, offset, signal) {
      const ref = parseJobId(jobNativeId);
      // Out of this backend's scope reads like a job GitLab does not know.
      if (!ref || !(await deps.projects.includes(ref.projectId, signal))) return null;
      const trace = await nullOn404(deps.client.getBytes(`/projects/${seg(ref.projectId)}/jobs/${seg(ref.jobId)}/trace`, signal));
      return trace === null ? null : { bytes: bytesAfter(trace, offset), complete: false };
    },
  };
}

/**
 * The bytes of `whole` from byte `offset` on, copied: a chunk the core keeps in its ring must not
 * pin the whole multi-MB trace it was cut from. Never decoded, so a multi-byte character split by
 * the offset stays split. An offset at or past the end (or not a usable number) gives what a
 * reader at that offset has not seen: nothing past the end, everything before 0.
 */
export function bytesAfter(whole: Uint8Array, offset: number): Uint8Array {
  const from = Number.isFinite(offset) ? Math.max(0, Math.floor(offset)) : offset > 0 ? whole.length : 0;
  return whole.slice(Math.min(from, whole.length));
}

const LIVE_RUNNING: LogAvailability = {
  kind: 'LIVE',
  reason: 'GitLab serves this log while the job runs; the runner uploads new output about every 3 seconds.',
};
const LIVE_FINISHED: LogAvailability = { kind: 'LIVE', reason: 'The job has finished; GitLab serves its whole log.' };
const LIVE_AFTER_SCRIPT: LogAvailability = {
  kind: 'LIVE',
  reason: 'The job ran its script and waits for an external callback; GitLab serves the log it wrote.',
};
const NONE_BRIDGE: LogAvailability = {
  kind: 'NONE',
  reason: 'A trigger job has no log of its own: read the logs of its downstream pipeline\'s jobs.',
};
const NONE_SKIPPED: LogAvailability = { kind: 'NONE', reason: 'The job was skipped, so it never ran and has no log.' };
const NONE_ENDED_UNSTARTED: LogAvailability = {
  kind: 'NONE',
  reason: 'The job ended before a runner started it, so it has no log; retry it to get one.',
};
const NONE_NOT_STARTED: LogAvailability = {
  kind: 'NONE',
  reason: 'The job has not started yet (waiting for its stage, a runner, a person or a schedule); its log appears once a runner picks it up.',
};

/**
 * Pure: what GitLab serves for `job` now. Running (or canceling, the runner still uploads): LIVE.
 * Started and then finished, or waiting for a callback after its script: LIVE too, the whole log
 * is readable (and the core reads it once). Never started, skipped, or a trigger job: NONE.
 */
export function gitlabLogAvailability(job: JobModel): LogAvailability {
  if (job.labels.includes(BRIDGE_LABEL)) return NONE_BRIDGE;
  if (job.status === 'RUNNING' || job.status === 'CANCELING') return LIVE_RUNNING;
  if (job.status === 'SKIPPED') return NONE_SKIPPED;
  if (job.startedAt === null) return TERMINAL_STATUSES.has(job.status) ? NONE_ENDED_UNSTARTED : NONE_NOT_STARTED;
  return TERMINAL_STATUSES.has(job.status) ? LIVE_FINISHED : LIVE_AFTER_SCRIPT;
}
