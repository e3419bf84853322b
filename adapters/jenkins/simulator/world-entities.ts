/**
 * The entities of the simulated Jenkins world (folders, jobs, builds, Pipeline
 * stages and steps, the queue, computers), the specs that create them, and
 * the pure rules Jenkins applies to them: names and URLs, label matching,
 * ball colours, causes.
 */
export type JobKind = 'freestyle' | 'pipeline';
export type BuildResult = 'SUCCESS' | 'UNSTABLE' | 'FAILURE' | 'NOT_BUILT' | 'ABORTED';
export type StageOutcome = 'SUCCESS' | 'FAILED' | 'UNSTABLE' | 'ABORTED';
/** The stage view's StatusExt values the simulator produces. */
export type WfStatus =
  | 'SUCCESS' | 'FAILED' | 'UNSTABLE' | 'ABORTED' | 'IN_PROGRESS' | 'PAUSED_PENDING_INPUT' | 'NOT_EXECUTED';
export type Phase = 'QUEUED' | 'STARTED' | 'COMPLETED' | 'FINALIZED';

/** A build parameter definition (core ParameterDefinition subclasses the simulator knows). */
export interface SimParamDef {
  readonly name: string;
  readonly type: 'string' | 'text' | 'boolean' | 'choice' | 'password';
  readonly description?: string;
  /** Default value; a choice defaults to its first option. */
  readonly default?: string | boolean;
  readonly choices?: readonly string[];
}

/** A parameter value a build (or an approved input) carries. */
export interface SimParamValue {
  readonly name: string;
  readonly type: SimParamDef['type'];
  readonly value: string | boolean;
}

/** An `input` step's options (pipeline-input-step `InputStep`). */
export interface InputSpec {
  readonly message?: string;
  /** `submitter`: comma-separated user ids (or groups) allowed to answer; absent = anyone with Job/Build. */
  readonly submitter?: string;
  /** The `ok` button text (proceedText). */
  readonly ok?: string;
  readonly parameters?: readonly SimParamDef[];
}

export interface StageSpec {
  name: string;
  outcome?: StageOutcome;
  /** An `input` step: the stage sits PAUSED_PENDING_INPUT until approved. */
  input?: boolean | InputSpec;
  steps?: string[];
  /** `when` evaluated to false: the stage is skipped (NOT_EXECUTED). Default true. */
  when?: boolean;
}

export interface SimCause {
  readonly cls: string;
  readonly shortDescription: string;
  readonly userId?: string;
  readonly userName?: string;
}

export interface BuildSpec {
  stages?: StageSpec[];
  result?: BuildResult;
  label?: string;
  causes?: SimCause[];
  /** Values of the job's parameters (ParametersAction); absent for a job without parameters. */
  params?: readonly SimParamValue[];
  /** A step that ignores interrupts: `stop` does nothing ('stop'), or `stop` and `term` do nothing ('stop+term'); `kill` always works. */
  ignoresInterrupts?: 'stop' | 'stop+term';
}

export interface SimRoot {
  readonly kind: 'root';
  readonly children: Map<string, SimItem>;
}

export interface SimFolder {
  readonly kind: 'folder' | 'multibranch';
  readonly name: string;
  readonly displayName: string;
  readonly parent: SimContainer;
  readonly children: Map<string, SimItem>;
  readonly description: string | null;
}

export interface SimJob {
  readonly kind: JobKind;
  readonly name: string;
  readonly displayName: string;
  readonly parent: SimContainer;
  readonly label: string | null;
  /** Freestyle jobs default to no concurrent builds (a second build is a BlockedItem); Pipelines allow them. */
  readonly concurrent: boolean;
  readonly scmUrl: string;
  /** GIT_BRANCH as the git plugin reports it (`origin/main`, or the branch name in multibranch). */
  readonly gitBranch: string;
  readonly stages: readonly StageSpec[];
  readonly freestyleSteps: readonly string[];
  /** ParametersDefinitionProperty; empty when the job is not parameterized. */
  params: readonly SimParamDef[];
  /** Oldest first. */
  readonly builds: SimBuild[];
  nextBuildNumber: number;
}

export type SimContainer = SimRoot | SimFolder;
export type SimItem = SimFolder | SimJob;

export interface SimComputer {
  readonly name: string;
  readonly builtIn: boolean;
  readonly labels: readonly string[];
  readonly numExecutors: number;
  /** The agent's channel is down (not connected). */
  channelDown: boolean;
  /** Marked offline by a user (implies offline). */
  temporarilyOffline: boolean;
  offlineMessage: string | null;
  readonly executors: (SimBuild | null)[];
}

export interface SimQueueItem {
  readonly id: number;
  readonly job: SimJob;
  readonly spec: BuildSpec;
  readonly causes: readonly SimCause[];
  readonly inQueueSince: number;
  buildableStart: number;
  state: 'blocked' | 'buildable' | 'left';
  why: string | null;
  leftAt: number | null;
  build: SimBuild | null;
  cancelled: boolean;
}

export interface SimStepNode {
  readonly id: string;
  readonly name: string;
  readonly parentId: string;
  status: WfStatus;
  readonly startMs: number;
  durationMs: number | null;
  error: { message: string | null; type: string } | null;
}

export interface SimStage {
  readonly id: string;
  readonly name: string;
  readonly execNode: string;
  status: WfStatus;
  readonly startMs: number;
  durationMs: number | null;
  pauseMs: number;
  pauseStart: number | null;
  readonly plannedSteps: readonly string[];
  readonly outcome: StageOutcome;
  readonly input: boolean;
  /** The input step's options while it waits. */
  readonly inputSpec: InputSpec | null;
  inputId: string | null;
  /** What the input was answered with (InputSubmittedAction): who and the parameters. */
  inputAnswer: { readonly approver: string | null; readonly params: readonly SimParamValue[] } | null;
  readonly steps: SimStepNode[];
  error: { message: string | null; type: string } | null;
}

export interface SimBuild {
  readonly job: SimJob;
  readonly number: number;
  readonly queueId: number;
  readonly queuedAt: number;
  readonly timestamp: number;
  readonly causes: readonly SimCause[];
  readonly sha: string;
  readonly estimatedDuration: number;
  readonly plan: readonly StageSpec[];
  readonly explicitResult: BuildResult | null;
  /** ParametersAction values, or null for a build of a job without parameters. */
  readonly params: readonly SimParamValue[] | null;
  readonly ignoresInterrupts?: 'stop' | 'stop+term';
  readonly computer: SimComputer;
  readonly executorIndex: number;
  building: boolean;
  /** A custom display name (`currentBuild.displayName`); null shows `#<number>`. */
  displayName: string | null;
  result: BuildResult | null;
  duration: number;
  stages: SimStage[];
  nextStage: number;
  /** A stage failed or aborted: the remaining stages are skipped. */
  broken: 'FAILURE' | 'ABORTED' | null;
  unstable: boolean;
  nodeSeq: number;
  freestyleIdx: number;
  lastTouched: number;
  /** Seeded past: why the build was cut short (a `timeout` step, or its agent's channel closing). */
  readonly interruption?: 'timeout' | 'agent-lost';
  /** Seeded past: the queue times the Metrics plugin's TimeInQueueAction reports (ms). */
  readonly timeInQueue?: { readonly waitingMs: number; readonly buildableMs: number; readonly subTasks: number };
}

export interface PhaseEvent {
  readonly phase: Phase;
  readonly build: SimBuild;
  /** Epoch ms the plugin would stamp on this phase. */
  readonly at: number;
}

export interface AgentSpec {
  name: string;
  labels: string[];
  executors: number;
  offline?: boolean;
  temporarilyOffline?: boolean;
}

export interface TriggerSpec extends BuildSpec {
  job: string;
}

const RESULT_COLOR: Record<BuildResult, string> = {
  SUCCESS: 'blue', UNSTABLE: 'yellow', FAILURE: 'red', NOT_BUILT: 'notbuilt', ABORTED: 'aborted',
};

export function isJob(item: SimItem): item is SimJob {
  return item.kind === 'freestyle' || item.kind === 'pipeline';
}

/** Path segments from the root: ['team-a', 'service']. */
export function pathOf(item: SimItem): string[] {
  const out: string[] = [];
  let cur: SimItem | SimRoot = item;
  while (cur.kind !== 'root') {
    out.unshift(cur.name);
    cur = cur.parent;
  }
  return out;
}

export function fullName(item: SimItem): string {
  return pathOf(item).join('/');
}

export function fullDisplayName(item: SimItem): string {
  const names: string[] = [];
  let cur: SimItem | SimRoot = item;
  while (cur.kind !== 'root') {
    names.unshift(cur.displayName);
    cur = cur.parent;
  }
  return names.join(' » ');
}

/** Jenkins' Util.rawEncode of a job name inside a URL (`feature%2Fx` → `feature%252Fx`). */
export function encodeName(name: string): string {
  return encodeURIComponent(name);
}

/** Relative URL of an item, as `Item.getUrl()`: `job/team-a/job/service/`. */
export function itemUrl(item: SimItem): string {
  return pathOf(item).map((n) => `job/${encodeName(n)}/`).join('');
}

export function buildUrl(build: SimBuild): string {
  return `${itemUrl(build.job)}${build.number}/`;
}

/** The label atoms a node carries, including its own name (as Jenkins does). */
export function labelsOf(c: SimComputer): string[] {
  return [...c.labels, c.builtIn ? 'built-in' : c.name].filter((l, i, a) => a.indexOf(l) === i);
}

export function isOffline(c: SimComputer): boolean {
  return c.channelDown || c.temporarilyOffline;
}

/** `a && b` and single atoms; `||` alternatives. Enough for realistic label expressions. */
export function labelMatches(expr: string | null, c: SimComputer): boolean {
  const atoms = new Set(labelsOf(c));
  if (expr === null || expr.trim() === '') return true;
  return expr.split('||').some((alt) => alt.split('&&').every((a) => atoms.has(a.trim())));
}

export function jobColor(job: SimJob): string {
  const last = job.builds[job.builds.length - 1];
  if (!last) return 'notbuilt';
  if (!last.building) return RESULT_COLOR[last.result ?? 'NOT_BUILT'];
  const prev = [...job.builds].reverse().find((b) => !b.building);
  return `${prev ? RESULT_COLOR[prev.result ?? 'NOT_BUILT'] : 'notbuilt'}_anime`;
}

export function sortedChildren(c: SimContainer): SimItem[] {
  return [...c.children.values()].sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
}

export function userCause(user: string): SimCause {
  return { cls: 'hudson.model.Cause$UserIdCause', shortDescription: `Started by user ${user}`, userId: user, userName: user };
}

export const SCM_CAUSE: SimCause = { cls: 'hudson.triggers.SCMTrigger$SCMTriggerCause', shortDescription: 'Started by an SCM change' };
export const TIMER_CAUSE: SimCause = { cls: 'hudson.triggers.TimerTrigger$TimerTriggerCause', shortDescription: 'Started by timer' };
export const BRANCH_CAUSE: SimCause = { cls: 'jenkins.branch.BranchIndexingCause', shortDescription: 'Branch indexing' };
