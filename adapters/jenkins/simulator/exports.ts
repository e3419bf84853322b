/**
 * The exported beans of Jenkins core and the plugins the simulator stands in
 * for (folders, workflow-job, workflow-multibranch, git), with their `_class`
 * names and visibilities, so the tree/depth filter in tree.ts answers the way
 * `…/api/json` does. The wfapi (stage view) bodies are plain Jackson JSON.
 */
import { ExportNode, type JValue } from './tree.ts';
import {
  buildUrl, fullDisplayName, fullName, isJob, isOffline, itemUrl, jobColor, labelsOf, sortedChildren,
  type SimBuild, type SimCause, type SimComputer, type SimFolder, type SimItem, type SimJob,
  type SimParamDef, type SimParamValue, type SimQueueItem, type SimStage,
} from './world-entities.ts';
import { defaultParams } from './world-lifecycle.ts';
import type { World } from './world.ts';

export const JENKINS_VERSION = '2.479.3';

const CLS = {
  hudson: 'hudson.model.Hudson',
  folder: 'com.cloudbees.hudson.plugins.folder.Folder',
  multibranch: 'org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject',
  freestyle: 'hudson.model.FreeStyleProject',
  pipeline: 'org.jenkinsci.plugins.workflow.job.WorkflowJob',
  freestyleBuild: 'hudson.model.FreeStyleBuild',
  pipelineRun: 'org.jenkinsci.plugins.workflow.job.WorkflowRun',
} as const;

export interface Ctx {
  /** Jenkins root URL with the trailing slash: http://127.0.0.1:PORT/ */
  readonly root: string;
  readonly world: World;
}

const VIS_NAME = 999;

function allView(url: string): ExportNode {
  return new ExportNode('hudson.model.AllView').set('name', 'all', 2).set('url', url, 2);
}

function healthReport(job: SimJob): JValue {
  const recent = job.builds.filter((b) => !b.building).slice(-5);
  if (recent.length === 0) return [];
  const failed = recent.filter((b) => b.result === 'FAILURE').length;
  const score = Math.round(100 * (1 - failed / recent.length));
  const bucket = score > 80 ? '80plus' : score > 60 ? '60to79' : score > 40 ? '40to59' : score > 20 ? '20to39' : '00to19';
  return [
    new ExportNode(null)
      .set('description', `Build stability: ${failed === 0 ? 'No recent builds failed.' : `${failed} out of the last ${recent.length} builds failed.`}`, 2)
      .set('iconClassName', `icon-health-${bucket}`, 2)
      .set('iconUrl', `health-${bucket}.png`, 2)
      .set('score', score, 2),
  ];
}

/** A job or folder as a child entry (`jobs[]`), or at the top when requested directly. */
export function item(ctx: Ctx, it: SimItem): ExportNode {
  return isJob(it) ? job(ctx, it) : folder(ctx, it);
}

export function rootNode(ctx: Ctx): ExportNode {
  const { world, root } = ctx;
  const builtIn = world.computers.find((c) => c.builtIn);
  return new ExportNode(CLS.hudson)
    .set('assignedLabels', [new ExportNode(null).set('name', 'built-in', 2)])
    .set('mode', 'NORMAL')
    .set('nodeDescription', "the Jenkins controller's built-in node")
    .set('nodeName', '')
    .set('numExecutors', builtIn?.numExecutors ?? 0)
    .set('description', null)
    .set('jobs', () => sortedChildren(world.root).map((c) => item(ctx, c)))
    .set('overallLoad', new ExportNode('hudson.model.OverallLoadStatistics'))
    .set('primaryView', allView(root))
    .set('quietDownReason', null)
    .set('quietingDown', false)
    .set('slaveAgentPort', 50000)
    .set('unlabeledLoad', new ExportNode('jenkins.model.UnlabeledLoadStatistics'))
    .set('url', root)
    .set('useCrumbs', true)
    .set('useSecurity', true)
    .set('views', [allView(root)]);
}

function folder(ctx: Ctx, f: SimFolder): ExportNode {
  const url = ctx.root + itemUrl(f);
  const node = new ExportNode(f.kind === 'multibranch' ? CLS.multibranch : CLS.folder)
    .set('actions', () => folderActions(f))
    .set('description', f.description)
    .set('displayName', f.displayName)
    .set('displayNameOrNull', null)
    .set('fullDisplayName', fullDisplayName(f))
    .set('fullName', fullName(f))
    .set('name', f.name, VIS_NAME)
    .set('url', url, VIS_NAME)
    .set('healthReport', [])
    .set('jobs', () => sortedChildren(f).map((c) => item(ctx, c)))
    .set('primaryView', allView(url))
    .set('views', [allView(url)]);
  if (f.kind === 'multibranch') node.set('sources', [new ExportNode('jenkins.branch.BranchSource')]);
  return node;
}

function folderActions(f: SimFolder): JValue {
  const actions: JValue[] = [new ExportNode('com.cloudbees.hudson.plugins.folder.health.FolderHealthMetricAction')];
  if (f.kind === 'multibranch') actions.push(new ExportNode('jenkins.branch.MultiBranchProjectViewHolder$ViewHolderAction'));
  actions.push(new ExportNode('org.jenkinsci.plugins.displayurlapi.actions.JobDisplayAction'));
  return actions;
}

function permalink(ctx: Ctx, b: SimBuild | undefined): JValue {
  return b ? build(ctx, b) : null;
}

export function job(ctx: Ctx, j: SimJob): ExportNode {
  const url = ctx.root + itemUrl(j);
  const pipeline = j.kind === 'pipeline';
  const newestFirst = (): SimBuild[] => [...j.builds].reverse();
  const last = (pred: (b: SimBuild) => boolean): SimBuild | undefined => newestFirst().find(pred);
  const done = (b: SimBuild): boolean => !b.building;
  const node = new ExportNode(pipeline ? CLS.pipeline : CLS.freestyle)
    .set('actions', () => jobActions(j))
    .set('description', null)
    .set('displayName', j.displayName)
    .set('displayNameOrNull', j.displayName === j.name ? null : j.displayName)
    .set('fullDisplayName', fullDisplayName(j))
    .set('fullName', fullName(j))
    .set('name', j.name, VIS_NAME)
    .set('url', url, VIS_NAME)
    .set('buildable', true)
    // Job.getNewBuilds(): the 100 newest; allBuilds (visibility -2) only through tree=.
    .set('builds', () => newestFirst().slice(0, 100).map((b) => build(ctx, b)))
    .set('allBuilds', () => newestFirst().map((b) => build(ctx, b)), -2)
    .set('color', () => jobColor(j), 2)
    .set('firstBuild', () => permalink(ctx, j.builds[0]))
    .set('healthReport', () => healthReport(j))
    .set('inQueue', () => queued(ctx, j).length > 0)
    .set('keepDependencies', false)
    .set('lastBuild', () => permalink(ctx, last(() => true)))
    .set('lastCompletedBuild', () => permalink(ctx, last(done)))
    .set('lastFailedBuild', () => permalink(ctx, last((b) => done(b) && b.result === 'FAILURE')))
    .set('lastStableBuild', () => permalink(ctx, last((b) => done(b) && b.result === 'SUCCESS')))
    .set('lastSuccessfulBuild', () => permalink(ctx, last((b) => done(b) && (b.result === 'SUCCESS' || b.result === 'UNSTABLE'))))
    .set('lastUnstableBuild', () => permalink(ctx, last((b) => done(b) && b.result === 'UNSTABLE')))
    .set('lastUnsuccessfulBuild', () => permalink(ctx, last((b) => done(b) && b.result !== 'SUCCESS')))
    .set('nextBuildNumber', j.nextBuildNumber)
    .set('property', () => jobProperties(j))
    .set('queueItem', () => {
      const q = queued(ctx, j)[0];
      return q ? queueItem(ctx, q) : null;
    })
    .set('concurrentBuild', j.concurrent)
    .set('disabled', false);
  if (pipeline) node.set('resumeBlocked', false);
  else {
    node
      .set('downstreamProjects', [])
      .set('labelExpression', j.label)
      .set('scm', new ExportNode('hudson.plugins.git.GitSCM'))
      .set('upstreamProjects', []);
  }
  return node;
}

function jobActions(j: SimJob): JValue {
  const actions: JValue[] = [new ExportNode(null), new ExportNode(null)];
  if (j.kind === 'pipeline') actions.push(new ExportNode('org.jenkinsci.plugins.displayurlapi.actions.JobDisplayAction'));
  actions.push(new ExportNode('com.cloudbees.plugins.credentials.ViewCredentialsAction'));
  return actions;
}

function jobProperties(j: SimJob): JValue {
  const out: JValue[] = [];
  if (j.parent.kind === 'multibranch') {
    out.push(new ExportNode('org.jenkinsci.plugins.workflow.multibranch.BranchJobProperty').set('branch', new ExportNode(null).set('head', new ExportNode('jenkins.plugins.git.GitBranchSCMHead'))));
  }
  if (j.params.length > 0) {
    out.push(new ExportNode('hudson.model.ParametersDefinitionProperty').set('parameterDefinitions', j.params.map(paramDefinition), 2));
  }
  return out;
}

const PARAM_DEF_CLASS: Record<SimParamDef['type'], string> = {
  string: 'StringParameterDefinition',
  text: 'TextParameterDefinition',
  boolean: 'BooleanParameterDefinition',
  choice: 'ChoiceParameterDefinition',
  password: 'PasswordParameterDefinition',
};
const PARAM_VALUE_CLASS: Record<SimParamDef['type'], string> = {
  string: 'hudson.model.StringParameterValue',
  text: 'hudson.model.TextParameterValue',
  boolean: 'hudson.model.BooleanParameterValue',
  // ChoiceParameterDefinition.createValue makes a StringParameterValue.
  choice: 'hudson.model.StringParameterValue',
  password: 'hudson.model.PasswordParameterValue',
};

/** A ParameterValue bean; a password's value is a Secret and is not exported. */
export function paramValue(v: SimParamValue): ExportNode {
  const node = new ExportNode(PARAM_VALUE_CLASS[v.type]).set('name', v.name, 3);
  if (v.type !== 'password') node.set('value', v.value, 3);
  return node;
}

/** A ParameterDefinition bean (`type` is the class's simple name, as ParameterDefinition.getType()). */
function paramDefinition(d: SimParamDef): ExportNode {
  const cls = PARAM_DEF_CLASS[d.type];
  const dflt = defaultParams([d])[0]!;
  const node = new ExportNode(`hudson.model.${cls}`)
    .set('defaultParameterValue', paramValue(dflt), 3)
    .set('description', d.description ?? null, 3)
    .set('name', d.name, 3)
    .set('type', cls, 3);
  if (d.type === 'choice') node.set('choices', [...(d.choices ?? [])], 3);
  return node;
}

function parametersAction(values: readonly SimParamValue[]): ExportNode {
  return new ExportNode('hudson.model.ParametersAction').set('parameters', values.map(paramValue), 2);
}

function queued(ctx: Ctx, j: SimJob): SimQueueItem[] {
  return ctx.world.waiting().filter((q) => q.job === j);
}

function cause(c: SimCause): ExportNode {
  const n = new ExportNode(c.cls).set('shortDescription', c.shortDescription, 3);
  if (c.userId !== undefined) n.set('userId', c.userId, 3);
  if (c.userName !== undefined) n.set('userName', c.userName, 3);
  return n;
}

function causeAction(causes: readonly SimCause[]): ExportNode {
  return new ExportNode('hudson.model.CauseAction').set('causes', causes.map(cause), 2);
}

function gitBuildData(ctx: Ctx, b: SimBuild): ExportNode {
  const branchName = b.job.parent.kind === 'multibranch' ? b.job.gitBranch : `refs/remotes/${b.job.gitBranch}`;
  const revision = (): ExportNode => new ExportNode(null)
    .set('SHA1', b.sha, 999)
    .set('branch', [new ExportNode(null).set('SHA1', b.sha, 999).set('name', branchName, 999)], 999);
  const buildEntry = new ExportNode('hudson.plugins.git.util.Build')
    .set('buildNumber', b.number, 999)
    .set('buildResult', null, 999)
    .set('marked', revision(), 999)
    .set('revision', revision(), 999);
  return new ExportNode('hudson.plugins.git.util.BuildData')
    .set('buildsByBranchName', new ExportNode(null).set(branchName, buildEntry, 999), 999)
    .set('lastBuiltRevision', revision(), 999)
    .set('remoteUrls', [b.job.scmUrl], 999)
    .set('scmName', '', 999);
}

/** Whether the build has checked out yet (BuildData appears with the first SCM step). */
function checkedOut(b: SimBuild): boolean {
  return !b.building || (b.job.kind === 'freestyle' ? b.freestyleIdx > 0 : b.stages.length > 0);
}

function buildActions(ctx: Ctx, b: SimBuild): JValue {
  const actions: JValue[] = [];
  if (b.params) actions.push(parametersAction(b.params));
  actions.push(causeAction(b.causes));
  if (checkedOut(b)) actions.push(gitBuildData(ctx, b));
  if (b.job.kind === 'pipeline') {
    actions.push(new ExportNode('org.jenkinsci.plugins.workflow.libs.LibrariesAction'));
    actions.push(new ExportNode(null));
    if (b.stages.some((s) => s.status === 'PAUSED_PENDING_INPUT')) {
      actions.push(new ExportNode('org.jenkinsci.plugins.workflow.support.steps.input.InputAction'));
    }
    actions.push(new ExportNode('org.jenkinsci.plugins.pipeline.modeldefinition.actions.RestartDeclarativePipelineAction').set('restartEnabled', false).set('restartableStages', []));
    actions.push(new ExportNode('org.jenkinsci.plugins.workflow.job.views.FlowGraphAction'));
  } else {
    actions.push(new ExportNode(null));
  }
  actions.push(new ExportNode('org.jenkinsci.plugins.displayurlapi.actions.RunDisplayAction'));
  if (b.interruption === 'timeout') actions.push(interruptedBuildAction());
  if (b.timeInQueue && !b.building) actions.push(timeInQueueAction(b, b.timeInQueue));
  return actions;
}

/** jenkins.model.InterruptedBuildAction: what a `timeout` step records when it stops the build. */
function interruptedBuildAction(): ExportNode {
  const cause = new ExportNode('org.jenkinsci.plugins.workflow.steps.TimeoutStepExecution$ExceededTimeout').set('shortDescription', 'Timeout has been exceeded');
  return new ExportNode('jenkins.model.InterruptedBuildAction').set('causes', [cause]);
}

/**
 * The Metrics plugin's jenkins.metrics.impl.TimeInQueueAction: how long the
 * build waited (quiet period), was buildable without an executor, and ran;
 * for Pipeline builds the `node` blocks' waits count as subtasks' queuing.
 */
function timeInQueueAction(b: SimBuild, t: NonNullable<SimBuild['timeInQueue']>): ExportNode {
  const queuing = t.waitingMs + t.buildableMs;
  const executing = Math.max(0, b.duration - (t.subTasks > 0 ? t.buildableMs : 0));
  const n = new ExportNode('jenkins.metrics.impl.TimeInQueueAction');
  const ms = (name: string, v: number) => n.set(`${name}DurationMillis`, v, 2).set(`${name}TimeMillis`, v, 2);
  ms('blocked', 0);
  ms('buildable', t.buildableMs);
  n.set('buildingDurationMillis', b.duration, 2).set('executingTimeMillis', executing, 2);
  n.set('executorUtilization', b.duration > 0 ? Math.round((executing / b.duration) * 100) / 100 : 1, 2);
  ms('queuing', queuing);
  n.set('subTaskCount', t.subTasks, 2).set('totalDurationMillis', queuing + b.duration, 2);
  ms('waiting', t.waitingMs);
  return n;
}

export function build(ctx: Ctx, b: SimBuild): ExportNode {
  const pipeline = b.job.kind === 'pipeline';
  const node = new ExportNode(pipeline ? CLS.pipelineRun : CLS.freestyleBuild)
    .set('actions', () => buildActions(ctx, b))
    .set('artifacts', [])
    .set('building', b.building)
    .set('description', null)
    .set('displayName', b.displayName ?? `#${b.number}`)
    .set('duration', b.duration)
    .set('estimatedDuration', b.estimatedDuration)
    .set('executor', b.building ? new ExportNode(null).set('currentExecutable', new ExportNode(pipeline ? CLS.pipelineRun : CLS.freestyleBuild)).set('idle', false).set('likelyStuck', false).set('number', b.executorIndex).set('progress', progress(ctx, b)) : null)
    .set('fullDisplayName', `${fullDisplayName(b.job)} ${b.displayName ?? `#${b.number}`}`)
    .set('id', String(b.number))
    .set('keepLog', false)
    .set('number', b.number, 3)
    .set('queueId', b.queueId)
    .set('result', b.result)
    .set('timestamp', b.timestamp)
    .set('url', ctx.root + buildUrl(b), 2)
    .set('inProgress', b.building);
  const siblings = b.job.builds;
  const at = siblings.indexOf(b);
  const ref = (x: SimBuild | undefined): JValue => (x ? new ExportNode(null).set('number', x.number, 3).set('url', ctx.root + buildUrl(x), 2) : null);
  node.set('nextBuild', () => ref(siblings[at + 1])).set('previousBuild', () => ref(at > 0 ? siblings[at - 1] : undefined));
  if (pipeline) {
    node.set('changeSets', []).set('culprits', []);
  } else {
    node
      .set('builtOn', b.computer.builtIn ? '' : b.computer.name)
      .set('changeSet', new ExportNode('hudson.scm.EmptyChangeLogSet').set('items', []).set('kind', null))
      .set('culprits', []);
  }
  return node;
}

function progress(ctx: Ctx, b: SimBuild): number {
  if (b.estimatedDuration <= 0) return -1;
  return Math.min(99, Math.floor((100 * (ctx.world.time() - b.timestamp)) / b.estimatedDuration));
}

// ---- queue ------------------------------------------------------------------------------

const QUEUE_CLS = {
  blocked: 'hudson.model.Queue$BlockedItem',
  buildable: 'hudson.model.Queue$BuildableItem',
  left: 'hudson.model.Queue$LeftItem',
} as const;

function task(ctx: Ctx, j: SimJob): ExportNode {
  return new ExportNode(j.kind === 'pipeline' ? CLS.pipeline : CLS.freestyle)
    .set('name', j.name, VIS_NAME)
    .set('url', ctx.root + itemUrl(j), VIS_NAME)
    .set('color', jobColor(j), 2);
}

/** Queue.Item is `@ExportedBean(defaultVisibility = 999)`: every field shows wherever the item does. */
export function queueItem(ctx: Ctx, q: SimQueueItem): ExportNode {
  const V = 999;
  const node = new ExportNode(QUEUE_CLS[q.state])
    .set('actions', q.spec.params ? [parametersAction(q.spec.params), causeAction(q.causes)] : [causeAction(q.causes)], V)
    .set('blocked', q.state === 'blocked', V)
    .set('buildable', q.state === 'buildable', V)
    .set('id', q.id, V)
    .set('inQueueSince', q.inQueueSince, V)
    // Queue.Item.getParams(): each parameter on its own line, each line led by a newline.
    .set('params', (q.spec.params ?? []).map((p) => `\n${p.type === 'password' ? `(PasswordParameterValue) ${p.name}='****'` : `${p.name}=${String(p.value)}`}`).join(''), V)
    .set('stuck', ctx.world.isStuck(q), V)
    .set('task', task(ctx, q.job), V)
    .set('url', `queue/item/${q.id}/`, V)
    .set('why', q.why, V);
  if (q.state === 'left') {
    node.set('cancelled', q.cancelled, V).set('executable', q.build ? build(ctx, q.build) : null, V);
  } else {
    node.set('buildableStartMilliseconds', q.buildableStart, V);
    if (q.state === 'buildable') node.set('pending', false, V);
  }
  return node;
}

export function queueNode(ctx: Ctx): ExportNode {
  const waiting = ctx.world.waiting();
  // Queue.getItems(): blocked first, then buildable; the items most likely built soonest come last.
  const ordered = [
    ...waiting.filter((q) => q.state === 'blocked').reverse(),
    ...waiting.filter((q) => q.state === 'buildable').reverse(),
  ];
  return new ExportNode('hudson.model.Queue')
    .set('discoverableItems', [])
    .set('items', () => ordered.map((q) => queueItem(ctx, q)), 1, true);
}

// ---- computers ----------------------------------------------------------------------------

export function computerUrlName(c: SimComputer): string {
  return c.builtIn ? '(built-in)' : c.name;
}

function offlineCause(c: SimComputer, since: number): JValue {
  if (c.temporarilyOffline) {
    return new ExportNode('hudson.slaves.OfflineCause$UserCause').set('description', `Disconnected by admin : ${c.offlineMessage ?? ''}`).set('timestamp', since);
  }
  if (c.channelDown) {
    return new ExportNode('hudson.slaves.OfflineCause$LaunchFailed').set('description', 'This agent is offline because Jenkins failed to launch the agent process on it.').set('timestamp', since);
  }
  return null;
}

function offlineCauseReason(c: SimComputer): string {
  if (c.temporarilyOffline) return c.offlineMessage ?? '';
  if (c.channelDown) return 'This agent is offline because Jenkins failed to launch the agent process on it.';
  return '';
}

/**
 * Running Pipeline builds: each holds a one-off (flyweight) executor on the
 * controller for the whole run (WorkflowRun is a FlyweightTask), whatever
 * the built-in node's executor count; its `node {}` blocks take regular
 * executors on agents.
 */
function flyweights(ctx: Ctx, c: SimComputer): SimBuild[] {
  return c.builtIn ? ctx.world.running().filter((b) => b.job.kind === 'pipeline') : [];
}

export function computer(ctx: Ctx, c: SimComputer): ExportNode {
  const offline = isOffline(c);
  const oneOff = flyweights(ctx, c);
  // Computer.isIdle(): false while any executor, one-off ones included, is busy.
  const idle = c.executors.every((e) => e === null) && oneOff.length === 0;
  return new ExportNode(c.builtIn ? 'hudson.model.Hudson$MasterComputer' : 'hudson.slaves.SlaveComputer')
    .set('actions', [])
    .set('assignedLabels', labelsOf(c).map((l) => new ExportNode(null).set('name', l, 2)))
    .set('description', c.builtIn ? "the Jenkins controller's built-in node" : '')
    .set('displayName', c.builtIn ? 'Built-In Node' : c.name)
    .set('executors', () => c.executors.map((b, i) => executor(ctx, b, i)))
    .set('icon', offline ? 'symbol-computer-x' : 'symbol-computer')
    .set('iconClassName', offline ? 'symbol-computer-x' : 'symbol-computer')
    .set('idle', idle)
    .set('jnlpAgent', !c.builtIn)
    .set('launchSupported', !c.builtIn)
    .set('loadStatistics', new ExportNode('hudson.model.Label$1'))
    .set('manualLaunchAllowed', !c.builtIn)
    .set('monitorData', new ExportNode(null)
      .set('hudson.node_monitors.ArchitectureMonitor', offline ? null : c.labels.includes('mac') ? 'Mac OS X (aarch64)' : 'Linux (amd64)', 999)
      .set('hudson.node_monitors.ResponseTimeMonitor', offline ? null : new ExportNode('hudson.node_monitors.ResponseTimeMonitor$Data').set('timestamp', ctx.world.time(), 999).set('average', 12, 999), 999))
    .set('numExecutors', c.numExecutors)
    .set('offline', offline)
    .set('offlineCause', offlineCause(c, ctx.world.time()))
    .set('offlineCauseReason', offlineCauseReason(c))
    .set('oneOffExecutors', () => oneOff.map((b) => executor(ctx, b, -1)))
    .set('temporarilyOffline', c.temporarilyOffline);
}

/** Executor fields have default visibility: `executors:[{},{}]` at depth 0, details from depth 1. */
function executor(ctx: Ctx, b: SimBuild | null, index: number): ExportNode {
  return new ExportNode(null)
    .set('currentExecutable', b ? build(ctx, b) : null)
    .set('idle', b === null)
    .set('likelyStuck', false)
    .set('number', index)
    .set('progress', b ? progress(ctx, b) : -1);
}

export function computerSet(ctx: Ctx): ExportNode {
  const online = ctx.world.computers.filter((c) => !isOffline(c));
  return new ExportNode('hudson.model.ComputerSet')
    .set('busyExecutors', online.reduce((n, c) => n + c.executors.filter((e) => e !== null).length, 0))
    .set('computer', () => ctx.world.computers.map((c) => computer(ctx, c)), 1, true)
    .set('displayName', 'Nodes')
    .set('totalExecutors', online.reduce((n, c) => n + c.numExecutors, 0));
}

// ---- wfapi (pipeline-stage-view plugin: plain Jackson JSON, no tree filter) ------------------

/** Context-relative href as the plugin builds it (`/job/x/5/wfapi/describe`). */
function href(path: string): { href: string } {
  return { href: `/${path}` };
}

export function runStatus(b: SimBuild): string {
  if (b.building) return b.stages.some((s) => s.status === 'PAUSED_PENDING_INPUT') ? 'PAUSED_PENDING_INPUT' : 'IN_PROGRESS';
  switch (b.result) {
    case 'SUCCESS': return 'SUCCESS';
    case 'UNSTABLE': return 'UNSTABLE';
    case 'FAILURE': return 'FAILED';
    case 'ABORTED': return 'ABORTED';
    default: return 'NOT_EXECUTED';
  }
}

function stageDuration(ctx: Ctx, s: SimStage): number {
  if (s.durationMs !== null) return s.durationMs;
  return Math.max(0, ctx.world.time() - s.startMs);
}

function pause(ctx: Ctx, s: SimStage): number {
  return s.pauseMs + (s.pauseStart !== null ? Math.max(0, ctx.world.time() - s.pauseStart) : 0);
}

export function stageJson(ctx: Ctx, b: SimBuild, s: SimStage, withNodes: boolean): Record<string, unknown> {
  const base = buildUrl(b);
  const out: Record<string, unknown> = {
    _links: { self: href(`${base}execution/node/${s.id}/wfapi/describe`) },
    id: s.id,
    name: s.name,
    execNode: s.execNode,
    status: s.status,
  };
  if (s.error && s.status !== 'NOT_EXECUTED') out.error = s.error;
  out.startTimeMillis = s.startMs;
  out.durationMillis = stageDuration(ctx, s);
  out.pauseDurationMillis = pause(ctx, s);
  if (withNodes) {
    out.stageFlowNodes = s.steps.map((n) => {
      const node: Record<string, unknown> = {
        _links: {
          self: href(`${base}execution/node/${n.id}/wfapi/describe`),
          log: href(`${base}execution/node/${n.id}/wfapi/log`),
        },
        id: n.id,
        name: n.name,
        execNode: s.execNode,
        status: n.status,
      };
      if (n.error) node.error = n.error;
      if (n.name === 'Shell Script') node.parameterDescription = './ci.sh';
      node.startTimeMillis = n.startMs;
      node.durationMillis = n.durationMs ?? Math.max(0, ctx.world.time() - n.startMs);
      node.pauseDurationMillis = n.status === 'PAUSED_PENDING_INPUT' ? Math.max(0, ctx.world.time() - n.startMs) : 0;
      node.parentNodes = [n.parentId];
      return node;
    });
  }
  return out;
}

/** A run as the stage view describes it; `withNodes` (fullStages=true) keeps every stage's stageFlowNodes. */
export function runJson(ctx: Ctx, b: SimBuild, withNodes = false): Record<string, unknown> {
  const base = buildUrl(b);
  const links: Record<string, unknown> = { self: href(`${base}wfapi/describe`) };
  if (b.stages.some((s) => s.status === 'PAUSED_PENDING_INPUT')) {
    links.pendingInputActions = href(`${base}wfapi/pendingInputActions`);
    links.nextPendingInputAction = href(`${base}wfapi/nextPendingInputAction`);
  }
  links.artifacts = href(`${base}wfapi/artifacts`);
  const now = ctx.world.time();
  const first = b.stages.find((s) => s.status !== 'NOT_EXECUTED');
  const end = b.building ? now : b.timestamp + b.duration;
  const queueDuration = first ? Math.max(0, first.startMs - b.timestamp) : b.building ? Math.max(0, now - b.timestamp) : 0;
  const pauseTotal = b.stages.reduce((n, s) => n + pause(ctx, s), 0);
  return {
    _links: links,
    id: String(b.number),
    name: b.displayName ?? `#${b.number}`,
    status: runStatus(b),
    startTimeMillis: b.timestamp,
    endTimeMillis: end,
    durationMillis: Math.max(0, end - b.timestamp - queueDuration),
    queueDurationMillis: queueDuration,
    pauseDurationMillis: pauseTotal,
    stages: b.stages.map((s) => stageJson(ctx, b, s, withNodes)),
  };
}

export function pendingInputs(b: SimBuild): Record<string, unknown>[] {
  const base = `/${buildUrl(b)}`;
  return b.stages
    .filter((s) => s.status === 'PAUSED_PENDING_INPUT' && s.inputId)
    .map((s) => ({
      id: s.inputId,
      proceedText: s.inputSpec?.ok ?? 'Proceed',
      message: s.inputSpec?.message ?? `Continue with ${s.name}?`,
      // InputActionExt's inputs: each parameter definition as the stage view renders it.
      inputs: (s.inputSpec?.parameters ?? []).map((d) => ({
        type: PARAM_DEF_CLASS[d.type],
        name: d.name,
        description: d.description ?? '',
        definition: { defaultParameterValue: { name: d.name, value: defaultParams([d])[0]!.value }, ...(d.choices ? { choices: [...d.choices] } : {}) },
      })),
      proceedUrl: `${base}wfapi/inputSubmit?inputId=${s.inputId}`,
      abortUrl: `${base}input/${s.inputId}/abort`,
      redirectApprovalUrl: `${base}input/`,
    }));
}

export function jobWfapi(j: SimJob): Record<string, unknown> {
  const base = itemUrl(j);
  return {
    _links: { self: href(`${base}wfapi/describe`), runs: href(`${base}wfapi/runs`) },
    name: j.name,
    runCount: j.builds.length,
  };
}

