/**
 * The Jenkins simulator's seeded past (pastDays), read the way a backfill
 * reads it: over real HTTP with `tree=allBuilds[…]{M,N}` ranges; restarts of
 * the same commit; timeouts (InterruptedBuildAction) and lost agents
 * (ChannelClosedException) as Jenkins shows them; queue time in the Metrics
 * plugin's TimeInQueueAction and wfapi's queueDurationMillis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBuildJob, toStageJob } from '../../adapters/jenkins/normalize.ts';
import { createJenkinsSimulator, type JenkinsSimulator } from '../../adapters/jenkins/simulator/index.ts';
import type { JobModel } from '../../src/model.ts';
import { runnerClusters } from '../helpers/failure-clusters.ts';

const NOW = Date.parse('2026-12-04T21:30:00Z');
const DAY = 86_400_000;

interface Action { _class?: string; causes?: { _class: string; shortDescription: string }[]; queuingDurationMillis?: number; lastBuiltRevision?: { SHA1: string } }
interface Build { number: number; result: string; timestamp: number; duration: number; actions: Action[] }
interface WfRun { id: string; status: string; queueDurationMillis: number; stages: { name: string; status: string; execNode: string; error?: { type: string; message: string | null } }[] }

const BUILD_TREE = 'number,result,timestamp,duration,actions[_class,causes[_class,shortDescription],queuingDurationMillis,lastBuiltRevision[SHA1]]';

function jobPath(full: string): string {
  return full.split('/').map((n) => `job/${encodeURIComponent(n)}/`).join('');
}

async function json<T>(sim: JenkinsSimulator, path: string): Promise<T> {
  const res = await fetch(sim.url + path);
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

/** Every build of a job, newest first, in `{M,N}` slices of allBuilds as a backfill pages them. */
async function allBuilds(sim: JenkinsSimulator, job: string, size = 20): Promise<{ builds: Build[]; pages: number }> {
  const builds: Build[] = [];
  let pages = 0;
  for (let from = 0; ; from += size) {
    const tree = encodeURIComponent(`allBuilds[${BUILD_TREE}]{${from},${from + size}}`);
    const page = (await json<{ allBuilds: Build[] }>(sim, `${jobPath(job)}api/json?tree=${tree}`)).allBuilds;
    pages++;
    builds.push(...page);
    if (page.length < size) return { builds, pages };
  }
}

const sha = (b: Build) => b.actions.find((a) => a._class === 'hudson.plugins.git.util.BuildData')?.lastBuiltRevision?.SHA1;
const queued = (b: Build) => b.actions.find((a) => a._class === 'jenkins.metrics.impl.TimeInQueueAction')?.queuingDurationMillis;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

describe('jenkins simulator past', () => {
  let sim: JenkinsSimulator;

  beforeAll(async () => {
    sim = createJenkinsSimulator({ seed: 3, pastDays: 7, history: 0, now: () => new Date(NOW) });
    await sim.start();
  });

  afterAll(() => sim.stop());

  it('is the same past for the same seed, and no past without pastDays', () => {
    const again = createJenkinsSimulator({ seed: 3, pastDays: 7, history: 0, now: () => new Date(NOW) });
    const key = (s: JenkinsSimulator) => s.world.builds().map((b) => [b.job.name, b.number, b.sha, b.result, b.timestamp, b.computer.name]);
    expect(key(again)).toEqual(key(sim));
    const plain = createJenkinsSimulator({ seed: 3, now: () => new Date(NOW) });
    expect(plain.world.builds().every((b) => b.timeInQueue === undefined)).toBe(true);
    expect(plain.world.builds().length).toBe(3 * plain.world.jobs().length);
  });

  it('with history as well (demo mode), builds only the jobs the past left empty', () => {
    const both = createJenkinsSimulator({ seed: 3, pastDays: 7, history: 2, now: () => new Date(NOW) });
    expect(both.world.builds('docs').length).toBe(2);
    expect(both.world.builds('monorepo/main').map((b) => b.number)).toEqual(sim.world.builds('monorepo/main').map((b) => b.number));
  });

  it('pages back through a week of builds with allBuilds{M,N} ranges', async () => {
    const { builds, pages } = await allBuilds(sim, 'monorepo/main');
    expect(pages).toBeGreaterThan(2);
    expect(builds.map((b) => b.number)).toEqual(sim.world.builds('monorepo/main').map((b) => b.number));
    expect(builds.map((b) => b.number)).toEqual([...builds.map((b) => b.number)].sort((a, b) => b - a));
    expect(NOW - builds.at(-1)!.timestamp).toBeGreaterThan(6 * DAY);
    // Builds run in order: a later number never started earlier.
    for (let i = 1; i < builds.length; i++) expect(builds[i - 1]!.timestamp).toBeGreaterThanOrEqual(builds[i]!.timestamp);
    // Main goes red for a while and is fixed later.
    const results = [...builds].reverse().map((b) => b.result).join(',');
    expect(results).toMatch(/FAILURE,FAILURE,(FAILURE,)*SUCCESS/);
    const { builds: small } = await allBuilds(sim, 'monorepo/main', 7);
    expect(small.map((b) => b.number)).toEqual(builds.map((b) => b.number));
  });

  it('restarts a flaky build on the same commit from its failed stage, and it passes', async () => {
    let found = 0;
    for (const job of ['monorepo/main', 'monorepo/feature%2Fx', 'team-a/service']) {
      const { builds } = await allBuilds(sim, job, 50);
      for (const b of builds) {
        const restart = b.actions.flatMap((a) => a.causes ?? []).find((c) => c._class.endsWith('RestartDeclarativePipelineCause'));
        if (!restart) continue;
        const m = /^Restarted from build #(\d+), stage (.+)$/.exec(restart.shortDescription);
        expect(m).not.toBeNull();
        const before = builds.find((x) => x.number === Number(m![1]))!;
        expect(sha(before)).toBe(sha(b));
        expect(before.number).toBeLessThan(b.number);
        const described = await json<WfRun>(sim, `${jobPath(job)}${before.number}/wfapi/describe`);
        expect(described.stages.find((s) => s.name === m![2])?.status).not.toBe('SUCCESS');
        // The restarted build skips the stages before the one it restarts from.
        const restarted = await json<WfRun>(sim, `${jobPath(job)}${b.number}/wfapi/describe`);
        const from = restarted.stages.findIndex((s) => s.name === m![2]);
        expect(from).toBeGreaterThanOrEqual(0);
        expect(restarted.stages.slice(0, from).every((s) => s.status === 'NOT_EXECUTED')).toBe(true);
        expect(restarted.stages[from]!.status).not.toBe('NOT_EXECUTED');
        if (b.result === 'SUCCESS' && before.result === 'FAILURE') found++;
      }
    }
    expect(found).toBeGreaterThanOrEqual(1);
  });

  it('shows the incident as lost-agent failures and timeouts on one agent', async () => {
    const agents = new Set<string>();
    let lost = 0;
    let timeouts = 0;
    for (const job of ['monorepo/main', 'monorepo/feature%2Fx', 'team-a/service']) {
      const runs = (await allBuilds(sim, job, 100)).builds;
      for (const b of runs.filter((x) => x.result !== 'SUCCESS')) {
        const run = await json<WfRun>(sim, `${jobPath(job)}${b.number}/wfapi/describe`);
        const stage = run.stages.find((s) => s.error);
        if (stage?.error?.type === 'hudson.remoting.ChannelClosedException') {
          expect(b.result).toBe('FAILURE');
          expect(stage.error.message).toContain(`Remote call on ${stage.execNode} failed`);
          agents.add(stage.execNode);
          lost++;
        }
        const interrupted = b.actions.find((a) => a._class === 'jenkins.model.InterruptedBuildAction');
        if (interrupted) {
          expect(b.result).toBe('ABORTED');
          expect(interrupted.causes?.[0]?._class).toBe('org.jenkinsci.plugins.workflow.steps.TimeoutStepExecution$ExceededTimeout');
          expect(stage?.error?.type).toBe('org.jenkinsci.plugins.workflow.steps.FlowInterruptedException');
          agents.add(stage!.execNode);
          timeouts++;
          const log = await (await fetch(`${sim.url}${jobPath(job)}${b.number}/consoleText`)).text();
          expect(log).toContain('Timeout has been exceeded');
        }
      }
    }
    expect(lost).toBeGreaterThanOrEqual(2);
    expect(timeouts).toBeGreaterThanOrEqual(1);
    expect(agents.size).toBe(1);
  });

  it('normalizes the lost agent\'s stages to ERROR, so failureCauses flags that agent as concentrated', async () => {
    const jobs: JobModel[] = [];
    for (const job of ['monorepo/main', 'monorepo/feature%2Fx', 'team-a/service', 'ios-app']) {
      const { builds } = await allBuilds(sim, job, 100);
      await Promise.all(builds.map(async (b) => {
        const run = await json<WfRun & { stages: unknown[] }>(sim, `${jobPath(job)}${b.number}/wfapi/describe`);
        const ctx = { fullName: job, number: b.number, buildUrl: null, branch: null };
        jobs.push(...run.stages.map((st) => toStageJob('jk', ctx, st)));
      }));
    }
    // Freestyle builds have no stage view: one Job each (their lost agent stays FAILURE).
    const tree = encodeURIComponent('allBuilds[number,result,building,timestamp,duration,builtOn]');
    const lint = (await json<{ allBuilds: unknown[] }>(sim, `${jobPath('team-a/lint')}api/json?tree=${tree}`)).allBuilds;
    jobs.push(...lint.map((b) => toBuildJob('jk', 'team-a/lint', b)));

    const lost = jobs.filter((j) => j.status === 'ERROR');
    expect(lost.length).toBeGreaterThanOrEqual(3);
    expect(new Set(lost.map((j) => j.native.failureReason))).toEqual(new Set(['hudson.remoting.ChannelClosedException']));
    const { clusters } = runnerClusters('jk', jobs);
    expect(clusters.filter((c) => c.concentrated).map((c) => c.name)).toEqual([lost[0]!.runnerName]);
  });

  it('starves the iOS job for its one Mac: long queue times in TimeInQueueAction and wfapi', async () => {
    const ios = (await allBuilds(sim, 'ios-app')).builds.map(queued);
    const main = (await allBuilds(sim, 'monorepo/main')).builds.map(queued);
    expect(ios.every((q) => typeof q === 'number')).toBe(true);
    expect(median(ios as number[])).toBeGreaterThan(5 * median(main as number[]));
    const wf = await json<WfRun[]>(sim, `${jobPath('ios-app')}wfapi/runs`);
    const byId = new Map(sim.world.builds('ios-app').map((b) => [String(b.number), b]));
    for (const r of wf) {
      const b = byId.get(r.id)!;
      expect(r.queueDurationMillis).toBe(b.stages.find((s) => s.status !== 'NOT_EXECUTED')!.startMs - b.timestamp);
    }
    expect(median(wf.map((r) => r.queueDurationMillis))).toBeGreaterThan(5 * 60_000);
  });
});
