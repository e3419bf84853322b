/**
 * Buildkite job logs (issue 17, ADAPTERS.md §14, adapters/buildkite/LOGS.md): the job log endpoint
 * `GET /v2/organizations/{org}/pipelines/{slug}/builds/{n}/jobs/{id}/log.txt`, readable while the
 * job runs (the agent streams its output up in chunks) and after. A live tail asks only for the
 * bytes past its offset (`Range`, logs-http.ts). Reads use the read token, which needs the
 * `read_build_logs` scope on top of `read_builds`.
 *
 * Bytes are returned raw: ANSI colours, Buildkite's group headers (`--- `, `+++ `, `~~~ `,
 * `^^^ +++`) and the timestamp each line starts with when the agent writes them
 * (`ESC _ bk;t=<unix ms> BEL`, an APC sequence) are kept, never decoded or removed, so offsets are
 * Buildkite's byte offsets. Removing them for display is the core's (src/logs/strip-ansi.ts).
 *
 * Wiring (index.ts), one line:
 *
 *   logs: createBuildkiteLogs({ backend: ctx.name, organization: config.organization, url: config.url, token,
 *     timeoutMs: config.requestTimeoutMs, now: ctx.now, covers: (slug) => <slug in the configured pipelines> }),
 */
import type { BackendLogs, LogAvailability, LogRead } from '../../src/adapter-contract.ts';
import { RateLimitWait } from '../../src/adapter-kit/rate-limit-wait.ts';
import { TERMINAL_STATUSES, type JobModel } from '../../src/model.ts';
import { BuildkiteLogClient } from './logs-http.ts';
import { parseJobId } from './native-ids.ts';

export interface BuildkiteLogsDeps {
  readonly backend: string;
  readonly organization: string;
  /** The backend's `url` (https://api.buildkite.com); the log path is `/v2/...` below it. */
  readonly url: string;
  /** The resolved READ token (`token`), never the write token. */
  readonly token: string;
  readonly timeoutMs: number;
  readonly now: () => Date;
  /** Whether a pipeline slug lies inside the configured set (no request, null, for one outside). */
  readonly covers: (slug: string) => boolean;
  /** The read client's RateLimitWait, to share its pause (the per-user limit counts every request of the token). */
  readonly rateLimit?: RateLimitWait;
  readonly fetch?: typeof fetch;
}

/**
 * Buildkite allows 50 REST requests a minute per user by default (reference §1.2), shared with the
 * polls of the same token: a tail every 5 s costs 12 of them. The agent sends output up in
 * chunks every few seconds anyway, so reading faster would mostly find nothing new.
 */
export const BUILDKITE_LOG_MIN_POLL_MS = 5_000;

export function logPath(organization: string, jobNativeId: string): string | null {
  const ref = parseJobId(jobNativeId);
  if (!ref) return null;
  const seg = encodeURIComponent;
  return `/v2/organizations/${seg(organization)}/pipelines/${seg(ref.slug)}/builds/${ref.number}/jobs/${seg(ref.jobId)}/log.txt`;
}

export function createBuildkiteLogs(deps: BuildkiteLogsDeps): BackendLogs {
  const client = new BuildkiteLogClient({
    backend: deps.backend, baseUrl: deps.url, token: deps.token, timeoutMs: deps.timeoutMs, now: deps.now,
    rateLimit: deps.rateLimit ?? new RateLimitWait(deps.backend, 'Buildkite', deps.now),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });
  return {
    availability: buildkiteLogAvailability,
    minPollIntervalMs: BUILDKITE_LOG_MIN_POLL_MS,
    async read(jobNativeId, offset, signal): Promise<LogRead | null> {
      const ref = parseJobId(jobNativeId);
      const path = logPath(deps.organization, jobNativeId);
      // Malformed or outside the configured pipelines: no log here, and no request.
      if (!ref || !path || !deps.covers(ref.slug) || !Number.isSafeInteger(offset) || offset < 0) return null;
      const bytes = await client.bytesFrom(path, offset, signal);
      // Buildkite never says a log is complete: the core ends the tail from the job's state.
      return bytes === null ? null : { bytes, complete: false };
    },
  };
}

const LIVE_RUNNING: LogAvailability = {
  kind: 'LIVE',
  reason: 'Buildkite serves this log while the job runs; the agent sends new output up every few seconds.',
};
const LIVE_FINISHED: LogAvailability = { kind: 'LIVE', reason: 'The job has finished; Buildkite serves its whole log.' };
const NONE_BLOCK: LogAvailability = { kind: 'NONE', reason: 'A block step waits for someone to unblock it; it never runs on an agent, so it has no log.' };
const NONE_NEVER_RAN: LogAvailability = {
  kind: 'NONE',
  reason: 'The job ended before an agent ran it (skipped, broken by a branch or if condition, expired, or canceled while waiting), so it has no log; retry it to get one.',
};
const NONE_NOT_STARTED: LogAvailability = {
  kind: 'NONE',
  reason: 'The job has not started yet (waiting for earlier steps, a concurrency slot or an agent); its log appears once an agent runs it.',
};

/** Block step (`type: manual`) states: they never have a log. */
const BLOCK_STATES = new Set(['blocked', 'unblocked', 'blocked_failed', 'unblocked_failed']);

/** Pure: what Buildkite serves of `job`'s log now, from its state and whether it started. */
export function buildkiteLogAvailability(job: JobModel): LogAvailability {
  if (BLOCK_STATES.has(job.native.status ?? '')) return NONE_BLOCK;
  // A running job has a log even if its start time is not known yet.
  if (job.startedAt === null && job.status !== 'RUNNING') return TERMINAL_STATUSES.has(job.status) ? NONE_NEVER_RAN : NONE_NOT_STARTED;
  return TERMINAL_STATUSES.has(job.status) ? LIVE_FINISHED : LIVE_RUNNING;
}
