import type {
  ActorModel, CiStatus, JobModel, NativeStatus, PipelineModel, ProjectModel, Revision, RunnerModel, RunnerScope, StepModel,
} from '../../src/model.ts';
import { isTerminal } from '../../src/model.ts';
import {
  asRecord, bool, GithubPayloadError, idString, int, isoTime, nonEmpty, str, stringArray, timeMs, type Loose,
} from './fields.ts';
import {
  formatHostedRunnerId, formatJobId, formatPipelineId, formatProjectId, formatRunnerId, isRepoFullName, parseHostedRunnerId, repoFromApiUrl,
} from './native-ids.ts';
import { mapJobStatus, mapRunnerState, mapRunStatus, mapStepStatus } from './status-map.ts';
import type { JobPayload, RepoPayload, RunnerPayload, RunPayload } from './upstream-types.ts';

/**
 * Pure GitHub → unified model functions. Total over noisy input: wrong types
 * and missing optional fields read as null; only a missing id (nothing to name
 * the entity by) throws GithubPayloadError.
 */

function loose(value: unknown): Loose {
  return asRecord(value) ?? {};
}

function native(status: unknown, conclusion: unknown): NativeStatus {
  return { provider: 'github', status: str(status), conclusion: str(conclusion), failureReason: null };
}

/** Not started yet: GitHub pre-fills start times for these, we do not. */
function isPreStart(status: CiStatus): boolean {
  return status === 'PENDING' || status === 'QUEUED' || status === 'WAITING';
}

function repoOf(explicit: string | null | undefined, ...fallbacks: unknown[]): string | null {
  if (explicit && isRepoFullName(explicit)) return formatProjectId(explicit);
  for (const f of fallbacks) {
    const r = asRecord(f);
    const full = r ? str(r.full_name) : null;
    if (full && isRepoFullName(full)) return formatProjectId(full);
    const fromUrl = repoFromApiUrl(f);
    if (fromUrl) return fromUrl;
  }
  return null;
}

export function toProject(backend: string, repo: RepoPayload): ProjectModel {
  const r = loose(repo);
  const fullName = str(r.full_name);
  if (!fullName || !isRepoFullName(fullName)) throw new GithubPayloadError('repository', 'full_name');
  return {
    type: 'Project',
    backend,
    nativeId: formatProjectId(fullName),
    revision: [timeMs(r.updated_at)],
    name: nonEmpty(r.name) ?? fullName.slice(fullName.indexOf('/') + 1),
    fullName,
    url: str(r.html_url),
    defaultBranch: str(r.default_branch),
  };
}

function toActor(value: unknown): ActorModel | null {
  const a = asRecord(value);
  const login = a ? nonEmpty(a.login) : null;
  if (!a || !login) return null;
  return { login, url: str(a.html_url), avatarUrl: str(a.avatar_url) };
}

/** The git ref the run built, as far as the run object tells. */
function runRef(r: Loose): string | null {
  const event = str(r.event);
  const branch = nonEmpty(r.head_branch);
  const prs = Array.isArray(r.pull_requests) ? r.pull_requests : [];
  const pr = asRecord(prs[0]);
  if (event === 'pull_request') {
    // Same-repo PRs list the PR; fork PRs have an empty list, so the merge ref is unknown.
    const n = pr ? int(pr.number) : null;
    return n !== null ? `refs/pull/${n}/merge` : null;
  }
  if (event === 'pull_request_target') {
    const base = pr ? nonEmpty(asRecord(pr.base)?.ref) : null;
    return base ? `refs/heads/${base}` : null;
  }
  if (!branch) return null;
  // For release events head_branch holds the tag name.
  return event === 'release' ? `refs/tags/${branch}` : `refs/heads/${branch}`;
}

/** Runs: every pre-start state shares a rank, so `updated_at` orders them. */
function runPhaseRank(status: CiStatus): number {
  if (isTerminal(status)) return 2;
  if (status === 'RUNNING' || status === 'CANCELING') return 1;
  return 0; // PENDING, QUEUED, WAITING (incl. action_required), UNKNOWN
}

export function toPipeline(backend: string, run: RunPayload, repoFullName?: string | null): PipelineModel {
  const r = loose(run);
  const runId = idString(r.id);
  if (!runId) throw new GithubPayloadError('workflow_run', 'id');
  const project = repoOf(repoFullName, r.repository, r.url, r.html_url);
  if (!project) throw new GithubPayloadError('workflow_run', 'repository');
  const { status, waitReason } = mapRunStatus(r.status, r.conclusion);
  const attempt = Math.max(1, int(r.run_attempt) ?? 1);
  const createdAt = isoTime(r.created_at) ?? isoTime(r.updated_at) ?? new Date(0).toISOString();
  const updatedAt = isoTime(r.updated_at);
  const runStartedAt = isoTime(r.run_started_at);
  return {
    type: 'Pipeline',
    backend,
    nativeId: formatPipelineId(project, runId),
    revision: [attempt, runPhaseRank(status), timeMs(r.updated_at)],
    projectNativeId: project,
    number: int(r.run_number),
    name: nonEmpty(r.name) ?? nonEmpty(r.display_title),
    // A run's inputs are never exposed; a run-name built from them shows them here.
    title: nonEmpty(r.display_title),
    status,
    waitReason,
    native: native(r.status, r.conclusion),
    attempt,
    url: str(r.html_url),
    branch: nonEmpty(r.head_branch),
    ref: runRef(r),
    commitSha: nonEmpty(r.head_sha),
    event: nonEmpty(r.event),
    actor: toActor(r.triggering_actor) ?? toActor(r.actor),
    createdAt,
    // A re-run attempt is queued when it is requested (run_started_at resets
    // per attempt), not when attempt 1 was created.
    queuedAt: attempt > 1 ? (runStartedAt ?? createdAt) : createdAt,
    // GitHub sets run_started_at = created_at even while queued.
    startedAt: isPreStart(status) ? null : runStartedAt,
    // Runs have no completed_at; the last update of a finished run is its end.
    finishedAt: isTerminal(status) ? updatedAt : null,
    updatedAt,
  };
}

export function toStep(step: unknown, index: number): StepModel {
  const s = loose(step);
  const { status } = mapStepStatus(s.status, s.conclusion);
  return {
    number: int(s.number) ?? index + 1,
    name: str(s.name) ?? `step ${index + 1}`,
    status,
    native: native(s.status, s.conclusion),
    startedAt: isPreStart(status) ? null : isoTime(s.started_at),
    finishedAt: isoTime(s.completed_at),
  };
}

/**
 * Jobs have no updated_at, so the phase carries the order. Holds (pending =
 * concurrency, waiting = environment approval) rank above `queued`: GitHub
 * may report a job queued first and then held, and a late `queued` must not
 * hide a hold that can last hours. Once started, in_progress beats every
 * pre-start state and completed beats everything.
 */
const JOB_PHASE: Readonly<Record<string, number>> = {
  requested: 0, queued: 1, pending: 2, waiting: 2, in_progress: 3, completed: 4,
};

function jobPhaseRank(rawStatus: unknown, status: CiStatus): number {
  if (typeof rawStatus === 'string' && Object.hasOwn(JOB_PHASE, rawStatus)) return JOB_PHASE[rawStatus]!;
  if (isTerminal(status)) return 4;
  return status === 'RUNNING' ? 3 : 0;
}

/**
 * GitHub-hosted runners sit in the runner group "GitHub Actions": github.com
 * reports it with id 0 today (`runner_group_id: 0`), older payloads (and
 * @octokit/webhooks-examples) with id 2, so the name decides and id 0 alone
 * suffices. Self-hosted groups start at id 1 ("Default") and cannot take the
 * reserved name. Larger runners sit in their own groups and are not detected.
 */
export const GITHUB_HOSTED_GROUP_NAME = 'GitHub Actions';

function isGithubHostedGroup(j: Loose): boolean {
  return str(j.runner_group_name) === GITHUB_HOSTED_GROUP_NAME || int(j.runner_group_id) === 0;
}

/** Grows as steps start and finish, so step progress inside one phase is newer. */
function stepProgress(steps: readonly StepModel[]): number {
  let n = 0;
  for (const s of steps) n += isTerminal(s.status) ? 2 : s.status === 'RUNNING' ? 1 : 0;
  return n;
}

export function toJob(backend: string, job: JobPayload, repoFullName?: string | null): JobModel {
  const j = loose(job);
  const jobId = idString(j.id);
  if (!jobId) throw new GithubPayloadError('workflow_job', 'id');
  const runId = idString(j.run_id);
  if (!runId) throw new GithubPayloadError('workflow_job', 'run_id');
  const project = repoOf(repoFullName, j.url, j.run_url, j.html_url);
  if (!project) throw new GithubPayloadError('workflow_job', 'repository');
  const { status, waitReason } = mapJobStatus(j.status, j.conclusion);
  const preStart = isPreStart(status);
  const steps = (Array.isArray(j.steps) ? j.steps : []).map((s, i) => toStep(s, i));
  const createdAt = isoTime(j.created_at);
  const startedAt = preStart ? null : isoTime(j.started_at);
  const finishedAt = isoTime(j.completed_at);
  // runner_* are documented null while queued; real payloads sometimes carry junk.
  const runnerId = preStart ? null : idString(j.runner_id);
  const runnerName = preStart ? null : nonEmpty(j.runner_name);
  // A GitHub-hosted runner is listed nowhere: name it by its job, so it can be read again.
  const hosted = (runnerId !== null || runnerName !== null) && isGithubHostedGroup(j);
  const runnerNativeId = hosted ? formatHostedRunnerId(project, jobId) : runnerId ? formatRunnerId(runnerId) : null;
  return {
    type: 'Job',
    backend,
    nativeId: formatJobId(project, jobId),
    revision: [
      jobPhaseRank(j.status, status),
      timeMs(j.completed_at) || timeMs(j.started_at) || timeMs(j.created_at),
      stepProgress(steps),
    ],
    projectNativeId: project,
    pipelineNativeId: formatPipelineId(project, runId),
    name: nonEmpty(j.name) ?? `job ${jobId}`,
    status,
    waitReason,
    native: native(j.status, j.conclusion),
    attempt: Math.max(1, int(j.run_attempt) ?? 1),
    url: str(j.html_url),
    labels: stringArray(j.labels),
    runnerNativeId,
    runnerName,
    branch: nonEmpty(j.head_branch),
    createdAt,
    queuedAt: createdAt,
    // GitHub sets started_at = created_at for jobs that have not started.
    startedAt,
    finishedAt,
    steps,
  };
}

export function toRunner(backend: string, runner: RunnerPayload, scope: RunnerScope, observedAtMs: number): RunnerModel {
  const r = loose(runner);
  const id = idString(r.id);
  if (!id) throw new GithubPayloadError('runner', 'id');
  const busy = bool(r.busy);
  const labels = (Array.isArray(r.labels) ? r.labels : [])
    .map((l) => (typeof l === 'string' ? l : str(asRecord(l)?.name)))
    .filter((l): l is string => l !== null);
  const revision: Revision = [Number.isFinite(observedAtMs) ? observedAtMs : 0];
  return {
    type: 'Runner',
    backend,
    nativeId: formatRunnerId(id),
    revision,
    name: str(r.name) ?? `runner ${id}`,
    state: mapRunnerState(r.status, r.busy),
    paused: false, // GitHub has no pause for self-hosted runners
    labels,
    os: nonEmpty(r.os),
    scope,
    ephemeral: bool(r.ephemeral),
    version: nonEmpty(r.version),
    currentJobNativeId: null, // the runner API does not say which job
    native: { provider: 'github', status: str(r.status), conclusion: busy === null ? null : busy ? 'busy' : 'idle', failureReason: null },
  };
}

/** The OS of a GitHub-hosted image label (`ubuntu-latest`, `windows-2022`, `macos-14`). */
function hostedOs(labels: readonly string[]): string | null {
  for (const label of labels) {
    const l = label.toLowerCase();
    if (l.startsWith('ubuntu-')) return 'Linux';
    if (l.startsWith('windows-')) return 'Windows';
    if (l.startsWith('macos-')) return 'macOS';
  }
  return null;
}

/**
 * The GitHub-hosted runner of a job, built from what the job says (GitHub has
 * no API that lists or reads one): one fresh VM per job, BUSY while the job
 * runs and OFFLINE once it has finished (GitHub discards the VM; it never takes
 * another job). Null for jobs on self-hosted runners, which listings describe.
 * Its revision is the job's, so a newer job observation gives a newer runner.
 */
export function hostedRunnerOf(job: JobModel): RunnerModel | null {
  const id = job.runnerNativeId;
  if (!id || !parseHostedRunnerId(id)) return null;
  const running = job.status === 'RUNNING' || job.status === 'CANCELING';
  return {
    type: 'Runner',
    backend: job.backend,
    nativeId: id,
    revision: job.revision,
    name: job.runnerName ?? GITHUB_HOSTED_GROUP_NAME,
    state: running ? 'BUSY' : isTerminal(job.status) ? 'OFFLINE' : 'UNKNOWN',
    paused: false,
    labels: job.labels,
    os: hostedOs(job.labels),
    scope: 'INSTANCE',
    ephemeral: true,
    version: null,
    currentJobNativeId: running ? job.nativeId : null,
    // GitHub reports no status for hosted runners; nothing native to keep.
    native: { provider: 'github', status: null, conclusion: null, failureReason: null },
    hosted: true,
  };
}
