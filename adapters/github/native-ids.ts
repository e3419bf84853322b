/**
 * Native id formats of the GitHub adapter. The core treats them as opaque
 * strings; only this adapter formats and parses them.
 *
 *   Project   owner/repo
 *   Pipeline  owner/repo/runs/<run_id>
 *   Job       owner/repo/jobs/<job_id>
 *   Runner    <runner_id>            (GitHub runner ids are globally unique)
 *   Runner    owner/repo/jobs/<job_id>/runner
 *                                    (GitHub-hosted: a fresh VM per job that no
 *                                    runner listing contains; the job is the only
 *                                    API object that describes it)
 *
 * Owner and repo are lower-cased: GitHub names are case-insensitive, and the
 * same repository reaches us as `Octo-Org/API` from the config and as
 * `octo-org/api` from a payload. One entity must have exactly one id.
 */

/** GitHub owner (user/org) and repository name characters. */
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const REPO = /^[A-Za-z0-9._-]{1,100}$/;
const NUMERIC = /^[1-9][0-9]{0,19}$/;

export interface RepoRef {
  readonly owner: string;
  readonly repo: string;
}

export interface RunRef extends RepoRef {
  readonly runId: string;
}

export interface JobRef extends RepoRef {
  readonly jobId: string;
}

export function isRepoFullName(value: string): boolean {
  return parseProjectId(value) !== null;
}

export function formatProjectId(fullName: string): string {
  return fullName.toLowerCase();
}

export function parseProjectId(id: string): RepoRef | null {
  const parts = id.split('/');
  if (parts.length !== 2) return null;
  const [owner, repo] = parts as [string, string];
  if (!OWNER.test(owner) || !REPO.test(repo) || repo === '.' || repo === '..') return null;
  return { owner: owner.toLowerCase(), repo: repo.toLowerCase() };
}

export function formatPipelineId(projectId: string, runId: string | number | bigint): string {
  return `${formatProjectId(projectId)}/runs/${String(runId)}`;
}

export function parsePipelineId(id: string): RunRef | null {
  const m = /^([^/]+\/[^/]+)\/runs\/([^/]+)$/.exec(id);
  if (!m || !NUMERIC.test(m[2]!)) return null;
  const repo = parseProjectId(m[1]!);
  return repo ? { ...repo, runId: m[2]! } : null;
}

export function formatJobId(projectId: string, jobId: string | number | bigint): string {
  return `${formatProjectId(projectId)}/jobs/${String(jobId)}`;
}

export function parseJobId(id: string): JobRef | null {
  const m = /^([^/]+\/[^/]+)\/jobs\/([^/]+)$/.exec(id);
  if (!m || !NUMERIC.test(m[2]!)) return null;
  const repo = parseProjectId(m[1]!);
  return repo ? { ...repo, jobId: m[2]! } : null;
}

export function formatRunnerId(runnerId: string | number | bigint): string {
  return String(runnerId);
}

export function parseRunnerId(id: string): string | null {
  return NUMERIC.test(id) ? id : null;
}

/** A GitHub-hosted runner is named by the job it ran: GitHub lists it nowhere else. */
export function formatHostedRunnerId(projectId: string, jobId: string | number | bigint): string {
  return `${formatJobId(projectId, jobId)}/runner`;
}

/** The job whose GitHub-hosted runner this is, or null for any other id. */
export function parseHostedRunnerId(id: string): JobRef | null {
  return id.endsWith('/runner') ? parseJobId(id.slice(0, -'/runner'.length)) : null;
}

export function projectIdOf(ref: RepoRef): string {
  return `${ref.owner}/${ref.repo}`;
}

/**
 * `owner/repo` from an API URL such as
 * `https://api.github.com/repos/octo-org/api/actions/runs/1` (also GHES
 * `/api/v3/repos/...`). Fallback when a payload lacks `repository.full_name`.
 */
export function repoFromApiUrl(url: unknown): string | null {
  if (typeof url !== 'string') return null;
  const m = /\/repos\/([^/?#]+)\/([^/?#]+)(?:[/?#]|$)/.exec(url);
  if (!m) return null;
  const ref = parseProjectId(`${m[1]}/${m[2]}`);
  return ref ? projectIdOf(ref) : null;
}
