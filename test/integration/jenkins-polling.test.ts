import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/ids.ts';
import { collect, waitFor } from '../helpers/stack.ts';
import { startJenkinsStack, type JenkinsStack } from '../helpers/jenkins-stack.ts';

const INTERVAL_MS = 1000;

interface JobEv { jobUpdated: { source: string; job: { name: string; status: string; pipeline: { id: string } | null } } }
interface RunnerEv { runnerUpdated: { source: string; previousState: string | null; runner: { name: string; state: string } } }

describe('jenkins: live state by polling alone (no pushes)', () => {
  let stack: JenkinsStack;
  beforeAll(async () => {
    stack = await startJenkinsStack({
      notify: false,
      polling: true,
      sim: { agents: [{ name: 'built-in', labels: ['built-in'], executors: 0 }, { name: 'solo', labels: ['solo'], executors: 1 }] },
      backend: { pollIntervalSeconds: 1, idlePollIntervalSeconds: 1 },
    });
    // The scheduler's first cycle takes the baseline.
    await waitFor(async () => {
      const r = await stack.query<{ backends: { health: { lastPollAt: string | null } }[] }>('{ backends { health { lastPollAt } } }');
      return r.data?.backends[0]?.health.lastPollAt != null;
    }, 5000, 'first poll');
  });
  afterAll(() => stack.close());

  it('shows stages RUNNING → SUCCESS and the agent IDLE → BUSY → IDLE, each within two poll intervals', async () => {
    const client = stack.wsClient();
    const jobs = collect<JobEv>(client, 'subscription { jobUpdated(filter: { backends: ["jk"] }) { source job { name status pipeline { id } } } }', undefined, () => false, 60_000);
    const runners = collect<RunnerEv>(client, 'subscription { runnerUpdated(filter: { backends: ["jk"] }) { source previousState runner { name state } } }', undefined, () => false, 60_000);
    jobs.done.catch(() => undefined);
    runners.done.catch(() => undefined);
    await waitFor(() => stack.gateway.subscriptionCount === 2, 5000, 'subscribers');

    await stack.sim.triggerBuild({ job: 'team-a/service', label: 'solo', stages: [{ name: 'Compile', steps: ['Shell Script'] }, { name: 'Verify', steps: ['Shell Script', 'Shell Script'] }] });
    const build = () => stack.sim.world.builds('team-a/service')[0]!;
    const seenStage = (name: string, status: string) => jobs.items.some((e) => e.jobUpdated.job.name === name && e.jobUpdated.job.status === status);
    const solo = () => runners.items.filter((e) => e.runnerUpdated.runner.name === 'solo').map((e) => e.runnerUpdated.runner.state);
    const lags: number[] = [];
    const within = async (what: string, ok: () => boolean) => {
      const t0 = Date.now();
      await waitFor(ok, 2 * INTERVAL_MS + 300, what);
      lags.push(Date.now() - t0);
    };

    // Step the simulator; after each transition the subscriber must catch up within two intervals.
    let guard = 0;
    while (guard++ < 40) {
      const moved = await stack.sim.step();
      if (!moved) break;
      const b = stack.sim.world.builds('team-a/service')[0];
      if (!b) continue;
      for (const st of b.stages) {
        const expected = st.status === 'IN_PROGRESS' ? 'RUNNING' : st.status === 'SUCCESS' ? 'SUCCESS' : null;
        if (expected) await within(`${st.name} ${expected}`, () => seenStage(st.name, expected));
      }
      if (b.building) await within('solo BUSY', () => solo().at(-1) === 'BUSY');
    }
    expect(build().building).toBe(false);
    await within('solo IDLE again', () => solo().at(-1) === 'IDLE');

    const compile = jobs.items.filter((e) => e.jobUpdated.job.name === 'Compile').map((e) => e.jobUpdated.job.status);
    expect(compile).toEqual(['RUNNING', 'SUCCESS']);
    expect(jobs.items.filter((e) => e.jobUpdated.job.name === 'Verify').map((e) => e.jobUpdated.job.status)).toEqual(['RUNNING', 'SUCCESS']);
    expect(new Set(jobs.items.map((e) => e.jobUpdated.source))).toEqual(new Set(['POLL']));
    // The agent's transitions, repeats collapsed (a BUSY agent's current job may change between stages).
    const soloEvents = runners.items.filter((e) => e.runnerUpdated.runner.name === 'solo').map((e) => e.runnerUpdated);
    const path = [soloEvents[0]!.previousState, ...soloEvents.map((e) => e.runner.state)].filter((s, i, all) => i === 0 || all[i - 1] !== s);
    expect(path).toEqual(['IDLE', 'BUSY', 'IDLE']);
    // From /computer/api/json alone (runnerStateFromJobs is off for Jenkins).
    expect(new Set(soloEvents.map((e) => e.source))).toEqual(new Set(['POLL']));
    expect(Math.max(...lags)).toBeLessThanOrEqual(2 * INTERVAL_MS + 300);
    console.log(`[jenkins polling] catch-up lags (ms): ${lags.join(', ')}`);
  });

  it('serves the Pipeline and its stage Jobs by global ID', async () => {
    const b = stack.sim.world.builds('team-a/service')[0]!;
    const id = toGlobalId('Pipeline', 'jk', `team-a/service#${b.number}`);
    const res = await stack.query<{ node: { status: string; number: number; jobs: { nodes: { name: string; status: string; steps: { name: string }[] }[] } } }>(
      'query($id: ID!) { node(id: $id) { ... on Pipeline { status number jobs { nodes { name status steps { name } } } } } }',
      { id },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.node).toMatchObject({ status: 'SUCCESS', number: b.number });
    expect(res.data!.node.jobs.nodes.map((j) => [j.name, j.status, j.steps.length])).toEqual([['Compile', 'SUCCESS', 1], ['Verify', 'SUCCESS', 2]]);
  });
});
