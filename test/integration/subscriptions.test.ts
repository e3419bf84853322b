import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collect, startStack, waitForSubscribers, type Stack } from '../helpers/stack.ts';
import { readSse } from '../helpers/sse.ts';

const dedupe = <T>(xs: T[]) => xs.filter((x, i) => i === 0 || x !== xs[i - 1]);

interface JobEventData {
  jobUpdated: { previousStatus: string | null; source: string; job: { id: string; name: string; status: string; runner: { name: string } | null; pipeline: { project: { fullName: string } } } };
}
interface RunnerEventData {
  runnerUpdated: { previousState: string | null; runner: { name: string; state: string; currentJob: { name: string } | null } };
}

describe('live subscriptions from signed GitHub webhooks', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      sim: { repositories: ['api'], history: 1, runners: [{ name: 'solo', labels: ['self-hosted', 'linux'], scope: 'org' }] },
    });
    // The gateway learns its runners the way it does in production: by listing them.
    const runners = await stack.query<{ runners: { nodes: { name: string; state: string }[] } }>('{ runners { nodes { name state } } }');
    expect(runners.data?.runners.nodes).toEqual([{ name: 'solo', state: 'IDLE' }]);
  });
  afterAll(() => stack.close());
  // Each test starts with no subscription left over from the one before.
  afterEach(() => waitForSubscribers(stack, 0));

  it('should show one job go QUEUED → RUNNING → SUCCESS and its runner IDLE → BUSY → IDLE over graphql-ws', async () => {
    const client = stack.wsClient();
    const jobs = collect<JobEventData>(
      client,
      `subscription { jobUpdated(filter: { backends: ["gh"] }) { previousStatus source job { id name status runner { name } pipeline { project { fullName } } } } }`,
      undefined,
      (items) => items.some((e) => e.jobUpdated.job.name === 'deploy' && e.jobUpdated.job.status === 'SUCCESS'),
    );
    const runners = collect<RunnerEventData>(
      client,
      `subscription { runnerUpdated { previousState runner { name state currentJob { name } } } }`,
      undefined,
      (items) => items.filter((e) => e.runnerUpdated.runner.state === 'IDLE').length >= 1,
    );
    await waitForSubscribers(stack, 2);

    await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'deploy', labels: ['self-hosted', 'linux'], outcome: 'success' }] });
    await stack.sim.runUntilIdle();

    const jobEvents = (await jobs.done).map((e) => e.jobUpdated).filter((e) => e.job.name === 'deploy');
    expect(dedupe(jobEvents.map((e) => e.job.status))).toEqual(['QUEUED', 'RUNNING', 'SUCCESS']);
    expect(jobEvents[0]).toMatchObject({ previousStatus: null, source: 'WEBHOOK' });
    const firstRunning = jobEvents.find((e) => e.job.status === 'RUNNING')!;
    expect(firstRunning.previousStatus).toBe('QUEUED');
    expect(firstRunning.job.runner?.name).toBe('solo');
    expect(firstRunning.job.pipeline.project.fullName).toBe('octo-org/api');
    expect(new Set(jobEvents.map((e) => e.job.id)).size).toBe(1);

    const runnerEvents = (await runners.done).map((e) => e.runnerUpdated);
    expect(runnerEvents.map((e) => [e.previousState, e.runner.state])).toEqual([
      ['IDLE', 'BUSY'],
      ['BUSY', 'IDLE'],
    ]);
    expect(runnerEvents[0]!.runner.currentJob?.name).toBe('deploy');
    expect(runnerEvents[1]!.runner.currentJob).toBeNull();
  });

  it('should filter by status and deliver pipeline events with the previous status', async () => {
    const client = stack.wsClient();
    const failures = collect<JobEventData>(
      client,
      `subscription($s: [CiStatus!]) { jobUpdated(filter: { status: $s }) { previousStatus job { name status } } }`,
      { s: ['FAILURE'] },
      (items) => items.length >= 1,
    );
    const pipelines = collect<{ pipelineUpdated: { previousStatus: string | null; pipeline: { status: string; jobs: { nodes: { name: string }[] } } } }>(
      client,
      `subscription { pipelineUpdated { previousStatus pipeline { status jobs { nodes { name } } } } }`,
      undefined,
      (items) => items.some((e) => e.pipelineUpdated.pipeline.status === 'FAILURE'),
    );
    await waitForSubscribers(stack, 2);
    await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'flaky', labels: ['self-hosted'], outcome: 'failure' }] });
    await stack.sim.runUntilIdle();
    const got = await failures.done;
    expect(got.map((e) => e.jobUpdated.job)).toEqual([{ name: 'flaky', status: 'FAILURE' }]);
    expect(got[0]!.jobUpdated.previousStatus).toBe('RUNNING');
    const pipelineEvents = (await pipelines.done).map((e) => e.pipelineUpdated);
    expect(dedupe(pipelineEvents.map((e) => e.pipeline.status))).toEqual(['QUEUED', 'RUNNING', 'FAILURE']);
    expect(pipelineEvents.at(-1)!.previousStatus).toBe('RUNNING');
    expect(pipelineEvents.at(-1)!.pipeline.jobs.nodes.map((j) => j.name)).toEqual(['flaky']);
  });

  it('should deliver the same events over SSE', async () => {
    const sse = readSse(`${stack.base}/graphql`, `subscription { jobUpdated { job { name status } } }`);
    await waitForSubscribers(stack, 1);
    await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'sse-job', labels: ['self-hosted'], outcome: 'success' }] });
    await stack.sim.runUntilIdle();
    const events = await sse.until((items) => items.some((e) => JSON.stringify(e).includes('"SUCCESS"')));
    const statuses = events.map((e) => (e as { data: { jobUpdated: { job: { status: string } } } }).data.jobUpdated.job.status);
    expect(dedupe(statuses)).toEqual(['QUEUED', 'RUNNING', 'SUCCESS']);
  });

  it('should reject an invalid subscription with an error message and keep the socket open for others', async () => {
    const client = stack.wsClient();
    const bad = new Promise<unknown>((resolve) => {
      client.subscribe({ query: 'subscription { jobUpdated { nope } }' }, { next: () => undefined, error: resolve, complete: () => undefined });
    });
    const errors = (await bad) as { message: string }[];
    expect(errors[0]!.message).toMatch(/Cannot query field "nope"/);
    const good = collect<JobEventData>(client, 'subscription { jobUpdated { job { name status } } }', undefined, (items) => items.length >= 1);
    await waitForSubscribers(stack, 1);
    await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'after-error', labels: ['self-hosted'] }] });
    expect((await good.done)[0]!.jobUpdated.job.name).toBe('after-error');
    await stack.sim.runUntilIdle();
  });
});
