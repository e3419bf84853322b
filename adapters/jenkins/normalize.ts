import type {
  ActorModel, CiStatus, JobModel, NativeStatus, PipelineModel, ProjectModel, RunnerModel, StatusMapping, StepModel,
} from '../../src/model.ts';
import { isTerminal } from '../../src/model.ts';
import { asRecord, bool, int, JenkinsPayloadError, loose, ms, msToIso, nonEmpty, records, shortClass, str, type Loose } from './fields.ts';
import {
  decodeBranchName, formatBuildJobId, formatPipelineId, formatQueueId, formatStageJobId, isFullName,
} from './native-ids.ts';
import { agentRemovedCause, mapBuildStatus, mapComputerState, mapQueueItem, mapStageStatus, queueKindOf } from './status-map.ts';

/**
 * Pure Jenkins → unified model functions, total over noisy input: wrong types
 * and missing fields read as null; only a missing name or number (nothing to
 * address the entity by) throws JenkinsPayloadError.
 *
 * Revisions (ADAPTERS.md §4), all from upstream facts:
 *   build    [phase, end-or-start ms, knows]   phase 0 queued, 1 building, 2 completed;
 *            knows 1 when the read covered everything the status and jobs note
 *            depend on: the stage view of a Pipeline build (an `input` pause
 *            shows only there), 0 for a Pipeline build read without it (list
 *            queries). So a read that knows less never replaces one that knows
 *            more at the same phase and time (issue 11 item 2: WAITING/INPUT
 *            must not flip to RUNNING because a list read could not see the pause).
 *   stage    [phase, start+duration ms, step progress]
 *   runner   [observation time]
 * A completed build's [2, timestamp+duration] beats every building
 * observation, so a confirmed result never regresses.
 */

const MULTIBRANCH = /WorkflowMultiBranchProject|OrganizationFolder|MultiBranchProject/;
const FOLDER = /Folder$|WorkflowMultiBranchProject|MultiBranchProject|OrganizationFolder/;

function native(status: string | null, conclusion: string | null, failureReason: string | null = null): NativeStatus {
  return { provider: 'jenkins', status, conclusion, failureReason };
}

export function isFolderClass(cls: unknown): boolean {
  return typeof cls === 'string' && FOLDER.test(cls);
}

export function isMultibranchClass(cls: unknown): boolean {
  return typeof cls === 'string' && MULTIBRANCH.test(cls);
}

/** Pipeline (workflow) jobs and runs have stages; anything else is one Job per build. */
export function isWorkflowClass(cls: unknown): boolean {
  return typeof cls === 'string' && /WorkflowJob|WorkflowRun/.test(cls);
}

/** A job as a Project. `parentClass` is its container's `_class` (multibranch children are branches). */
export function toProject(backend: string, job: unknown, parentClass: string | null): ProjectModel {
  const j = loose(job);
  const fullName = nonEmpty(j.fullName);
  if (!fullName || !isFullName(fullName)) throw new JenkinsPayloadError('job', 'fullName');
  const rawName = nonEmpty(j.name) ?? fullName.slice(fullName.lastIndexOf('/') + 1);
  const isBranch = isMultibranchClass(parentClass);
  const branchName = isBranch ? decodeBranchName(rawName) : null;
  return {
    type: 'Project',
    backend,
    nativeId: fullName,
    revision: [0],
    name: branchName ?? nonEmpty(j.displayName) ?? rawName,
    fullName,
    url: str(j.url),
    defaultBranch: branchName,
  };
}

const CAUSE_EVENTS: Readonly<Record<string, string>> = {
  UserIdCause: 'manual',
  UserCause: 'manual',
  SCMTriggerCause: 'scm',
  TimerTriggerCause: 'timer',
  UpstreamCause: 'upstream',
  RemoteCause: 'remote',
  BranchIndexingCause: 'branch-indexing',
  BranchEventCause: 'branch-event',
  ReplayCause: 'replay',
  RebuildCause: 'rebuild',
  GitHubPushCause: 'push',
  GitLabWebHookCause: 'push',
  GenericCause: 'generic-webhook',
};

function causesOf(item: Loose): Loose[] {
  const out: Loose[] = [];
  for (const action of records(item.actions)) out.push(...records(action.causes));
  return out;
}

/**
 * The cause (`_class`) that removed a Pipeline build's agent, from its
 * InterruptedBuildAction (read with the other actions' causes), or null.
 */
export function agentRemovedBy(build: unknown): string | null {
  return agentRemovedCause(causesOf(loose(build)).map((c) => str(c._class)));
}

/** `event` and `actor` from the first cause that names them (§3.2 actions[].causes). */
export function triggerOf(item: Loose): { event: string | null; actor: ActorModel | null } {
  const causes = causesOf(item);
  let event: string | null = null;
  let actor: ActorModel | null = null;
  for (const c of causes) {
    const cls = shortClass(c._class);
    event ??= cls ? (CAUSE_EVENTS[cls] ?? cls) : null;
    const login = nonEmpty(c.userId) ?? nonEmpty(c.userName);
    if (!actor && login) actor = { login, url: null, avatarUrl: null };
  }
  return { event, actor };
}

/** Git plugin `BuildData.lastBuiltRevision`: the SHA-1 and branch (`origin/main` → `main`). */
export function revisionOf(build: Loose): { sha: string | null; branch: string | null } {
  for (const action of records(build.actions)) {
    const rev = asRecord(action.lastBuiltRevision);
    if (!rev) continue;
    const sha = nonEmpty(rev.SHA1);
    const first = records(rev.branch)[0];
    const name = first ? nonEmpty(first.name) : null;
    return { sha, branch: name ? name.replace(/^refs\/remotes\/[^/]+\//, '').replace(/^refs\/heads\//, '').replace(/^origin\//, '') : null };
  }
  return { sha: null, branch: null };
}

function buildPhase(status: CiStatus): number {
  if (status === 'QUEUED' || status === 'PENDING') return 0;
  return isTerminal(status) ? 2 : 1;
}

export interface BuildContext {
  /** The wfapi run `status`, when read: PAUSED_PENDING_INPUT lifts a building run to WAITING/INPUT. */
  readonly wfapiStatus?: unknown;
  /** Whether the read included the stage view (or there is none to read): see `knows` in the revision. */
  readonly stageViewRead?: boolean;
  /** Stages the stage view listed, when read: 0 explains an empty job list (`jobsNote`). */
  readonly stageCount?: number;
  /** Decoded branch name of a multibranch child job. */
  readonly branch?: string | null;
}

export function buildStatusOf(build: Loose, ctx: BuildContext = {}): StatusMapping {
  const mapped = mapBuildStatus(build.result, build.building);
  if (mapped.status === 'RUNNING' && ctx.wfapiStatus === 'PAUSED_PENDING_INPUT') return { status: 'WAITING', waitReason: 'INPUT' };
  return mapped;
}

/** A build (Run) of job `fullName`. */
export function toPipeline(backend: string, fullName: string, build: unknown, ctx: BuildContext = {}): PipelineModel {
  const b = loose(build);
  const number = int(b.number);
  if (number === null || number <= 0) throw new JenkinsPayloadError('build', 'number');
  const { status, waitReason } = buildStatusOf(b, ctx);
  const startMs = ms(b.timestamp);
  const endMs = isTerminal(status) && startMs > 0 ? startMs + ms(b.duration) : 0;
  const startedAt = msToIso(startMs);
  const finishedAt = msToIso(endMs);
  const building = bool(b.building);
  const { event, actor } = triggerOf(b);
  const scm = revisionOf(b);
  const branch = ctx.branch ?? scm.branch;
  const knows = isWorkflowClass(b._class) && ctx.stageViewRead !== true ? 0 : 1;
  return {
    type: 'Pipeline',
    backend,
    nativeId: formatPipelineId(fullName, number),
    revision: [buildPhase(status), endMs || startMs, knows],
    projectNativeId: fullName,
    number,
    name: buildName(fullName, b, number),
    jobsNote: ctx.stageCount === 0 ? noStagesNote(status) : null,
    status,
    waitReason,
    native: native(
      status === 'WAITING' ? 'PAUSED_PENDING_INPUT' : building === true ? 'BUILDING' : building === false ? 'COMPLETED' : null,
      str(b.result),
    ),
    attempt: 1,
    url: str(b.url),
    branch,
    ref: branch ? `refs/heads/${branch}` : null,
    commitSha: scm.sha,
    event,
    actor,
    createdAt: startedAt ?? new Date(0).toISOString(),
    queuedAt: null,
    startedAt,
    finishedAt,
    updatedAt: finishedAt ?? startedAt,
  };
}

/**
 * The build's name as Jenkins pages show it: a custom display name
 * (`currentBuild.displayName = 'release 1.2'`) as set; the default `#<number>`
 * would repeat `number` ("#10 #10"), so then the job's display name, as in the
 * build page's title "service #10" (the last segment of `fullDisplayName`).
 */
export function buildName(fullName: string, build: Loose, number: number): string {
  const display = nonEmpty(build.displayName);
  if (display !== null && display !== `#${number}`) return display;
  const full = nonEmpty(build.fullDisplayName);
  const suffix = ` ${display ?? `#${number}`}`;
  const jobDisplay = full?.endsWith(suffix) ? full.slice(0, -suffix.length) : null;
  const lastSegment = jobDisplay?.split(' » ').at(-1)?.trim();
  return lastSegment || decodeBranchName(fullName.slice(fullName.lastIndexOf('/') + 1));
}

/**
 * Why a Pipeline build read with its stage view has no Jobs: the stage view
 * lists stages only once they start, and a Pipeline without `stage` blocks
 * has none (Jenkins' stage view says "does not define any stages").
 */
function noStagesNote(status: CiStatus): string {
  return isTerminal(status) ? 'This Pipeline defines no stages' : 'No stage has started yet';
}

/** A queue item waiting to become a build of `fullName`. */
export function toQueuedPipeline(backend: string, fullName: string, item: unknown): PipelineModel {
  const q = loose(item);
  const id = int(q.id);
  if (id === null || id <= 0) throw new JenkinsPayloadError('queue item', 'id');
  const kind = queueKindOf(shortClass(q._class), q.blocked, q.buildable);
  const why = nonEmpty(q.why);
  const { status, waitReason } = mapQueueItem(kind, why);
  const since = ms(q.inQueueSince);
  const queuedAt = msToIso(since);
  const { event, actor } = triggerOf(q);
  const stuck = q.stuck === true;
  return {
    type: 'Pipeline',
    backend,
    nativeId: formatQueueId(fullName, id),
    revision: [0, since],
    projectNativeId: fullName,
    number: null,
    name: null,
    status,
    waitReason,
    native: native(kind, null, why ? (stuck ? `${why} (stuck)` : why) : stuck ? 'stuck' : null),
    attempt: 1,
    url: null,
    branch: null,
    ref: null,
    commitSha: null,
    event,
    actor,
    createdAt: queuedAt ?? new Date(0).toISOString(),
    queuedAt,
    startedAt: null,
    finishedAt: null,
    updatedAt: queuedAt,
  };
}

/**
 * The queued entity once its build started: it follows the build (same
 * status, number and url) under its own stable id, so a subscriber watching
 * the queued item sees it start and finish.
 */
export function linkQueuedToBuild(queueNativeId: string, queued: PipelineModel | null, build: PipelineModel): PipelineModel {
  return { ...build, nativeId: queueNativeId, aliasOf: build.nativeId, queuedAt: queued?.queuedAt ?? build.queuedAt, createdAt: queued?.createdAt ?? build.createdAt };
}

/**
 * `native.failureReason` of a stage or step: for a lost agent (ERROR) the
 * exception type or removal cause, which names the kind of failure (the
 * message names the agent and its channel); otherwise the error message.
 */
function failureReasonOf(status: CiStatus, error: Loose | null, agentRemovedBy: string | null): string | null {
  if (status !== 'ERROR') return nonEmpty(error?.message);
  return agentRemovedBy ?? nonEmpty(error?.type);
}

/** A wfapi flow node as a Step; `agentRemovedBy`: the build's agent-removal cause (its ABORTED nodes are ERROR). */
export function toStep(node: unknown, index: number, agentRemovedBy: string | null = null): StepModel {
  const n = loose(node);
  const error = asRecord(n.error);
  const { status } = mapStageStatus(n.status, error?.type, agentRemovedBy !== null);
  const start = ms(n.startTimeMillis);
  const name = nonEmpty(n.name) ?? `step ${index + 1}`;
  const param = nonEmpty(n.parameterDescription);
  return {
    number: index + 1,
    name: param ? `${name}: ${param}` : name,
    status,
    native: native(str(n.status), null, failureReasonOf(status, error, agentRemovedBy)),
    startedAt: msToIso(start),
    finishedAt: isTerminal(status) && start > 0 ? msToIso(start + ms(n.durationMillis)) : null,
  };
}

function stepProgress(steps: readonly StepModel[]): number {
  let n = 0;
  for (const s of steps) n += isTerminal(s.status) ? 2 : s.status === 'RUNNING' ? 1 : 0;
  return n;
}

export interface StageContext {
  readonly fullName: string;
  readonly number: number;
  readonly buildUrl: string | null;
  readonly branch: string | null;
  /** The build's agent-removal cause (`agentRemovedBy`): its ABORTED stage and steps lost their agent. */
  readonly agentRemovedBy?: string | null;
}

/** A wfapi stage (`wfapi/describe` `stages[]`) as a Job. */
export function toStageJob(backend: string, ctx: StageContext, stage: unknown, stepsRead: readonly StepModel[] = []): JobModel {
  const st = loose(stage);
  const id = str(st.id) ?? (int(st.id) !== null ? String(st.id) : null);
  if (!id || !/^[A-Za-z0-9_-]{1,40}$/.test(id)) throw new JenkinsPayloadError('stage', 'id');
  const removedBy = ctx.agentRemovedBy ?? null;
  const error = asRecord(st.error);
  const { status, waitReason } = mapStageStatus(st.status, error?.type, removedBy !== null);
  // Steps read without the build (a stage's node describe): the removal reaches their cancelled ones here.
  const steps = removedBy === null ? stepsRead : stepsRead.map((s): StepModel => (
    s.status === 'CANCELED' ? { ...s, status: 'ERROR', native: { ...s.native, failureReason: removedBy } } : s
  ));
  const start = ms(st.startTimeMillis);
  const end = isTerminal(status) && start > 0 ? start + ms(st.durationMillis) : 0;
  const execNode = nonEmpty(st.execNode);
  return {
    type: 'Job',
    backend,
    nativeId: formatStageJobId(ctx.fullName, ctx.number, id),
    revision: [buildPhase(status), end || start + ms(st.durationMillis), stepProgress(steps)],
    projectNativeId: ctx.fullName,
    pipelineNativeId: formatPipelineId(ctx.fullName, ctx.number),
    name: nonEmpty(st.name) ?? `stage ${id}`,
    status,
    waitReason,
    native: native(str(st.status), null, failureReasonOf(status, error, removedBy)),
    attempt: 1,
    url: ctx.buildUrl,
    labels: [],
    // The agent the stage ran on, once it started. Agents run several stages and
    // builds at once, so the adapter opts out of job-derived runner state
    // (capabilities.runnerStateFromJobs = false): computers are polled instead.
    runnerNativeId: status === 'RUNNING' || status === 'WAITING' || isTerminal(status) ? execNode : null,
    runnerName: status === 'RUNNING' || status === 'WAITING' || isTerminal(status) ? execNode : null,
    branch: ctx.branch,
    createdAt: msToIso(start),
    queuedAt: null,
    startedAt: msToIso(start),
    finishedAt: msToIso(end),
    steps,
  };
}

/** A freestyle (or any non-Pipeline) build as its single Job. */
export function toBuildJob(backend: string, fullName: string, build: unknown, ctx: BuildContext = {}): JobModel {
  const p = toPipeline(backend, fullName, build, ctx);
  const b = loose(build);
  const builtOn = str(b.builtOn);
  const node = builtOn === null ? null : builtOn === '' ? BUILT_IN_NODE : builtOn;
  const runs = p.status === 'RUNNING' || isTerminal(p.status);
  return {
    type: 'Job',
    backend,
    nativeId: formatBuildJobId(fullName, p.number!),
    revision: p.revision,
    projectNativeId: fullName,
    pipelineNativeId: p.nativeId,
    name: fullName.slice(fullName.lastIndexOf('/') + 1),
    status: p.status,
    waitReason: p.waitReason,
    native: p.native,
    attempt: 1,
    url: p.url,
    labels: [],
    runnerNativeId: runs ? node : null,
    runnerName: runs ? node : null,
    branch: p.branch,
    createdAt: p.createdAt,
    queuedAt: null,
    startedAt: p.startedAt,
    finishedAt: p.finishedAt,
    steps: [],
  };
}

/** The built-in node's computer displayName (`builtOn` is "" for it). */
export const BUILT_IN_NODE = 'Built-In Node';

/**
 * Busy and total REGULAR executors, plus busy one-off (flyweight) executors.
 * A Pipeline run holds a flyweight executor on the controller for its whole
 * life, even when the built-in node has no executors at all, and
 * `Computer.idle` is false while one does: so capacity and busy come from
 * `executors[]` only, and flyweight work is counted apart (issue 11 item 3).
 */
export function executorCounts(computer: Loose): { busy: number; total: number; flyweight: number } {
  const flyweight = records(computer.oneOffExecutors).filter((e) => e.idle === false).length;
  if (Array.isArray(computer.executors)) {
    const executors = records(computer.executors);
    return { busy: executors.filter((e) => e.idle === false).length, total: executors.length, flyweight };
  }
  // No executor list in the answer: `idle` is all there is, and it counts flyweights too.
  const total = int(computer.numExecutors) ?? 0;
  const idleKnownRegular = computer.idle === false && flyweight === 0;
  return { busy: idleKnownRegular ? Math.min(1, total) : 0, total, flyweight };
}

/** `native.conclusion` of a computer: regular executors, then flyweight work when there is any. */
export function executorSummary(c: { busy: number; total: number; flyweight: number }): string {
  const regular = `${c.busy}/${c.total} executors busy`;
  return c.flyweight > 0 ? `${regular}; ${c.flyweight} Pipeline run${c.flyweight === 1 ? '' : 's'} on flyweight executors` : regular;
}

/** A computer (`/computer/api/json` `computer[]`) as a Runner. */
export function toRunner(backend: string, computer: unknown, observedAtMs: number, currentJobNativeId: string | null = null): RunnerModel {
  const c = loose(computer);
  const name = nonEmpty(c.displayName);
  if (!name) throw new JenkinsPayloadError('computer', 'displayName');
  const counts = executorCounts(c);
  const { busy } = counts;
  const state = mapComputerState(c.offline, c.temporarilyOffline, busy);
  const paused = c.temporarilyOffline === true;
  const labels = records(c.assignedLabels).map((l) => nonEmpty(l.name)).filter((l): l is string => l !== null);
  return {
    type: 'Runner',
    backend,
    nativeId: name,
    revision: [Number.isFinite(observedAtMs) ? observedAtMs : 0],
    name,
    state,
    paused,
    labels,
    os: null,
    scope: 'INSTANCE',
    ephemeral: null,
    version: null,
    currentJobNativeId: state === 'BUSY' ? currentJobNativeId : null,
    native: native(
      paused ? 'temporarilyOffline' : c.offline === true ? 'offline' : c.offline === false ? 'online' : null,
      executorSummary(counts),
      nonEmpty(c.offlineCauseReason),
    ),
  };
}
