import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { collect, waitFor } from '../helpers/stack.ts';
import { startGitlabStack, type GitlabStack } from '../helpers/gitlab-stack.ts';

/**
 * GitLab runners run several jobs at once (`concurrent`): a job that ends must
 * not free a runner another job still runs on, nor one its listing
 * (`job_execution_status: active`) says is busy with work the gateway cannot
 * name (issue 11, item 4).
 */
interface RunnerEvent { runnerUpdated: { previousState: string | null; runner: { name: string; state: string; currentJob: { name: string } | null } } }

const RUNNERS = [
  { description: 'autoscaler', tags: ['scale'], type: 'instance_type' as const, concurrent: 2, runUntagged: false },
  { description: 'sentinel', tags: ['sentinel'], type: 'group_type' as const, runUntagged: false },
];

/** Runner events until the sentinel runner is BUSY with the probe named `last`. */
function watchRunners(client: Client, last: string) {
  const events = collect<RunnerEvent>(
    client,
    'subscription { runnerUpdated(filter: { backends: ["gl"] }) { previousState runner { name state currentJob { name } } } }',
    undefined,
    (items) => items.some((e) => e.runnerUpdated.runner.name === 'sentinel' && e.runnerUpdated.runner.currentJob?.name === last),
  );
  const seen = (name: string) =>
    events.items.map((e) => e.runnerUpdated).filter((e) => e.runner.name === name).map((e) => [e.previousState, e.runner.state, e.runner.currentJob?.name ?? null]);
  return { done: events.done, seen };
}

const jobId = (stack: GitlabStack, name: string) => stack.sim.world.jobs().find((j) => j.name === name)!.id;

/**
 * Sentinel: a later job on the other runner. Its runner event is published after
 * any the earlier hooks caused, so once it arrives, an unwanted event would have too.
 * The probe then ends (the sentinel runner goes IDLE), ready for the next call.
 */
let probes = 0;
async function sentinel(stack: GitlabStack, seen: (name: string) => unknown[][], project: string, name = `probe-${++probes}`): Promise<void> {
  const busyBefore = seen('sentinel').filter(([, state]) => state === 'BUSY').length;
  await stack.sim.triggerPipeline({ project, jobs: [{ name, stage: 'test', tags: ['sentinel'] }] });
  await stack.sim.step(); // process
  await stack.sim.step(); // the probe starts on `sentinel`
  expect(stack.sim.world.jobs().find((j) => j.name === name)?.status).toBe('running');
  await waitFor(() => seen('sentinel').filter(([, state]) => state === 'BUSY').length > busyBefore, 10_000, 'sentinel runner BUSY');
  await stack.sim.finishJob(jobId(stack, name));
}

describe('a GitLab runner running two known jobs at once', () => {
  let stack: GitlabStack;
  beforeAll(async () => {
    stack = await startGitlabStack({ sim: { history: 0, runners: RUNNERS } });
    const res = await stack.query<{ runners: { nodes: { name: string; state: string }[] } }>('{ runners { nodes { name state } } }');
    expect(res.data!.runners.nodes.map((r) => [r.name, r.state]).sort()).toEqual([['autoscaler', 'IDLE'], ['sentinel', 'IDLE']]);
  });
  afterAll(() => stack.close());

  it('should stay BUSY when the job it started last ends first, and go IDLE when the other ends', async () => {
    const { done, seen } = watchRunners(stack.wsClient(), 'last-probe');
    await waitFor(() => stack.gateway.subscriptionCount === 1, 5000, 'subscribed');
    await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'shard-a', stage: 'test', tags: ['scale'] }, { name: 'shard-b', stage: 'test', tags: ['scale'] }] });
    await stack.sim.step(); // process: both pending
    await stack.sim.step(); // shard-a starts on autoscaler
    await stack.sim.step(); // shard-b starts on autoscaler too (concurrent = 2)
    expect(stack.sim.world.jobs().filter((j) => j.status === 'running').map((j) => j.name)).toEqual(['shard-a', 'shard-b']);
    await stack.sim.finishJob(jobId(stack, 'shard-b')); // the later one ends first; shard-a still runs

    await sentinel(stack, seen, 'frontend');
    expect(seen('autoscaler')).toEqual([['IDLE', 'BUSY', 'shard-a']]);

    await stack.sim.finishJob(jobId(stack, 'shard-a'));
    await sentinel(stack, seen, 'frontend', 'last-probe');
    await done;
    expect(seen('autoscaler')).toEqual([['IDLE', 'BUSY', 'shard-a'], ['BUSY', 'IDLE', null]]);
    await stack.sim.runUntilIdle();
  });
});

describe('GitLab runner listings that confirm what Job Hooks said', () => {
  let stack: GitlabStack;
  beforeAll(async () => {
    stack = await startGitlabStack({ sim: { history: 0, runners: RUNNERS } });
    await stack.gateway.scheduler.pollNow('gl');
  });
  afterAll(() => stack.close());

  it('should publish no runner event when a poll finds the runner as the job events left it', async () => {
    const { done, seen } = watchRunners(stack.wsClient(), 'last-probe');
    await waitFor(() => stack.gateway.subscriptionCount === 1, 5000, 'subscribed');
    await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'solo', stage: 'test', tags: ['scale'] }] });
    await stack.sim.step();
    await stack.sim.step(); // solo starts: BUSY from its Job Hook
    await stack.gateway.scheduler.pollNow('gl'); // the listing says active
    await stack.sim.finishJob(jobId(stack, 'solo')); // IDLE from its Job Hook
    await stack.gateway.scheduler.pollNow('gl'); // the listing says idle
    await sentinel(stack, seen, 'frontend', 'last-probe');
    await done;
    expect(seen('autoscaler')).toEqual([['IDLE', 'BUSY', 'solo'], ['BUSY', 'IDLE', null]]);
    await stack.sim.runUntilIdle();
  });
});

describe('a busy autoscaling GitLab runner whose running job is outside the backend', () => {
  let stack: GitlabStack;
  beforeAll(async () => {
    // Only `backend` is configured; the shared autoscaler also runs `frontend` jobs the gateway never sees.
    stack = await startGitlabStack({
      sim: { history: 0, runners: RUNNERS },
      backend: { groups: [], projects: ['platform/backend'], runners: { scope: 'all' } },
    });
    await stack.gateway.scheduler.pollNow('gl');
  });
  afterAll(() => stack.close());

  it('should not free the runner when a job of ours ends while its listing says active', async () => {
    const { done, seen } = watchRunners(stack.wsClient(), 'last-probe');
    await waitFor(() => stack.gateway.subscriptionCount === 1, 5000, 'subscribed');
    // A frontend job (not ours) takes one slot; the poll's listing says active (job_execution_status), naming no job.
    await stack.sim.triggerPipeline({ project: 'frontend', jobs: [{ name: 'theirs', stage: 'test', tags: ['scale'] }] });
    await stack.sim.step();
    await stack.sim.step();
    await stack.gateway.scheduler.pollNow('gl');
    // Our job takes the other slot, then ends; `theirs` still runs.
    await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'ours', stage: 'test', tags: ['scale'] }] });
    await stack.sim.step();
    await stack.sim.step();
    expect(stack.sim.world.jobs().filter((j) => j.status === 'running').map((j) => j.name)).toEqual(['theirs', 'ours']);
    await stack.sim.finishJob(jobId(stack, 'ours'));
    await sentinel(stack, seen, 'backend');
    // The next listing still says active: no IDLE, and so no BUSY again.
    await stack.gateway.scheduler.pollNow('gl');
    await sentinel(stack, seen, 'backend');
    expect(seen('autoscaler')).toEqual([['IDLE', 'BUSY', null]]);

    // `theirs` ends: only the listing can tell, and it does.
    await stack.sim.finishJob(jobId(stack, 'theirs'));
    await stack.gateway.scheduler.pollNow('gl');
    await sentinel(stack, seen, 'backend', 'last-probe');
    await done;
    expect(seen('autoscaler')).toEqual([['IDLE', 'BUSY', null], ['BUSY', 'IDLE', null]]);
    await stack.sim.runUntilIdle();
  });
});
