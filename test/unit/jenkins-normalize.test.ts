import { describe, expect, it } from 'vitest';
import {
  agentRemovedBy, linkQueuedToBuild, toBuildJob, toPipeline, toProject, toQueuedPipeline, toRunner, toStageJob, toStep,
} from '../../adapters/jenkins/normalize.ts';
import { flattenJobs } from '../../adapters/jenkins/projects.ts';
import { queuedBuilds } from '../../adapters/jenkins/queue.ts';
import { parseJobId, parsePipelineId, refFromUrl, jobPath } from '../../adapters/jenkins/native-ids.ts';
import { compareRevisions } from '../../src/model.ts';
import { entityGlobalId } from '../../src/ids.ts';
import { compilePipelineFilter } from '../../src/resolvers/filters.ts';

/*
 * Fixtures, hand-built (no canonical sample set exists for core /api/json, see
 * reference ci-backends.md §5) from:
 * - builds: the @Exported members of hudson.model.Run / AbstractBuild
 *   (number, url, result, building, inProgress, timestamp, duration,
 *   estimatedDuration, queueId, builtOn, actions[causes], git plugin BuildData
 *   lastBuiltRevision{SHA1,branch[{SHA1,name}]}), §3.2;
 * - stages: the shapes of jenkinsci/pipeline-stage-view-plugin
 *   rest-api/README.md (`wfapi/describe` run with stages[], and
 *   `execution/node/:id/wfapi/describe` with stageFlowNodes[]), §3.3;
 * - queue: hudson.model.Queue$Item (id, task{name,url}, blocked, buildable,
 *   stuck, why, inQueueSince), §3.4; computers: hudson.model.Computer, §3.5.
 */
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

const freestyleBuild = {
  _class: 'hudson.model.FreeStyleBuild',
  number: 41,
  url: 'https://ci.example.com/job/team-a/job/lint/41/',
  result: 'UNSTABLE',
  building: false,
  inProgress: false,
  timestamp: T0,
  duration: 65_000,
  estimatedDuration: 60_000,
  queueId: 900,
  displayName: '#41',
  builtOn: 'agent-1',
  actions: [
    { _class: 'hudson.model.CauseAction', causes: [{ _class: 'hudson.model.Cause$UserIdCause', shortDescription: 'Started by user Ada', userId: 'ada', userName: 'Ada' }] },
    {},
    {
      _class: 'hudson.plugins.git.util.BuildData',
      lastBuiltRevision: { SHA1: '0123456789abcdef0123456789abcdef01234567', branch: [{ SHA1: '0123456789abcdef0123456789abcdef01234567', name: 'refs/remotes/origin/main' }] },
      remoteUrls: ['https://git.example.com/team-a/lint.git'],
    },
  ],
};

const runningWorkflowBuild = {
  _class: 'org.jenkinsci.plugins.workflow.job.WorkflowRun',
  number: 7,
  url: 'https://ci.example.com/job/shop/job/web/job/feature%252Fx/7/',
  result: null,
  building: true,
  timestamp: T0,
  duration: 0,
  estimatedDuration: 120_000,
  queueId: 1001,
  displayName: '#7',
  actions: [{ _class: 'hudson.model.CauseAction', causes: [{ _class: 'jenkins.branch.BranchIndexingCause', shortDescription: 'Branch indexing' }] }],
};

/** rest-api/README.md: GET /job/:job-name/:run-id/wfapi/describe */
const wfapiRun = {
  _links: { self: { href: '/job/shop/job/web/job/feature%252Fx/7/wfapi/describe' } },
  id: '7',
  name: '#7',
  status: 'PAUSED_PENDING_INPUT',
  startTimeMillis: T0,
  endTimeMillis: T0 + 30_000,
  durationMillis: 30_000,
  queueDurationMillis: 10,
  pauseDurationMillis: 5_000,
  stages: [
    { _links: { self: { href: '/job/shop/job/web/job/feature%252Fx/7/execution/node/6/wfapi/describe' } }, id: '6', name: 'Build', execNode: 'agent-2', status: 'SUCCESS', startTimeMillis: T0 + 100, durationMillis: 20_000, pauseDurationMillis: 0 },
    { _links: { self: { href: '/job/shop/job/web/job/feature%252Fx/7/execution/node/14/wfapi/describe' } }, id: '14', name: 'Lint', execNode: 'agent-2', status: 'NOT_EXECUTED', startTimeMillis: T0 + 20_200, durationMillis: 0, pauseDurationMillis: 0 },
    { _links: { self: { href: '/job/shop/job/web/job/feature%252Fx/7/execution/node/20/wfapi/describe' } }, id: '20', name: 'Deploy', execNode: 'agent-2', status: 'PAUSED_PENDING_INPUT', startTimeMillis: T0 + 20_300, durationMillis: 9_000, pauseDurationMillis: 5_000 },
  ],
};

/** rest-api/README.md: GET /job/:job-name/:run-id/execution/node/:node-id/wfapi/describe */
const stageNodes = {
  id: '6',
  name: 'Build',
  status: 'SUCCESS',
  stageFlowNodes: [
    { id: '7', name: 'Shell Script', execNode: 'agent-2', status: 'SUCCESS', parameterDescription: 'make', startTimeMillis: T0 + 150, durationMillis: 15_000, pauseDurationMillis: 0, parentNodes: ['6'] },
    { id: '9', name: 'Print Message', execNode: 'agent-2', status: 'FAILED', error: { message: 'boom', type: 'hudson.AbortException' }, startTimeMillis: T0 + 15_200, durationMillis: 10, pauseDurationMillis: 0, parentNodes: ['7'] },
  ],
};

describe('jenkins normalize: builds', () => {
  it('maps a finished freestyle build with cause, git revision and branch', () => {
    const p = toPipeline('jk', 'team-a/lint', freestyleBuild);
    expect(p).toMatchObject({
      nativeId: 'team-a/lint#41',
      projectNativeId: 'team-a/lint',
      number: 41,
      status: 'UNSTABLE',
      waitReason: null,
      native: { provider: 'jenkins', status: 'COMPLETED', conclusion: 'UNSTABLE' },
      commitSha: '0123456789abcdef0123456789abcdef01234567',
      branch: 'main',
      ref: 'refs/heads/main',
      event: 'manual',
      actor: { login: 'ada' },
      startedAt: new Date(T0).toISOString(),
      finishedAt: new Date(T0 + 65_000).toISOString(),
    });
    const job = toBuildJob('jk', 'team-a/lint', freestyleBuild);
    expect(job).toMatchObject({ nativeId: 'team-a/lint#41/build', pipelineNativeId: 'team-a/lint#41', status: 'UNSTABLE', runnerNativeId: 'agent-1', steps: [] });
  });

  it('lifts a building Pipeline run paused for input to WAITING/INPUT', () => {
    const p = toPipeline('jk', 'shop/web/feature%2Fx', runningWorkflowBuild, { wfapiStatus: wfapiRun.status, branch: 'feature/x' });
    expect(p).toMatchObject({ status: 'WAITING', waitReason: 'INPUT', branch: 'feature/x', event: 'branch-indexing', finishedAt: null });
    expect(toPipeline('jk', 'shop/web/feature%2Fx', runningWorkflowBuild).status).toBe('RUNNING');
  });

  it('orders revisions so a completed build never regresses to building', () => {
    const running = toPipeline('jk', 'a', { ...freestyleBuild, result: null, building: true, duration: 0 });
    const done = toPipeline('jk', 'a', freestyleBuild);
    expect(compareRevisions(done.revision, running.revision)).toBeGreaterThan(0);
  });

  it('ranks a Pipeline read without its stage view below one with it, at the same phase and time (issue 11 item 2)', () => {
    const waiting = toPipeline('jk', 'shop/web/feature%2Fx', runningWorkflowBuild, { wfapiStatus: 'PAUSED_PENDING_INPUT', stageViewRead: true });
    const listed = toPipeline('jk', 'shop/web/feature%2Fx', runningWorkflowBuild);
    const resumed = toPipeline('jk', 'shop/web/feature%2Fx', runningWorkflowBuild, { wfapiStatus: 'IN_PROGRESS', stageViewRead: true });
    expect(listed.status).toBe('RUNNING');
    expect(compareRevisions(listed.revision, waiting.revision)).toBeLessThan(0);
    // A later stage-view read may move it back to RUNNING (input approved): same rank, accepted.
    expect(compareRevisions(resumed.revision, waiting.revision)).toBe(0);
    // A freestyle build has no stage view: its tree read knows everything.
    expect(compareRevisions(toPipeline('jk', 'a', freestyleBuild).revision, toPipeline('jk', 'a', freestyleBuild, { stageViewRead: true }).revision)).toBe(0);
    // Finishing outranks any building read.
    const done = toPipeline('jk', 'shop/web/feature%2Fx', { ...runningWorkflowBuild, building: false, result: 'SUCCESS', duration: 60_000 });
    expect(compareRevisions(done.revision, waiting.revision)).toBeGreaterThan(0);
  });

  it('names a build by its job unless it has a display name of its own (issue 11 item 8)', () => {
    expect(toPipeline('jk', 'team-a/lint', { ...freestyleBuild, fullDisplayName: 'Team A » Lint #41' }).name).toBe('Lint');
    expect(toPipeline('jk', 'team-a/lint', freestyleBuild).name).toBe('lint');
    expect(toPipeline('jk', 'shop/web/feature%2Fx', runningWorkflowBuild).name).toBe('feature/x');
    expect(toPipeline('jk', 'team-a/lint', { ...freestyleBuild, displayName: 'release 1.2', fullDisplayName: 'Team A » Lint release 1.2' }).name).toBe('release 1.2');
  });

  it('explains an empty stage list read from the stage view', () => {
    expect(toPipeline('jk', 'a', runningWorkflowBuild, { stageViewRead: true, stageCount: 0 }).jobsNote).toBe('No stage has started yet');
    expect(toPipeline('jk', 'a', { ...runningWorkflowBuild, building: false, result: 'SUCCESS' }, { stageViewRead: true, stageCount: 0 }).jobsNote).toBe('This Pipeline defines no stages');
    expect(toPipeline('jk', 'a', runningWorkflowBuild, { stageViewRead: true, stageCount: 2 }).jobsNote).toBeNull();
    expect(toPipeline('jk', 'a', runningWorkflowBuild).jobsNote).toBeNull();
  });

  it('throws only when the build has no number', () => {
    expect(() => toPipeline('jk', 'a', { result: 'SUCCESS' })).toThrow(/number/);
    expect(toPipeline('jk', 'a', { number: 1, result: 42, timestamp: 'x' }).status).toBe('UNKNOWN');
  });
});

describe('jenkins normalize: wfapi stages and steps', () => {
  const ctx = { fullName: 'shop/web/feature%2Fx', number: 7, buildUrl: runningWorkflowBuild.url, branch: 'feature/x' };
  it('maps each stage to a Job, NOT_EXECUTED as skipped and an input as WAITING/INPUT', () => {
    const jobs = wfapiRun.stages.map((s) => toStageJob('jk', ctx, s));
    expect(jobs.map((j) => [j.nativeId, j.name, j.status, j.waitReason])).toEqual([
      ['shop/web/feature%2Fx#7/stage/6', 'Build', 'SUCCESS', null],
      ['shop/web/feature%2Fx#7/stage/14', 'Lint', 'SKIPPED', null],
      ['shop/web/feature%2Fx#7/stage/20', 'Deploy', 'WAITING', 'INPUT'],
    ]);
    expect(jobs[0]).toMatchObject({ runnerNativeId: 'agent-2', runnerName: 'agent-2', pipelineNativeId: 'shop/web/feature%2Fx#7', finishedAt: new Date(T0 + 20_100).toISOString() });
    expect(jobs[2]!.runnerNativeId).toBe('agent-2');
  });

  it('maps stage flow nodes to Steps', () => {
    const steps = stageNodes.stageFlowNodes.map((n, i) => toStep(n, i));
    expect(steps).toEqual([
      expect.objectContaining({ number: 1, name: 'Shell Script: make', status: 'SUCCESS' }),
      expect.objectContaining({ number: 2, name: 'Print Message', status: 'FAILURE', native: expect.objectContaining({ failureReason: 'boom' }) }),
    ]);
  });

  // The shape the simulator's incident builds have (adapters/jenkins/simulator/world-past.ts), from remoting's ChannelStateException message.
  const lostChannel = {
    message: 'Channel "hudson.remoting.Channel@5e2a1f:agent-2": Remote call on agent-2 failed. The channel is closing down or has closed down',
    type: 'hudson.remoting.ChannelClosedException',
  };

  it('maps a stage and step whose agent\'s channel closed to ERROR, the exception type as failure reason', () => {
    const step = toStep({ id: '9', name: 'Shell Script', status: 'FAILED', error: lostChannel, startTimeMillis: T0, durationMillis: 10 }, 0);
    expect(step).toMatchObject({ status: 'ERROR', native: { status: 'FAILED', failureReason: 'hudson.remoting.ChannelClosedException' } });
    const job = toStageJob('jk', ctx, { ...wfapiRun.stages[0], status: 'FAILED', error: lostChannel }, [step]);
    expect(job).toMatchObject({ status: 'ERROR', runnerName: 'agent-2', native: { status: 'FAILED', failureReason: 'hudson.remoting.ChannelClosedException' } });
    expect(job.finishedAt).not.toBeNull();
    // The pipeline's own failure stays FAILURE, with its message.
    const script = toStageJob('jk', ctx, { ...wfapiRun.stages[0], status: 'FAILED', error: { message: 'script returned exit code 1', type: 'hudson.AbortException' } });
    expect(script).toMatchObject({ status: 'FAILURE', native: { failureReason: 'script returned exit code 1' } });
  });

  it('maps the ABORTED stage and steps of a build whose agent was removed to ERROR (InterruptedBuildAction RemovedNodeCause)', () => {
    const removed = 'org.jenkinsci.plugins.workflow.support.steps.ExecutorStepExecution$RemovedNodeCause';
    const build = {
      ...runningWorkflowBuild, building: false, result: 'ABORTED',
      actions: [...runningWorkflowBuild.actions, { _class: 'jenkins.model.InterruptedBuildAction', causes: [{ _class: removed, shortDescription: 'Agent was removed' }] }],
    };
    expect(agentRemovedBy(build)).toBe(removed);
    expect(agentRemovedBy(runningWorkflowBuild)).toBeNull();
    const interrupted = { message: null, type: 'org.jenkinsci.plugins.workflow.steps.FlowInterruptedException' };
    const steps = [
      toStep({ id: '7', name: 'Shell Script', status: 'SUCCESS', startTimeMillis: T0, durationMillis: 10 }, 0),
      toStep({ id: '8', name: 'Shell Script', status: 'ABORTED', error: interrupted, startTimeMillis: T0 + 10, durationMillis: 10 }, 1),
    ];
    const stage = { ...wfapiRun.stages[0], status: 'ABORTED', error: interrupted };
    const job = toStageJob('jk', { ...ctx, agentRemovedBy: agentRemovedBy(build) }, stage, steps);
    expect(job).toMatchObject({ status: 'ERROR', native: { status: 'ABORTED', failureReason: removed } });
    expect(job.steps.map((s) => [s.status, s.native.failureReason])).toEqual([['SUCCESS', null], ['ERROR', removed]]);
    // Without the removal cause (a user's abort, a timeout) it stays CANCELED.
    const aborted = toStageJob('jk', ctx, stage, steps);
    expect(aborted.status).toBe('CANCELED');
    expect(aborted.steps.map((s) => s.status)).toEqual(['SUCCESS', 'CANCELED']);
  });

  it('orders a running stage before its finished self', () => {
    const running = toStageJob('jk', ctx, { ...wfapiRun.stages[0], status: 'IN_PROGRESS', durationMillis: 5_000 });
    const done = toStageJob('jk', ctx, wfapiRun.stages[0]);
    expect(compareRevisions(done.revision, running.revision)).toBeGreaterThan(0);
  });
});

describe('jenkins normalize: queue', () => {
  const queue = {
    _class: 'hudson.model.Queue',
    items: [
      { _class: 'hudson.model.Queue$BlockedItem', id: 310, blocked: true, buildable: false, stuck: false, inQueueSince: T0, why: 'Build #41 is already in progress (ETA: 10 sec)', task: { _class: 'hudson.model.FreeStyleProject', name: 'lint', url: 'https://ci.example.com/job/team-a/job/lint/' } },
      { _class: 'hudson.model.Queue$BuildableItem', id: 311, blocked: false, buildable: true, stuck: true, inQueueSince: T0 + 1, why: 'Waiting for next available executor on ‘gpu’', task: { name: 'train', url: 'https://ci.example.com/job/ml/job/train/' } },
      // A Pipeline node{} block of a running build: not a new build.
      { _class: 'hudson.model.Queue$BuildableItem', id: 312, blocked: false, buildable: true, stuck: false, inQueueSince: T0, why: 'Waiting for next available executor', task: { _class: 'org.jenkinsci.plugins.workflow.support.steps.ExecutorStepExecution$PlaceholderTask', name: 'part of web #7', url: 'https://ci.example.com/job/shop/job/web/7/' } },
    ],
  };

  it('turns queue items into QUEUED/WAITING pipelines with the reason kept, skipping node{} placeholders', () => {
    const items = queuedBuilds('jk', queue, () => true);
    expect(items.map((i) => [i.model.nativeId, i.model.status, i.model.waitReason, i.model.native.failureReason])).toEqual([
      ['team-a/lint#queue-310', 'WAITING', 'CONCURRENCY', 'Build #41 is already in progress (ETA: 10 sec)'],
      ['ml/train#queue-311', 'QUEUED', null, 'Waiting for next available executor on ‘gpu’ (stuck)'],
    ]);
  });

  it('links a queued item to its build: it follows the build under its own id', () => {
    const queued = toQueuedPipeline('jk', 'team-a/lint', queue.items[0]);
    const linked = linkQueuedToBuild(queued.nativeId, queued, toPipeline('jk', 'team-a/lint', freestyleBuild));
    expect(linked).toMatchObject({ nativeId: 'team-a/lint#queue-310', number: 41, status: 'UNSTABLE', queuedAt: queued.queuedAt });
    expect(compareRevisions(linked.revision, queued.revision)).toBeGreaterThan(0);
  });

  it('marks the started queue item as a stand-in: watched by id, never listed next to its build', () => {
    const queued = toQueuedPipeline('jk', 'team-a/lint', queue.items[0]);
    const build = toPipeline('jk', 'team-a/lint', freestyleBuild);
    const linked = linkQueuedToBuild(queued.nativeId, queued, build);
    expect(linked.aliasOf).toBe(build.nativeId);
    const unfiltered = compilePipelineFilter(null);
    expect([queued, linked, build].filter(unfiltered.matches).map((p) => p.nativeId)).toEqual([queued.nativeId, build.nativeId]);
    const byId = compilePipelineFilter({ ids: [entityGlobalId(linked)] });
    expect(byId.matches(linked)).toBe(true);
    expect(byId.matches(build)).toBe(false);
  });
});

describe('jenkins normalize: jobs, folders and computers', () => {
  const root = {
    jobs: [
      { _class: 'com.cloudbees.hudson.plugins.folder.Folder', name: 'team-a', fullName: 'team-a', jobs: [
        { _class: 'hudson.model.FreeStyleProject', name: 'lint', fullName: 'team-a/lint', lastBuild: { number: 41, building: false } },
      ] },
      { _class: 'com.cloudbees.hudson.plugins.folder.Folder', name: 'shop', fullName: 'shop', jobs: [
        { _class: 'org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject', name: 'web', fullName: 'shop/web', jobs: [
          { _class: 'org.jenkinsci.plugins.workflow.job.WorkflowJob', name: 'feature%2Fx', fullName: 'shop/web/feature%2Fx', displayName: 'feature/x', lastBuild: { number: 7, building: true } },
          { _class: 'org.jenkinsci.plugins.workflow.job.WorkflowJob', name: 'main', fullName: 'shop/web/main', lastBuild: null },
        ] },
      ] },
    ],
  };

  it('walks folders and multibranch projects; a branch job is a Project named by its decoded branch', () => {
    const jobs = flattenJobs(root, undefined);
    expect(jobs.map((j) => [j.fullName, j.lastBuild, j.branch])).toEqual([
      ['team-a/lint', { number: 41, building: false }, null],
      ['shop/web/feature%2Fx', { number: 7, building: true }, 'feature/x'],
      ['shop/web/main', null, 'main'],
    ]);
    expect(toProject('jk', jobs[1]!.raw, jobs[1]!.parentClass)).toMatchObject({ nativeId: 'shop/web/feature%2Fx', name: 'feature/x', defaultBranch: 'feature/x' });
    expect(flattenJobs(root, ['shop']).map((j) => j.fullName)).toEqual(['shop/web/feature%2Fx', 'shop/web/main']);
  });

  it('maps computers: busy by executors, temporarily offline = paused, labels and offline cause kept', () => {
    const busy = toRunner('jk', { displayName: 'agent-1', offline: false, temporarilyOffline: false, idle: false, numExecutors: 2, assignedLabels: [{ name: 'agent-1' }, { name: 'linux' }], executors: [{ idle: false }, { idle: true }], offlineCauseReason: '' }, T0);
    expect(busy).toMatchObject({ nativeId: 'agent-1', state: 'BUSY', paused: false, labels: ['agent-1', 'linux'], scope: 'INSTANCE', revision: [T0], native: { conclusion: '1/2 executors busy' } });
    // Two Pipeline runs on the controller's flyweight executors, no regular executors (issue 11 item 3).
    const controller = toRunner('jk', { displayName: 'Built-In Node', offline: false, temporarilyOffline: false, idle: false, numExecutors: 0, executors: [], oneOffExecutors: [{ idle: false }, { idle: false }] }, T0);
    expect(controller).toMatchObject({ state: 'IDLE', native: { conclusion: '0/0 executors busy; 2 Pipeline runs on flyweight executors' } });
    const paused = toRunner('jk', { displayName: 'agent-2', offline: true, temporarilyOffline: true, idle: true, executors: [{ idle: true }], offlineCauseReason: 'disk full' }, T0);
    expect(paused).toMatchObject({ state: 'OFFLINE', paused: true, native: { status: 'temporarilyOffline', failureReason: 'disk full' } });
  });
});

describe('jenkins native ids', () => {
  it('round-trips and rejects malformed ids', () => {
    expect(parsePipelineId('a/b#12')).toEqual({ kind: 'build', fullName: 'a/b', number: 12 });
    expect(parsePipelineId('a/b#queue-7')).toEqual({ kind: 'queue', fullName: 'a/b', queueId: 7 });
    expect(parseJobId('a/b#12/stage/6')).toEqual({ kind: 'stage', fullName: 'a/b', number: 12, stageId: '6' });
    expect(parseJobId('a/b#12/build')).toEqual({ kind: 'build', fullName: 'a/b', number: 12 });
    for (const bad of ['', '#1', 'a#0', 'a#x', 'a//b#1', 'a/b#1/stage/', '../x#1']) {
      expect(parsePipelineId(bad) ?? parseJobId(bad)).toBeNull();
    }
  });

  it('builds URL paths with encoded segments and reads full names back from URLs', () => {
    expect(jobPath('shop/web/feature%2Fx')).toBe('/job/shop/job/web/job/feature%252Fx');
    expect(refFromUrl('https://ci.example.com/jenkins/job/shop/job/web/job/feature%252Fx/7/')).toEqual({ fullName: 'shop/web/feature%2Fx', number: 7 });
    expect(refFromUrl('job/team-a/job/lint/')).toEqual({ fullName: 'team-a/lint', number: null });
    expect(refFromUrl('https://ci.example.com/computer/agent-1/')).toBeNull();
  });
});
