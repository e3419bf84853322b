/**
 * Job logs (issue 17, ADAPTERS.md §14). GitHub has no live log: once a job has completed,
 * `GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs` answers 302 with a signed URL on another
 * host, valid about a minute. The API request carries the read token (through GithubClient, so
 * the concurrency cap and rate-limit waits apply); the URL is then fetched without it
 * (log-download.ts). GitHub has no byte ranges: the whole log is read and the bytes after
 * `offset` returned, which the core does once per completed job.
 */
import type { BackendLogs, LogRead } from '../../src/adapter-contract.ts';
import { UpstreamError } from '../../src/errors.ts';
import type { GithubClient } from './client.ts';
import { downloadSignedLog, type DownloadDeps } from './log-download.ts';
import { githubLogAvailability } from './logs-availability.ts';
import { parseJobId, projectIdOf, type JobRef } from './native-ids.ts';

const LOG_ROUTE = 'GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs';
/** The core reads a GitHub log once, after completion; this only bounds a retry loop. */
const MIN_POLL_INTERVAL_MS = 5_000;

export interface GithubLogsDeps extends DownloadDeps {
  readonly client: Pick<GithubClient, 'redirectOf'>;
  /** Whether a repository is inside the configured set (no request for one that is not). */
  readonly covers: (projectId: string) => boolean;
}

export function createGithubLogs(deps: GithubLogsDeps): BackendLogs {
  return {
    availability: githubLogAvailability,
    read: (jobNativeId, offset, signal) => readJobLog(deps, jobNativeId, offset, signal),
    minPollIntervalMs: MIN_POLL_INTERVAL_MS,
  };
}

/** Pure: the bytes of `whole` from `offset` on (a view, never a copy); empty at or past the end. */
export function bytesAfter(whole: Uint8Array, offset: number): Uint8Array {
  const from = Number.isFinite(offset) ? Math.min(whole.length, Math.max(0, Math.floor(offset))) : 0;
  return whole.subarray(from);
}

async function readJobLog(deps: GithubLogsDeps, jobNativeId: string, offset: number, signal: AbortSignal): Promise<LogRead | null> {
  const ref = parseJobId(jobNativeId);
  if (!ref || !deps.covers(projectIdOf(ref))) return null;
  const whole = await wholeLog(deps, ref, signal);
  // GitHub serves only finished logs: what it served is all there will be.
  return whole && { bytes: bytesAfter(whole, offset), complete: true };
}

/**
 * The whole log, or null when GitHub has none (unknown job, not completed yet, expired). A signed
 * URL refused by the storage (it expired: a slow queue, clock skew) is asked for afresh once;
 * refused twice, the read fails with the storage's reason.
 */
async function wholeLog(deps: GithubLogsDeps, ref: JobRef, signal: AbortSignal): Promise<Buffer | null> {
  for (let attempt = 1; ; attempt++) {
    const url = await nullWhenNoLog(deps.client.redirectOf(LOG_ROUTE, { owner: ref.owner, repo: ref.repo, job_id: ref.jobId }, signal));
    if (!url) return null;
    const download = await downloadSignedLog(url, deps, signal);
    if (download.kind === 'log') return download.bytes;
    if (download.kind === 'gone') return null;
    if (attempt >= 2) throw download.error;
  }
}

/** 404: no such job, or no log yet (GitHub answers so while the job runs); 410: the log expired. */
async function nullWhenNoLog<T>(request: Promise<T>): Promise<T | null> {
  try {
    return await request;
  } catch (error) {
    if (error instanceof UpstreamError && (error.details.status === 404 || error.details.status === 410)) return null;
    throw error;
  }
}
