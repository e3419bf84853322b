/**
 * The Jenkins simulator's JSON API: a real `tree=`/`depth=` filter, folder and
 * multibranch URLs, builds, the queue, computers, wfapi stage lifecycle, and
 * Jetty-style errors, answered the way a Jenkins controller answers.
 */
import { describe, expect, it } from 'vitest';
import {
  createJenkinsSimulator, parseTree, type JenkinsSimulator, type JenkinsSimulatorOptions,
} from '../../adapters/jenkins/simulator/index.ts';
import { simHarness } from '../helpers/sim-harness.ts';

type Json = Record<string, unknown>;
const T0 = Date.parse('2026-11-24T15:00:00Z');
const { boot } = simHarness(
  (opts: JenkinsSimulatorOptions = {}): JenkinsSimulator => createJenkinsSimulator({ seed: 1, now: () => new Date(T0), ...opts }),
);

async function get(sim: JenkinsSimulator, path: string): Promise<Response> {
  return fetch(sim.url + path);
}

async function getJson<T = Json>(sim: JenkinsSimulator, path: string): Promise<T> {
  const res = await get(sim, path);
  expect(res.status, path).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return (await res.json()) as T;
}

/** Every key at every level of a JSON value. */
function keysDeep(v: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) v.forEach((x) => keysDeep(x, out));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.add(k);
      keysDeep(x, out);
    }
  }
  return out;
}

describe('tree= parser', () => {
  it('parses nested properties and every range form', () => {
    const t = parseTree('jobs[name,url,lastBuild[number]]{0,10},views[name]{2},builds{3,},x{,4}');
    expect([...t.children.keys()]).toEqual(['jobs', 'views', 'builds', 'x']);
    expect(t.children.get('jobs')?.range).toEqual({ min: 0, max: 10 });
    expect([...(t.children.get('jobs')?.tree.children.keys() ?? [])]).toEqual(['name', 'url', 'lastBuild']);
    expect(t.children.get('views')?.range).toEqual({ min: 2, max: 3 });
    expect(t.children.get('builds')?.range).toEqual({ min: 3, max: Infinity });
    expect(t.children.get('x')?.range).toEqual({ min: 0, max: 4 });
    expect(() => parseTree('jobs[name')).toThrow();
    expect(() => parseTree('jobs{a,b}')).toThrow();
    expect(() => parseTree('')).toThrow();
  });
});

describe('tree and depth filtering', () => {
  it('returns exactly the requested fields, nested, and nothing else', async () => {
    const sim = await boot();
    const root = await getJson(sim, 'api/json?tree=jobs[name]');
    expect(Object.keys(root).sort()).toEqual(['_class', 'jobs']);
    expect(root._class).toBe('hudson.model.Hudson');
    for (const j of root.jobs as Json[]) expect(Object.keys(j).sort()).toEqual(['_class', 'name']);
    expect(keysDeep(root)).not.toContain('url');
    expect(keysDeep(root)).not.toContain('color');

    const nested = await getJson<{ jobs: { name: string; jobs?: { name: string; jobs?: { name: string; color?: string }[] }[] }[] }>(
      sim, 'api/json?tree=jobs[name,jobs[name,jobs[name,color]]]',
    );
    const platform = nested.jobs.find((j) => j.name === 'platform');
    expect(platform?.jobs?.[0]?.name).toBe('infra');
    expect(platform?.jobs?.[0]?.jobs?.map((j) => j.name)).toEqual(['nightly-backup', 'terraform']);
    expect(platform?.jobs?.[0]?.jobs?.[0]?.color).toMatch(/^(blue|red|yellow|aborted|notbuilt)$/);
    // Folders have no color: asking for it does not invent one.
    expect(Object.keys(nested.jobs.find((j) => j.name === 'team-a') ?? {})).not.toContain('color');

    const withBuilds = await getJson<{ jobs: Json[] }>(sim, 'api/json?tree=jobs[name,url,color,lastBuild[number,building,result,timestamp]]');
    const docs = withBuilds.jobs.find((j) => j.name === 'docs') as Json & { lastBuild: Json };
    expect(Object.keys(docs.lastBuild).sort()).toEqual(['_class', 'building', 'number', 'result', 'timestamp']);
    expect(docs.lastBuild._class).toBe('hudson.model.FreeStyleBuild');
    expect(docs.lastBuild.building).toBe(false);
    expect(docs.url).toBe(`${sim.url}job/docs/`);
  });

  it('applies {M,N} ranges to arrays', async () => {
    const sim = await boot();
    const all = (await getJson<{ jobs: { name: string }[] }>(sim, 'api/json?tree=jobs[name]')).jobs.map((j) => j.name);
    expect(all).toEqual(['docs', 'ios-app', 'monorepo', 'platform', 'team-a']);
    const slice = async (r: string) => (await getJson<{ jobs: { name: string }[] }>(sim, `api/json?tree=jobs[name]${r}`)).jobs.map((j) => j.name);
    expect(await slice('{0,2}')).toEqual(all.slice(0, 2));
    expect(await slice('{3,}')).toEqual(all.slice(3));
    expect(await slice('{,1}')).toEqual(all.slice(0, 1));
    expect(await slice('{2}')).toEqual([all[2]]);
    const builds = await getJson<{ builds: { number: number }[] }>(sim, 'job/team-a/job/service/api/json?tree=builds[number]{0,2}');
    expect(builds.builds.map((b) => b.number)).toEqual([3, 2]);
  });

  it('a nested object named without sub-fields carries only _class; allBuilds only through tree', async () => {
    const sim = await boot();
    const j = await getJson(sim, 'job/team-a/job/service/api/json?tree=lastBuild,allBuilds[number]');
    expect(j.lastBuild).toEqual({ _class: 'org.jenkinsci.plugins.workflow.job.WorkflowRun' });
    expect((j.allBuilds as unknown[]).length).toBe(3);
    const full = await getJson(sim, 'job/team-a/job/service/api/json');
    expect(full).not.toHaveProperty('allBuilds');
  });

  it('depth follows exported visibility: summaries at depth 0, details from depth 1', async () => {
    const sim = await boot();
    const job = await getJson<{ builds: Json[]; lastBuild: Json; color: string; nextBuildNumber: number; inQueue: boolean; queueItem: null; buildable: boolean }>(
      sim, 'job/team-a/job/service/api/json',
    );
    expect(Object.keys(job.builds[0] ?? {}).sort()).toEqual(['_class', 'number', 'url']);
    expect(Object.keys(job.lastBuild).sort()).toEqual(['_class', 'number', 'url']);
    expect(job).toMatchObject({ nextBuildNumber: 4, inQueue: false, queueItem: null, buildable: true });
    const deep = await getJson<{ builds: Json[] }>(sim, 'job/team-a/job/service/api/json?depth=1');
    expect(deep.builds[0]).toHaveProperty('result');
    expect(deep.builds[0]).toHaveProperty('timestamp');

    const c0 = await getJson<{ computer: { executors: Json[] }[] }>(sim, 'computer/api/json');
    expect(c0.computer[1]?.executors).toEqual([{}, {}]);
    const c1 = await getJson<{ computer: { executors: Json[] }[] }>(sim, 'computer/api/json?depth=1');
    expect(c1.computer[1]?.executors[0]).toMatchObject({ idle: true, currentExecutable: null, number: 0 });
  });

  it('rejects a malformed tree with 400', async () => {
    const sim = await boot();
    expect((await get(sim, 'api/json?tree=jobs[name')).status).toBe(400);
  });
});

describe('folders, multibranch and builds', () => {
  it('serves folders, nested folders and multibranch branch jobs at their Jenkins URLs', async () => {
    const sim = await boot();
    const teamA = await getJson<{ _class: string; jobs: Json[]; fullName: string }>(sim, 'job/team-a/api/json');
    expect(teamA._class).toBe('com.cloudbees.hudson.plugins.folder.Folder');
    expect(teamA.jobs).toEqual([
      { _class: 'hudson.model.FreeStyleProject', name: 'lint', url: `${sim.url}job/team-a/job/lint/`, color: expect.any(String) },
      { _class: 'org.jenkinsci.plugins.workflow.job.WorkflowJob', name: 'service', url: `${sim.url}job/team-a/job/service/`, color: expect.any(String) },
    ]);
    const mono = await getJson<{ _class: string; jobs: { name: string; url: string }[] }>(sim, 'job/monorepo/api/json');
    expect(mono._class).toBe('org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject');
    const feature = mono.jobs.find((j) => j.name === 'feature%2Fx');
    expect(feature?.url).toBe(`${sim.url}job/monorepo/job/feature%252Fx/`);
    const branch = await getJson(sim, `${feature?.url.slice(sim.url.length)}api/json`);
    expect(branch).toMatchObject({ fullName: 'monorepo/feature%2Fx', displayName: 'feature/x', fullDisplayName: 'monorepo » feature/x', name: 'feature%2Fx' });
    // A single-encoded slash is rejected by Jetty.
    expect((await get(sim, 'job/monorepo/job/feature%2Fx/api/json')).status).toBe(400);

    const tf = await getJson(sim, 'job/platform/job/infra/job/terraform/api/json');
    expect(tf).toMatchObject({ _class: 'org.jenkinsci.plugins.workflow.job.WorkflowJob', fullName: 'platform/infra/terraform', fullDisplayName: 'platform » infra » terraform' });
  });

  it('builds carry result, timing, queueId, causes and git BuildData; permalinks resolve', async () => {
    const sim = await boot();
    const b = await getJson<Json & { actions: Json[] }>(sim, 'job/team-a/job/lint/lastBuild/api/json');
    expect(b).toMatchObject({
      _class: 'hudson.model.FreeStyleBuild', number: 3, building: false, inProgress: false,
      displayName: '#3', fullDisplayName: 'team-a » lint #3', url: `${sim.url}job/team-a/job/lint/3/`,
      builtOn: expect.stringMatching(/^linux-/), executor: null,
    });
    expect(['SUCCESS', 'FAILURE', 'UNSTABLE']).toContain(b.result);
    expect(b.timestamp).toBeLessThan(T0);
    expect(b.duration).toBeGreaterThan(0);
    expect(b.queueId).toEqual(expect.any(Number));
    const cause = b.actions.find((a) => a._class === 'hudson.model.CauseAction') as { causes: Json[] };
    expect(cause.causes[0]).toHaveProperty('shortDescription');
    const git = b.actions.find((a) => a._class === 'hudson.plugins.git.util.BuildData') as { lastBuiltRevision: { SHA1: string; branch: { name: string }[] } };
    expect(git.lastBuiltRevision.SHA1).toMatch(/^[0-9a-f]{40}$/);
    expect(git.lastBuiltRevision.branch[0]?.name).toBe('refs/remotes/origin/main');
    // WorkflowRun has no builtOn (the node is per stage: wfapi execNode).
    const run = await getJson(sim, 'job/monorepo/job/main/1/api/json');
    expect(run._class).toBe('org.jenkinsci.plugins.workflow.job.WorkflowRun');
    expect(run).not.toHaveProperty('builtOn');
    expect((await get(sim, 'job/team-a/job/lint/99/api/json')).status).toBe(404);
  });

  it('answers unknown paths with a Jetty 404 page and X-Jenkins on every response', async () => {
    const sim = await boot();
    const res = await get(sim, 'job/nope/api/json');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('HTTP ERROR 404 Not Found');
    expect(res.headers.get('x-jenkins')).toMatch(/^2\.\d+/);
    expect((await get(sim, 'api/json')).headers.get('x-jenkins')).toMatch(/^2\.\d+/);
    // Freestyle builds have no stage view.
    expect((await get(sim, 'job/team-a/job/lint/1/wfapi/describe')).status).toBe(404);
  });
});

describe('queue and executors', () => {
  it('backs up while no matching executor is free, blocks non-concurrent jobs, then drains', async () => {
    let t = T0;
    const sim = await boot({
      now: () => new Date(t),
      history: 0,
      agents: [{ name: 'built-in', labels: [], executors: 0 }, { name: 'linux-1', labels: ['linux'], executors: 1 }],
    });
    const a = await sim.triggerBuild({ job: 'team-a/service' });
    const b = await sim.triggerBuild({ job: 'team-a/service' });
    expect(await sim.step()).toBe(true); // a starts on linux-1
    const q = await getJson<{ items: Json[] }>(sim, 'queue/api/json');
    expect(q.items).toHaveLength(1);
    expect(q.items[0]).toMatchObject({
      _class: 'hudson.model.Queue$BuildableItem', id: b.queueId, blocked: false, buildable: true, stuck: false,
      why: 'Waiting for next available executor on ‘linux’', inQueueSince: T0, url: `queue/item/${b.queueId}/`,
      task: { _class: 'org.jenkinsci.plugins.workflow.job.WorkflowJob', name: 'service', url: `${sim.url}job/team-a/job/service/`, color: 'notbuilt_anime' },
    });
    const job = await getJson(sim, 'job/team-a/job/service/api/json?tree=inQueue,queueItem[id,why],lastBuild[number,building,result]');
    expect(job).toMatchObject({ inQueue: true, queueItem: { id: b.queueId }, lastBuild: { number: 1, building: true, result: null } });

    // A freestyle job without concurrent builds: the second build is a BlockedItem.
    t += 1000;
    await sim.triggerBuild({ job: 'team-a/lint' });
    const lint2 = await sim.triggerBuild({ job: 'team-a/lint', label: 'nowhere' });
    const blockedCheck = await getJson(sim, `queue/item/${lint2.queueId}/api/json`);
    expect(blockedCheck).toMatchObject({ why: 'There are no nodes with the label ‘nowhere’' });

    const running = await getJson<{ computer: Json[] }>(sim, 'computer/api/json?depth=1');
    const linux = running.computer.find((c) => c.displayName === 'linux-1') as Json & { executors: Json[] };
    expect(linux.idle).toBe(false);
    expect(linux.executors[0]?.currentExecutable).toMatchObject({ number: 1, url: `${sim.url}job/team-a/job/service/1/` });
    expect(running).toMatchObject({ busyExecutors: 1, totalExecutors: 1 });

    // Queue item a has left: a LeftItem pointing at its build.
    const left = await getJson(sim, `queue/item/${a.queueId}/api/json`);
    expect(left).toMatchObject({ _class: 'hudson.model.Queue$LeftItem', cancelled: false, executable: { number: 1, url: `${sim.url}job/team-a/job/service/1/` } });

    // Drain everything that can run; the 'nowhere' item stays, stuck.
    await sim.runUntilIdle(500);
    const after = await getJson<{ items: Json[] }>(sim, 'queue/api/json');
    expect(after.items.map((i) => i.id)).toEqual([lint2.queueId]);
    expect(after.items[0]?.stuck).toBe(true);
    expect(sim.world.builds('team-a/service').map((x) => x.result)).toEqual(['SUCCESS', 'SUCCESS']);

    // LeftItems are forgotten after five minutes.
    t += 6 * 60_000;
    expect((await get(sim, `queue/item/${a.queueId}/api/json`)).status).toBe(404);
  });

  it('makes a second build of a non-concurrent job a BlockedItem until the first finishes', async () => {
    const sim = await boot({ history: 1 });
    await sim.triggerBuild({ job: 'team-a/lint' });
    await sim.step();
    const second = await sim.triggerBuild({ job: 'team-a/lint' });
    const item = await getJson(sim, `queue/item/${second.queueId}/api/json`);
    expect(item).toMatchObject({ _class: 'hudson.model.Queue$BlockedItem', blocked: true, buildable: false });
    expect(item.why).toMatch(/^Build #2 is already in progress/);
    await sim.runUntilIdle();
    expect(sim.world.builds('team-a/lint').map((b) => b.number)).toEqual([3, 2, 1]);
  });

  it('reports computers busy/idle/offline, labels and executors; setAgent takes nodes offline', async () => {
    const sim = await boot();
    const set = await getJson<{ computer: Json[]; busyExecutors: number; totalExecutors: number }>(sim, 'computer/api/json');
    expect(set.computer.map((c) => c.displayName)).toEqual(['Built-In Node', 'linux-1', 'linux-2', 'mac-1']);
    const mac = set.computer.find((c) => c.displayName === 'mac-1');
    expect(mac).toMatchObject({ offline: true, temporarilyOffline: false, idle: true, numExecutors: 1, assignedLabels: [{ name: 'mac' }, { name: 'macos' }, { name: 'mac-1' }] });
    expect(mac?.offlineCauseReason).not.toBe('');
    expect(set).toMatchObject({ busyExecutors: 0, totalExecutors: 5 });
    sim.setAgent('linux-2', { temporarilyOffline: true });
    const after = await getJson<{ computer: Json[]; totalExecutors: number }>(sim, 'computer/api/json?tree=totalExecutors,computer[displayName,offline,temporarilyOffline,offlineCause,offlineCauseReason]');
    expect(after.computer[2]).toEqual({
      _class: 'hudson.slaves.SlaveComputer', displayName: 'linux-2', offline: true, temporarilyOffline: true,
      offlineCause: { _class: 'hudson.slaves.OfflineCause$UserCause' }, offlineCauseReason: 'Maintenance',
    });
    expect(after.totalExecutors).toBe(3);
    const one = await getJson(sim, 'computer/(built-in)/api/json?tree=displayName,numExecutors');
    expect(one).toEqual({ _class: 'hudson.model.Hudson$MasterComputer', displayName: 'Built-In Node', numExecutors: 1 });
  });
});

describe('wfapi stage view', () => {
  it('shows stages only once started; PAUSED_PENDING_INPUT until approved; NOT_EXECUTED for skipped stages', async () => {
    const sim = await boot({ history: 0 });
    await sim.triggerBuild({
      job: 'team-a/service',
      stages: [
        { name: 'Build', steps: ['Shell Script', 'Shell Script'] },
        { name: 'Lint', when: false },
        { name: 'Approve', input: true },
        { name: 'Deploy', outcome: 'FAILED' },
        { name: 'Smoke' },
      ],
    });
    const describe = () => getJson<{ status: string; stages: { id: string; name: string; status: string; execNode: string }[]; _links: Json }>(sim, 'job/team-a/job/service/1/wfapi/describe');
    await sim.step(); // started
    expect(await describe()).toMatchObject({ status: 'IN_PROGRESS', stages: [] });
    await sim.step(); // Build starts
    let d = await describe();
    expect(d.stages.map((s) => [s.name, s.status])).toEqual([['Build', 'IN_PROGRESS']]);
    expect(d.stages[0]?.execNode).toBe('linux-1');
    const node = await getJson<{ stageFlowNodes: { status: string; parentNodes: string[] }[] }>(sim, `job/team-a/job/service/1/execution/node/${d.stages[0]?.id}/wfapi/describe`);
    expect(node.stageFlowNodes).toHaveLength(1);
    expect(node.stageFlowNodes[0]).toMatchObject({ status: 'IN_PROGRESS', parentNodes: [d.stages[0]?.id] });

    while ((await describe()).status !== 'PAUSED_PENDING_INPUT') expect(await sim.step()).toBe(true);
    d = await describe();
    expect(d.stages.map((s) => [s.name, s.status])).toEqual([['Build', 'SUCCESS'], ['Lint', 'NOT_EXECUTED'], ['Approve', 'PAUSED_PENDING_INPUT']]);
    expect(d._links).toHaveProperty('pendingInputActions');
    // Nothing else can move while the only build waits for input.
    expect(await sim.step()).toBe(false);
    const pending = await getJson<{ id: string; proceedUrl: string; abortUrl: string }[]>(sim, 'job/team-a/job/service/1/wfapi/pendingInputActions');
    expect(pending).toHaveLength(1);
    expect(pending[0]?.abortUrl).toBe(`/job/team-a/job/service/1/input/${pending[0]?.id}/abort`);
    const job = await getJson(sim, 'job/team-a/job/service/1/api/json?tree=building,result');
    expect(job).toMatchObject({ building: true, result: null });

    // Approve through the HTTP endpoint, as a user clicking Proceed.
    const proceed = await fetch(`${sim.url}job/team-a/job/service/1/input/${pending[0]?.id}/proceedEmpty`, { method: 'POST', redirect: 'manual' });
    // InputStepExecution.doProceedEmpty answers HttpResponses.ok(), not a redirect.
    expect(proceed.status).toBe(200);
    await sim.runUntilIdle();
    d = await describe();
    expect(d.status).toBe('FAILED');
    expect(d.stages.map((s) => [s.name, s.status])).toEqual([
      ['Build', 'SUCCESS'], ['Lint', 'NOT_EXECUTED'], ['Approve', 'SUCCESS'], ['Deploy', 'FAILED'], ['Smoke', 'NOT_EXECUTED'],
    ]);
    const deploy = await getJson<Json>(sim, `job/team-a/job/service/1/execution/node/${d.stages[3]?.id}/wfapi/describe`);
    expect(deploy.error).toEqual({ message: 'script returned exit code 1', type: 'hudson.AbortException' });
    const build = await getJson(sim, 'job/team-a/job/service/1/api/json?tree=building,result,duration');
    expect(build).toMatchObject({ building: false, result: 'FAILURE' });
  });

  it('approveInput() resumes a paused build; wfapi/runs lists at most 10 runs, newest first', async () => {
    const sim = await boot({ history: 12 });
    type Run = { name: string; status: string; stages: { stageFlowNodes?: unknown[] }[] };
    const runs = await getJson<Run[]>(sim, 'job/platform/job/infra/job/terraform/wfapi/runs');
    // JobExt.create (current plugin): checks the cap before adding, so 10, not 11; no offset parameter.
    expect(runs).toHaveLength(10);
    expect(runs[0]?.name).toBe('#12');
    expect(runs[0]?.stages.every((s) => s.stageFlowNodes === undefined)).toBe(true);
    const since = await getJson<Run[]>(sim, 'job/platform/job/infra/job/terraform/wfapi/runs?since=%2310&fullStages=true');
    expect(since.map((r) => r.name)).toEqual(['#12', '#11', '#10']);
    expect(since[0]?.stages.every((s) => Array.isArray(s.stageFlowNodes))).toBe(true);
    const full = await getJson<Run>(sim, 'job/platform/job/infra/job/terraform/3/wfapi/describe?fullStages=true');
    expect(full.stages.every((s) => Array.isArray(s.stageFlowNodes))).toBe(true);
    await sim.triggerBuild({ job: 'platform/infra/terraform' });
    await sim.runUntilIdle();
    expect((await getJson(sim, 'job/platform/job/infra/job/terraform/13/wfapi/describe')).status).toBe('PAUSED_PENDING_INPUT');
    await sim.approveInput('platform/infra/terraform', 13);
    await sim.runUntilIdle();
    expect((await getJson(sim, 'job/platform/job/infra/job/terraform/13/wfapi/describe')).status).toBe('SUCCESS');
    await expect(sim.approveInput('platform/infra/terraform', 13)).rejects.toThrow(/not waiting/);
  });
});
