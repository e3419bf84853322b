import type { ActorModel, CiStatus, JobModel, NativeStatus, PipelineModel, ProjectModel, RunnerModel } from '../../src/model.ts';
import { isTerminal } from '../../src/model.ts';
import {
  asRecord, BuildkitePayloadError, buildRefOfJobUrls, int, isoTime, latestMs, loose, nonEmpty, slugOfBuild, str, tagList, type Loose,
} from './fields.ts';
import { formatJobId, formatPipelineId, formatProjectId, formatRunnerId } from './native-ids.ts';
import { agentPaused, jobFailureReason, mapAgentState, mapBuildStatus, mapJobStatus, type JobState } from './status-map.ts';

/**
 * Pure Buildkite → unified model functions, for REST objects and webhook
 * payloads (whose `build`, `job` and `agent` are the REST objects). Total over
 * noisy input: wrong types read as null; only a missing id throws
 * BuildkitePayloadError.
 *
 * Revisions (never from arrival time, ADAPTERS.md §4):
 * - Pipeline (build) `[lastChangeMs, phase, jobsKnown]`. A build may go back:
 *   a blocked build runs again once unblocked, a failed one when a job is
 *   retried. Builds have no `updated_at`, so the time is the newest timestamp
 *   the observation carries, over the build AND its jobs (an unblock or a retry
 *   shows only in job times: `unblocked_at`, a new job's `created_at`). The
 *   phase breaks ties; `jobsKnown` ranks a read without jobs (lists with
 *   `exclude_jobs`, build webhooks) below one with them at the same time.
 * - Job `[phase, lastChangeMs]`: one job id moves forward only; a retry is a
 *   NEW job id (`retried_in_job_id`). `waiting_failed` / `blocked_failed` rank
 *   just above their unfailed states: they never ran.
 * - Runner `[observedAtMs]`: runners' revision is the observation time.
 */

const PROVIDER = 'buildkite';

function isPreStart(status: CiStatus): boolean {
  return status === 'PENDING' || status === 'QUEUED' || status === 'WAITING';
}

function commitOf(value: unknown): string | null {
  const c = nonEmpty(value);
  return c && /^[0-9a-f]{7,64}$/i.test(c) ? c.toLowerCase() : null;
}

/** Buildkite creators have a name and email, no login: the name stands in. */
function toActor(value: unknown): ActorModel | null {
  const u = asRecord(value);
  const login = u ? nonEmpty(u.name) ?? nonEmpty(u.email) : null;
  return u && login ? { login, url: null, avatarUrl: str(u.avatar_url) } : null;
}

function firstLine(text: string | null): string | null {
  const line = text?.split('\n', 1)[0]?.trim();
  return line ? line : null;
}

// ---------------------------------------------------------------- projects

/** A Buildkite pipeline (`GET /organizations/{org}/pipelines/{slug}`) is a Project. */
export function toProject(backend: string, pipeline: unknown): ProjectModel {
  const p = loose(pipeline);
  const slug = nonEmpty(p.slug);
  if (!slug) throw new BuildkitePayloadError('pipeline', 'slug');
  return {
    type: 'Project',
    backend,
    nativeId: formatProjectId(slug),
    revision: [latestMs(p.created_at)],
    name: nonEmpty(p.name) ?? slug,
    fullName: slug,
    url: str(p.web_url),
    defaultBranch: nonEmpty(p.default_branch),
  };
}

// ---------------------------------------------------------------- pipelines

function buildPhase(status: CiStatus): number {
  if (isTerminal(status)) return 3;
  if (status === 'CANCELING') return 2;
  if (status === 'PENDING' || status === 'QUEUED') return 0;
  return 1; // RUNNING, WAITING (blocked after running), UNKNOWN
}

function jobTimes(job: unknown): unknown[] {
  const j = loose(job);
  return [j.created_at, j.scheduled_at, j.runnable_at, j.started_at, j.finished_at, j.unblocked_at];
}

export interface BuildContext {
  /** The pipeline slug when the caller knows it (per-pipeline listings); else read from the payload. */
  readonly slug?: string | null;
  /** The payload's `pipeline` object (webhooks), for the slug and the name. */
  readonly pipeline?: unknown;
  /**
   * Jobs seen with this observation besides the build's own `jobs[]` (a job
   * webhook carries one job): their times count, but the list is not complete.
   */
  readonly someJobs?: readonly unknown[];
}

/** A REST build, or a webhook's `build` (which has no `jobs`). */
export function toPipeline(backend: string, build: unknown, ctx: BuildContext = {}): PipelineModel {
  const b = loose(build);
  const number = int(b.number);
  if (number === null || number < 1) throw new BuildkitePayloadError('build', 'number');
  const slug = ctx.slug ?? slugOfBuild(b, ctx.pipeline);
  if (!slug) throw new BuildkitePayloadError('build', 'pipeline slug');
  const jobs = Array.isArray(b.jobs) ? b.jobs : null;
  const { status, waitReason } = mapBuildStatus(b.state, b.blocked);
  const lastChangeMs = latestMs(b.created_at, b.scheduled_at, b.started_at, b.failing_at, b.finished_at, ...[...(jobs ?? []), ...(ctx.someJobs ?? [])].flatMap(jobTimes));
  const createdAt = isoTime(b.created_at) ?? new Date(lastChangeMs).toISOString();
  const pipeline = asRecord(ctx.pipeline) ?? asRecord(b.pipeline);
  const branch = nonEmpty(b.branch);
  const nativeStatus = str(b.state);
  const native: NativeStatus = {
    provider: PROVIDER,
    status: nativeStatus,
    conclusion: b.blocked === true ? 'blocked' : isTerminal(status) ? nativeStatus : null,
    failureReason: nonEmpty(b.cancel_reason),
  };
  return {
    type: 'Pipeline',
    backend,
    nativeId: formatPipelineId(slug, number),
    revision: [lastChangeMs, buildPhase(status), jobs !== null ? 1 : 0],
    projectNativeId: formatProjectId(slug),
    number,
    name: nonEmpty(pipeline?.name) ?? slug,
    title: firstLine(str(b.message)),
    status,
    waitReason,
    native,
    attempt: 1,
    url: str(b.web_url),
    branch,
    ref: branch ? `refs/heads/${branch}` : null,
    commitSha: commitOf(b.commit),
    event: nonEmpty(b.source),
    actor: toActor(b.creator),
    createdAt,
    queuedAt: isoTime(b.scheduled_at) ?? createdAt,
    startedAt: isPreStart(status) ? null : isoTime(b.started_at),
    finishedAt: isTerminal(status) ? isoTime(b.finished_at) : null,
    updatedAt: lastChangeMs > 0 ? new Date(lastChangeMs).toISOString() : null,
  };
}

// ---------------------------------------------------------------- jobs

/**
 * Ranks within one job id, in the order Buildkite moves a job (pending →
 * waiting → limiting/limited → scheduled → reserved → assigned → accepted →
 * running → canceling/timing_out → ended). Several native states share one
 * unified status (four are QUEUED), so the native state is what ranks.
 */
const JOB_PHASE = {
  pending: 0, waiting: 0, waiting_failed: 1, blocked: 2, blocked_failed: 3,
  limiting: 4, platform_limiting: 4, limited: 5, platform_limited: 5,
  scheduled: 6, reserved: 7, assigned: 8, accepted: 9, running: 10, canceling: 11, timing_out: 11,
  finished: 12, passed: 12, failed: 12, canceled: 12, expired: 12, timed_out: 12, skipped: 12, broken: 12,
  unblocked: 12, unblocked_failed: 12,
} as const satisfies Record<JobState, number>;

function jobPhase(state: unknown): number {
  return typeof state === 'string' && Object.hasOwn(JOB_PHASE, state) ? JOB_PHASE[state as JobState] : 0;
}

/** Jobs without a queue rule run on the `default` queue, so they are in that pool. */
const DEFAULT_QUEUE = 'queue=default';

/**
 * The job's name. Parallel jobs of one step share its label; each gets
 * ` (i/N)` as the Buildkite UI shows, so a name is one job (flaky-job
 * analytics and attempts group by name).
 */
function jobName(j: Loose): string {
  const base = stepName(j);
  const index = int(j.parallel_group_index);
  const total = int(j.parallel_group_total);
  return index !== null && total !== null && total > 1 ? `${base} (${index + 1}/${total})` : base;
}

function stepName(j: Loose): string {
  switch (j.type) {
    case 'waiter':
      return 'wait';
    case 'manual':
      return nonEmpty(j.label) ?? nonEmpty(j.name) ?? 'block';
    default:
      return nonEmpty(j.name) ?? nonEmpty(j.label) ?? nonEmpty(j.step_key) ?? nonEmpty(j.command) ?? String(j.type ?? 'job');
  }
}

/**
 * One job of a build (REST `jobs[]` item, or a job webhook's `job`). `build`
 * gives the branch and, without `slug`, the pipeline slug.
 */
export function toJob(backend: string, job: unknown, build: unknown, ctx: { slug?: string | null; pipeline?: unknown } = {}): JobModel {
  const j = loose(job);
  const b = loose(build);
  const id = nonEmpty(j.id);
  if (!id) throw new BuildkitePayloadError('job', 'id');
  const number = int(b.number);
  if (number === null || number < 1) throw new BuildkitePayloadError('job build', 'number');
  const slug = ctx.slug ?? slugOfBuild(b, ctx.pipeline);
  if (!slug) throw new BuildkitePayloadError('job build', 'pipeline slug');
  const fields = { state: j.state, softFailed: j.soft_failed, exitStatus: j.exit_status, signalReason: j.signal_reason, passed: j.passed };
  const { status, waitReason } = mapJobStatus(fields);
  const agent = asRecord(j.agent);
  const started = !isPreStart(status) && status !== 'UNKNOWN';
  const isScript = j.type === undefined || j.type === 'script';
  const rules = tagList(j.agent_query_rules);
  const exit = int(j.exit_status);
  return {
    type: 'Job',
    backend,
    nativeId: formatJobId(slug, number, id),
    revision: [jobPhase(j.state), latestMs(...jobTimes(j))],
    projectNativeId: formatProjectId(slug),
    pipelineNativeId: formatPipelineId(slug, number),
    name: jobName(j),
    status,
    waitReason,
    native: {
      provider: PROVIDER,
      status: str(j.state),
      conclusion: !isTerminal(status) ? null : j.soft_failed === true ? 'soft_failed' : exit !== null ? `exit ${exit}` : null,
      failureReason: jobFailureReason(fields),
    },
    attempt: (int(j.retries_count) ?? 0) + 1,
    url: str(j.web_url),
    // Only command jobs need an agent; wait, block and trigger steps are in no pool.
    labels: isScript ? (rules.length > 0 ? rules : [DEFAULT_QUEUE]) : [],
    runnerNativeId: started && agent ? nonEmpty(agent.id) : null,
    runnerName: started && agent ? nonEmpty(agent.name) : null,
    branch: nonEmpty(b.branch),
    createdAt: isoTime(j.created_at),
    queuedAt: isoTime(j.runnable_at) ?? isoTime(j.scheduled_at),
    startedAt: isPreStart(status) ? null : isoTime(j.started_at),
    finishedAt: isTerminal(status) ? isoTime(j.finished_at) : null,
    steps: [],
  };
}

/**
 * The jobs of a REST build. `attempts: false` keeps the latest attempt of each
 * step (jobs a retry replaced carry `retried: true`); waiter jobs are left out:
 * a wait step never runs on an agent and is not work anyone watches.
 */
export function jobsOfBuild(backend: string, build: unknown, ctx: { slug?: string | null; attempts: boolean }): JobModel[] {
  const b = loose(build);
  const jobs = Array.isArray(b.jobs) ? b.jobs : [];
  const out: JobModel[] = [];
  for (const raw of jobs) {
    const j = asRecord(raw);
    if (!j || j.type === 'waiter') continue;
    if (!ctx.attempts && j.retried === true) continue;
    out.push(toJob(backend, j, b, { slug: ctx.slug ?? null }));
  }
  return out;
}

// ---------------------------------------------------------------- runners

/** Agents without a `queue=` tag serve the `default` queue (Buildkite's rule). */
export function agentLabels(metaData: unknown): string[] {
  const tags = tagList(metaData);
  return tags.some((t) => t.startsWith('queue=')) ? tags : [...tags, DEFAULT_QUEUE];
}

/** The agent's current job as a job native id, when its URLs name the build. */
function currentJobId(job: unknown): string | null {
  const j = asRecord(job);
  const id = j ? nonEmpty(j.id) : null;
  const ref = buildRefOfJobUrls(j);
  return id && ref ? formatJobId(ref.slug, ref.number, id) : null;
}

/** A REST agent (also a webhook's `agent`) observed at `nowMs`. */
export function toRunner(backend: string, agent: unknown, nowMs: number): RunnerModel {
  const a = loose(agent);
  const id = nonEmpty(a.id);
  if (!id) throw new BuildkitePayloadError('agent', 'id');
  const hasJob = asRecord(a.job) !== null;
  const state = mapAgentState(a.connection_state, hasJob);
  const labels = agentLabels(a.meta_data);
  const os = labels.find((l) => l.startsWith('os='))?.slice(3) ?? null;
  return {
    type: 'Runner',
    backend,
    nativeId: formatRunnerId(id),
    revision: [nowMs],
    name: nonEmpty(a.name) ?? nonEmpty(a.hostname) ?? id,
    state,
    paused: agentPaused(a.connection_state, a.paused),
    labels,
    os,
    scope: 'ORGANIZATION',
    ephemeral: null,
    version: nonEmpty(a.version),
    currentJobNativeId: state === 'BUSY' ? currentJobId(a.job) : null,
    native: { provider: PROVIDER, status: str(a.connection_state), conclusion: null, failureReason: null },
  };
}

