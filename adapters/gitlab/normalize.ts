import type {
  ActorModel, CiStatus, JobModel, NativeStatus, PipelineModel, ProjectModel, RunnerModel, RunnerScope,
} from '../../src/model.ts';
import { isTerminal } from '../../src/model.ts';
import {
  asRecord, bool, GitlabPayloadError, idString, int, isoTime, loose, nonEmpty, parseTimeMs, str, stringArray, timeSec, type Loose,
} from './fields.ts';
import { commitTitleOf } from './commit-titles.ts';
import { formatJobId, formatPipelineId, formatProjectId, formatRunnerId } from './native-ids.ts';
import { effectiveFailureReason, mapJobStatus, mapPipelineStatus, mapRunnerState, runnerPaused } from './status-map.ts';

/**
 * Pure GitLab → unified model functions, for REST objects and hook payloads.
 * Total over noisy input: wrong types read as null; only a missing id throws
 * GitlabPayloadError.
 *
 * Revisions (never from arrival time, ADAPTERS.md §4):
 * - Pipeline `[lastChangeSec, phase, detail]`: the newest upstream timestamp
 *   the observation carries, in whole seconds (hooks have second precision,
 *   REST milliseconds): REST `updated_at`; hooks the max of created/finished
 *   and every build's created/started/finished. A pipeline may legitimately go
 *   back to `running` (a job retried) or to `manual`, so time leads and the
 *   lifecycle phase only breaks ties within a second. `detail` is 0 for REST
 *   list items, which lack `detailed_status` and so cannot tell UNSTABLE: they
 *   never replace a same-second observation that could.
 * - Job `[phase, lastChangeSec]`: one job id moves forward only
 *   (created → manual/scheduled → waiting_for_resource → pending/preparing →
 *   running → waiting_for_callback → canceling → finished); a retry is a NEW job id. `skipped` ranks
 *   with `created` because GitLab resets skipped jobs to created when an
 *   earlier job is retried (Ci::ResetSkippedJobsService).
 */

export type Source = 'rest' | 'hook';

function native(status: unknown, failureReason: string | null): NativeStatus {
  return { provider: 'gitlab', status: str(status), conclusion: null, failureReason };
}

function isPreStart(status: CiStatus): boolean {
  return status === 'PENDING' || status === 'QUEUED' || status === 'WAITING';
}

function refOf(ref: string | null, tag: boolean | null): { branch: string | null; ref: string | null } {
  if (!ref) return { branch: null, ref: null };
  if (ref.startsWith('refs/')) {
    const head = /^refs\/heads\/(.+)$/.exec(ref);
    return { branch: head ? head[1]! : null, ref };
  }
  return tag ? { branch: null, ref: `refs/tags/${ref}` } : { branch: ref, ref: `refs/heads/${ref}` };
}

function toActor(value: unknown): ActorModel | null {
  const u = asRecord(value);
  const login = u ? nonEmpty(u.username) : null;
  if (!u || !login) return null;
  return { login, url: str(u.web_url), avatarUrl: str(u.avatar_url) };
}

// ---------------------------------------------------------------- projects

export function toProject(backend: string, project: unknown): ProjectModel {
  const p = loose(project);
  const id = idString(p.id);
  if (!id) throw new GitlabPayloadError('project', 'id');
  const fullName = nonEmpty(p.path_with_namespace) ?? nonEmpty(p.name_with_namespace) ?? `project ${id}`;
  return {
    type: 'Project',
    backend,
    nativeId: formatProjectId(id),
    revision: [timeSec(p.last_activity_at, p.updated_at, p.created_at)],
    name: nonEmpty(p.name) ?? nonEmpty(p.path) ?? fullName,
    fullName,
    url: str(p.web_url),
    defaultBranch: str(p.default_branch),
  };
}

// ---------------------------------------------------------------- pipelines

function pipelinePhase(status: CiStatus): number {
  if (isTerminal(status)) return 3;
  if (status === 'CANCELING') return 2;
  if (status === 'PENDING' || status === 'QUEUED') return 0;
  return 1; // RUNNING, WAITING (a pipeline waits on manual jobs after running), UNKNOWN
}

interface PipelineFields {
  readonly projectId: string;
  readonly id: string;
  readonly p: Loose;
  readonly status: unknown;
  readonly detailed: unknown;
  readonly lastChangeSec: number;
  readonly detailKnown: boolean;
  readonly url: string | null;
  readonly actor: ActorModel | null;
  readonly updatedAt: string | null;
  /** The commit's title when known (hooks carry it; REST pipelines do not). */
  readonly commitTitle: string | null;
}

/**
 * What GitLab shows for a pipeline: its `name` (workflow:name), else the
 * commit title, else the ref. GitLab pipelines without workflow:name have
 * `name: null`.
 */
function displayName(p: Loose, commitTitle: string | null): string | null {
  return nonEmpty(p.name) ?? commitTitle ?? nonEmpty(p.ref);
}

/**
 * GitLab has no separate conclusion: a finished pipeline's is its
 * `detailed_status.group` (`success-with-warnings` for "passed with
 * warnings", else the status), one vocabulary for REST and hooks (whose
 * `detailed_status` is the label text). Not finished: null.
 */
function pipelineConclusion(status: CiStatus, nativeStatus: string | null): string | null {
  if (!isTerminal(status)) return null;
  return status === 'UNSTABLE' ? 'success-with-warnings' : nativeStatus;
}

function pipelineModel(backend: string, f: PipelineFields): PipelineModel {
  const { p } = f;
  const { status, waitReason } = mapPipelineStatus(f.status, f.detailed);
  const createdAt = isoTime(p.created_at) ?? f.updatedAt ?? new Date(0).toISOString();
  const { branch, ref } = refOf(nonEmpty(p.ref), bool(p.tag));
  return {
    type: 'Pipeline',
    backend,
    nativeId: formatPipelineId(f.projectId, f.id),
    revision: [f.lastChangeSec, pipelinePhase(status), f.detailKnown ? 1 : 0],
    projectNativeId: formatProjectId(f.projectId),
    number: int(p.iid),
    name: displayName(p, f.commitTitle),
    status,
    waitReason,
    native: { provider: 'gitlab', status: str(f.status), conclusion: pipelineConclusion(status, str(f.status)), failureReason: null },
    attempt: 1,
    url: f.url,
    branch,
    ref,
    commitSha: nonEmpty(p.sha),
    event: nonEmpty(p.source),
    actor: f.actor,
    createdAt,
    queuedAt: createdAt,
    startedAt: isPreStart(status) ? null : isoTime(p.started_at),
    finishedAt: isTerminal(status) ? isoTime(p.finished_at) ?? f.updatedAt : null,
    updatedAt: f.updatedAt,
  };
}

/**
 * REST pipeline: a list item (no detailed_status) or the single-pipeline
 * object. Neither carries the commit title: pass it when known (CommitTitles).
 */
export function toPipeline(backend: string, pipeline: unknown, projectIdHint?: string | null, commitTitle: string | null = null): PipelineModel {
  const p = loose(pipeline);
  const id = idString(p.id);
  if (!id) throw new GitlabPayloadError('pipeline', 'id');
  const projectId = idString(p.project_id) ?? (projectIdHint ? idString(projectIdHint) : null);
  if (!projectId) throw new GitlabPayloadError('pipeline', 'project_id');
  const detailKnown = asRecord(p.detailed_status) !== null;
  return pipelineModel(backend, {
    projectId, id, p,
    status: p.status,
    detailed: p.detailed_status,
    lastChangeSec: timeSec(p.updated_at, p.finished_at, p.started_at, p.created_at),
    detailKnown,
    url: str(p.web_url),
    actor: toActor(p.user),
    updatedAt: isoTime(p.updated_at),
    commitTitle,
  });
}

/** Pipeline Hook (`object_kind: pipeline`): the pipeline and its builds[] as jobs. */
export function fromPipelineHook(backend: string, payload: unknown): { pipeline: PipelineModel; jobs: JobModel[] } {
  const body = loose(payload);
  const attrs = loose(body.object_attributes);
  const id = idString(attrs.id);
  if (!id) throw new GitlabPayloadError('pipeline hook', 'object_attributes.id');
  const projectId = idString(asRecord(body.project)?.id);
  if (!projectId) throw new GitlabPayloadError('pipeline hook', 'project.id');
  const builds = Array.isArray(body.builds) ? body.builds : [];
  const buildTimes = builds.flatMap((b) => {
    const x = loose(b);
    return [x.created_at, x.started_at, x.finished_at];
  });
  const user = asRecord(body.user);
  const pipeline = pipelineModel(backend, {
    projectId, id, p: attrs,
    status: attrs.status,
    detailed: attrs.detailed_status,
    lastChangeSec: timeSec(attrs.created_at, attrs.finished_at, ...buildTimes),
    detailKnown: true,
    url: str(attrs.url),
    actor: user && nonEmpty(user.username) ? { login: nonEmpty(user.username)!, url: null, avatarUrl: str(user.avatar_url) } : null,
    updatedAt: null,
    commitTitle: commitTitleOf(body.commit),
  });
  const jobs: JobModel[] = [];
  for (const b of builds) {
    try {
      jobs.push(toJobFromHookBuild(backend, b, projectId, id, attrs));
    } catch (error) {
      if (!(error instanceof GitlabPayloadError)) throw error;
    }
  }
  return { pipeline, jobs };
}

// ---------------------------------------------------------------- jobs

// `waiting_for_callback` follows `running` (the script ended, an external callback is due).
const JOB_PHASE: Readonly<Record<string, number>> = {
  created: 0, skipped: 0, manual: 1, scheduled: 1, waiting_for_resource: 2,
  pending: 3, preparing: 3, running: 4, waiting_for_callback: 4.5, canceling: 5, success: 6, failed: 6, canceled: 6,
};

function jobPhase(rawStatus: unknown, status: CiStatus): number {
  if (typeof rawStatus === 'string' && Object.hasOwn(JOB_PHASE, rawStatus)) return JOB_PHASE[rawStatus]!;
  if (isTerminal(status)) return 6;
  return status === 'RUNNING' ? 4 : 0;
}

interface JobFields {
  readonly projectId: string;
  readonly pipelineId: string;
  readonly id: string;
  readonly name: string | null;
  readonly stage: string | null;
  readonly status: unknown;
  readonly failureReason: unknown;
  readonly allowFailure: unknown;
  readonly createdAt: unknown;
  readonly startedAt: unknown;
  readonly finishedAt: unknown;
  /** Seconds the job spent pending, waiting for a runner (`queued_duration`). */
  readonly queuedDuration: unknown;
  readonly ref: string | null;
  readonly tag: boolean | null;
  readonly url: string | null;
  readonly labels: readonly string[];
  readonly runner: Loose | null;
  readonly attempt: number;
}

/**
 * When the job began waiting for a runner: its start minus `queued_duration`. Not
 * `created_at`: jobs of later stages are created with the pipeline and wait for
 * earlier stages first, which is not queue time. Unknown until it starts: created_at.
 */
function queuedSince(createdAt: string | null, startedAt: string | null, queuedDuration: unknown): string | null {
  const seconds = typeof queuedDuration === 'number' ? queuedDuration : typeof queuedDuration === 'string' ? Number(queuedDuration) : NaN;
  if (!startedAt || !Number.isFinite(seconds) || seconds < 0) return createdAt;
  const since = Date.parse(startedAt) - Math.round(seconds * 1000);
  return Number.isFinite(since) ? new Date(since).toISOString() : createdAt;
}

function jobModel(backend: string, f: JobFields): JobModel {
  const { status, waitReason } = mapJobStatus(f.status, f.failureReason, f.allowFailure);
  // A job that has started keeps its runner and start time through WAITING
  // states it reaches after running (`waiting_for_callback`); only a job not
  // yet started (queued, or waiting to start) has no runner.
  const startedAt = isoTime(f.startedAt);
  const notStarted = isPreStart(status) && (status !== 'WAITING' || startedAt === null);
  const runnerId = notStarted ? null : idString(f.runner?.id);
  const createdAt = isoTime(f.createdAt);
  return {
    type: 'Job',
    backend,
    nativeId: formatJobId(f.projectId, f.id),
    revision: [jobPhase(f.status, status), timeSec(f.createdAt, f.startedAt, f.finishedAt)],
    projectNativeId: formatProjectId(f.projectId),
    pipelineNativeId: formatPipelineId(f.projectId, f.pipelineId),
    name: f.name ?? `job ${f.id}`,
    status,
    waitReason,
    native: native(f.status, effectiveFailureReason(f.status, f.failureReason)),
    attempt: Math.max(1, f.attempt),
    url: f.url,
    labels: f.labels,
    runnerNativeId: runnerId ? formatRunnerId(runnerId) : null,
    runnerName: runnerId ? nonEmpty(f.runner?.description) ?? nonEmpty(f.runner?.name) : null,
    branch: f.tag ? null : refOf(f.ref, f.tag).branch,
    createdAt,
    queuedAt: notStarted ? createdAt : queuedSince(createdAt, startedAt, f.queuedDuration),
    startedAt: notStarted ? null : startedAt,
    finishedAt: isTerminal(status) ? isoTime(f.finishedAt) : null,
    steps: [],
  };
}

/** Labels a bridge (trigger job) carries so clients can tell it from a build. */
export const BRIDGE_LABEL = 'gitlab:bridge';

/**
 * REST job (`/jobs`, `/pipelines/:id/jobs`, `/runners/:id/jobs`) or bridge
 * (`/pipelines/:id/bridges`). Labels = `tag_list`; a bridge gets
 * `gitlab:bridge` and `downstream:<pipeline native id>`.
 */
export function toJob(backend: string, job: unknown, projectIdHint?: string | null): JobModel {
  const j = loose(job);
  const id = idString(j.id);
  if (!id) throw new GitlabPayloadError('job', 'id');
  const pipeline = loose(j.pipeline);
  const pipelineId = idString(pipeline.id);
  if (!pipelineId) throw new GitlabPayloadError('job', 'pipeline.id');
  const projectId = idString(pipeline.project_id) ?? idString(asRecord(j.project)?.id) ?? (projectIdHint ? idString(projectIdHint) : null);
  if (!projectId) throw new GitlabPayloadError('job', 'pipeline.project_id');
  const isBridge = 'downstream_pipeline' in j;
  const downstream = asRecord(j.downstream_pipeline);
  const downstreamId = idString(downstream?.id);
  const downstreamProject = idString(downstream?.project_id);
  const labels = isBridge
    ? [BRIDGE_LABEL, ...(downstreamId && downstreamProject ? [`downstream:${formatPipelineId(downstreamProject, downstreamId)}`] : [])]
    : stringArray(j.tag_list);
  return jobModel(backend, {
    projectId, pipelineId, id,
    name: nonEmpty(j.name),
    stage: nonEmpty(j.stage),
    status: j.status,
    failureReason: j.failure_reason,
    allowFailure: j.allow_failure,
    createdAt: j.created_at,
    startedAt: j.started_at,
    finishedAt: j.finished_at,
    queuedDuration: j.queued_duration,
    ref: nonEmpty(j.ref),
    tag: bool(j.tag),
    url: str(j.web_url),
    labels,
    runner: asRecord(j.runner),
    attempt: 1,
  });
}

/**
 * Job Hook (`object_kind: build`). Quirk: `commit.id` is the PIPELINE id, so
 * the pipeline comes from `pipeline_id`. Hooks do not carry the job's
 * tag_list (only the runner's tags), so labels are [] until a REST read.
 */
export function fromJobHook(backend: string, payload: unknown): JobModel {
  const b = loose(payload);
  const id = idString(b.build_id);
  if (!id) throw new GitlabPayloadError('job hook', 'build_id');
  const projectId = idString(b.project_id) ?? idString(asRecord(b.project)?.id);
  if (!projectId) throw new GitlabPayloadError('job hook', 'project_id');
  const pipelineId = idString(b.pipeline_id) ?? idString(asRecord(b.commit)?.id);
  if (!pipelineId) throw new GitlabPayloadError('job hook', 'pipeline_id');
  const web = nonEmpty(asRecord(b.project)?.web_url);
  return jobModel(backend, {
    projectId, pipelineId, id,
    name: nonEmpty(b.build_name),
    stage: nonEmpty(b.build_stage),
    status: b.build_status,
    failureReason: b.build_failure_reason,
    allowFailure: b.build_allow_failure,
    createdAt: b.build_created_at_iso ?? b.build_created_at,
    startedAt: b.build_started_at_iso ?? b.build_started_at,
    finishedAt: b.build_finished_at_iso ?? b.build_finished_at,
    queuedDuration: b.build_queued_duration,
    ref: nonEmpty(b.ref),
    tag: bool(b.tag),
    url: web ? `${web}/-/jobs/${id}` : null,
    labels: [],
    runner: asRecord(b.runner),
    attempt: (int(b.retries_count) ?? 0) + 1,
  });
}

function toJobFromHookBuild(backend: string, build: unknown, projectId: string, pipelineId: string, attrs: Loose): JobModel {
  const b = loose(build);
  const id = idString(b.id);
  if (!id) throw new GitlabPayloadError('pipeline hook build', 'id');
  const pipelineUrl = nonEmpty(attrs.url);
  const projectWeb = pipelineUrl ? pipelineUrl.replace(/\/-\/pipelines\/\d+$/, '') : null;
  return jobModel(backend, {
    projectId, pipelineId, id,
    name: nonEmpty(b.name),
    stage: nonEmpty(b.stage),
    status: b.status,
    failureReason: b.failure_reason,
    allowFailure: b.allow_failure,
    createdAt: b.created_at,
    startedAt: b.started_at,
    finishedAt: b.finished_at,
    queuedDuration: b.queued_duration,
    ref: nonEmpty(attrs.ref),
    tag: bool(attrs.tag),
    url: projectWeb && projectWeb !== pipelineUrl ? `${projectWeb}/-/jobs/${id}` : null,
    labels: [],
    runner: asRecord(b.runner),
    attempt: 1,
  });
}

// ---------------------------------------------------------------- runners

const RUNNER_SCOPE: Readonly<Record<string, RunnerScope>> = {
  instance_type: 'INSTANCE', group_type: 'GROUP', project_type: 'PROJECT',
};

/**
 * REST runner (list item or detail). `detail` (GET /runners/:id) adds
 * tag_list, version, platform, contacted_at; `busy` is a result of
 * `/runners/:id/jobs?status=running` where job_execution_status is missing.
 */
export function toRunner(
  backend: string,
  runner: unknown,
  observedAtMs: number,
  extra: { readonly detail?: unknown; readonly busy?: boolean | null; readonly currentJobNativeId?: string | null } = {},
): RunnerModel {
  const r = { ...loose(extra.detail), ...loose(runner) } as Loose;
  const id = idString(r.id);
  if (!id) throw new GitlabPayloadError('runner', 'id');
  const detail = loose(extra.detail);
  const state = mapRunnerState({
    online: r.online,
    status: r.status,
    contactedAt: parseTimeMs(r.contacted_at ?? detail.contacted_at),
    jobExecutionStatus: r.job_execution_status,
    busy: extra.busy ?? null,
    nowMs: observedAtMs,
  });
  return {
    type: 'Runner',
    backend,
    nativeId: formatRunnerId(id),
    revision: [Number.isFinite(observedAtMs) ? observedAtMs : 0],
    name: nonEmpty(r.description) ?? nonEmpty(r.name) ?? `runner ${id}`,
    state,
    paused: runnerPaused(r.paused, r.active, r.status),
    labels: stringArray(detail.tag_list ?? r.tag_list),
    os: nonEmpty(detail.platform ?? r.platform),
    scope: RUNNER_SCOPE[str(r.runner_type) ?? ''] ?? (r.is_shared === true ? 'INSTANCE' : 'PROJECT'),
    ephemeral: null,
    version: nonEmpty(detail.version ?? r.version),
    currentJobNativeId: state === 'BUSY' ? extra.currentJobNativeId ?? null : null,
    // job_execution_status is already `state` (BUSY/IDLE). Kept out of `native` so a listing
    // that confirms what a job event told (BUSY with that job) is no change and no event.
    native: { provider: 'gitlab', status: str(r.status), conclusion: null, failureReason: null },
  };
}
