import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * Issue 11 item 6: job lists (and their pipelines) come from the live state
 * while a backend's webhooks are current, a poll repairs a missed delivery,
 * and a failed parent load never nulls a child the gateway knows.
 */
const gid = (type: string, nativeId: string) => Buffer.from(`${type}:gh:${nativeId}`).toString('base64url');
const RUNNERS = [{ name: 'solo', labels: ['self-hosted'], scope: 'org' as const }];

const PIPELINE_JOBS = `query($id: ID!) { node(id: $id) { ... on Pipeline { status jobs { nodes { name status } } } } }`;
interface PipelineJobs {
  node: { status: string; jobs: { nodes: { name: string; status: string }[] } } | null;
}

/** The jobs' statuses by name, as the simulator has them now (GitHub statuses). */
function upstreamStatuses(stack: Stack, runId: number): Record<string, string> {
  return Object.fromEntries(stack.sim.world.jobs(runId).map((j) => [j.name, j.status]));
}

describe('job lists served from webhook-delivered state', () => {
  let stack: Stack;
  /** The gateway's clock runs this far ahead of real time: the test ages state without sleeping. */
  let skewMs = 0;
  let runId = 0;

  beforeAll(async () => {
    stack = await startStack({
      sim: { repositories: ['api'], history: 1, runners: RUNNERS },
      config: { freshnessSeconds: 10 },
      now: () => new Date(Date.now() + skewMs),
    });
    // The reconcile (poll) has run once; polls are driven by hand below.
    await stack.gateway.scheduler.pollNow('gh');
    ({ runId } = await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'build', labels: ['self-hosted'] }, { name: 'test', labels: ['self-hosted'] }] }));
  });
  afterAll(() => stack.close());

  const jobsNow = async () => {
    const res = await stack.query<PipelineJobs>(PIPELINE_JOBS, { id: gid('Pipeline', `octo-org/api/runs/${runId}`) });
    expect(res.errors).toBeUndefined();
    return Object.fromEntries(res.data!.node!.jobs.nodes.map((j) => [j.name, j.status]));
  };
  const jobReads = () => stack.sim.requests.filter((r) => /\/actions\/runs\/\d+\/jobs/.test(r.path)).length;

  it('should read a job list upstream once, then follow deliveries past the freshness window with no request', async () => {
    expect(await jobsNow()).toEqual({ build: 'QUEUED', test: 'QUEUED' });
    skewMs += 30_000; // three freshness windows later
    await stack.sim.step(); // a job starts: workflow_run and workflow_job deliveries
    await stack.sim.step();
    stack.sim.resetRequests();
    const got = await jobsNow();
    expect(Object.values(got)).toContain('RUNNING');
    expect(stack.sim.requests).toEqual([]);
  });

  it('should serve a list even while REST fails, since deliveries keep it current', async () => {
    skewMs += 30_000;
    stack.sim.setFault({ status: 502, body: { message: 'Server Error' } });
    try {
      stack.sim.resetRequests();
      expect(Object.keys(await jobsNow()).sort()).toEqual(['build', 'test']);
      expect(stack.sim.requests).toEqual([]);
    } finally {
      stack.sim.setFault(null);
    }
  });

  it('should repair a delivery that never came at the next poll (the reconcile)', async () => {
    stack.sim.setWebhook(null); // deliveries lost: GitHub does not retry them
    await stack.sim.runUntilIdle();
    stack.sim.setWebhook({ url: `${stack.base}/webhooks/gh`, secret: 'test-webhook-secret' });
    expect(upstreamStatuses(stack, runId)).toEqual({ build: 'completed', test: 'completed' });
    // Until the poll, the list is as the last delivery left it (past the freshness window, with no
    // request): the documented bound is one poll interval.
    skewMs += 30_000;
    stack.sim.resetRequests();
    expect(Object.values(await jobsNow())).not.toEqual(['SUCCESS', 'SUCCESS']);
    expect(jobReads()).toBe(0);
    await stack.gateway.scheduler.pollNow('gh');
    stack.sim.resetRequests();
    expect(await jobsNow()).toEqual({ build: 'SUCCESS', test: 'SUCCESS' });
    expect(stack.sim.requests).toEqual([]);
  });

  it('should go back to reading upstream when the reconcile stalls, and when deliveries go quiet', async () => {
    const second = await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'lint', labels: ['self-hosted'] }] });
    const query = () => stack.query<PipelineJobs>(PIPELINE_JOBS, { id: gid('Pipeline', `octo-org/api/runs/${second.runId}`) });
    expect((await query()).data!.node!.jobs.nodes).toEqual([{ name: 'lint', status: 'QUEUED' }]);
    // No successful poll for 3 intervals + 60 s: nothing would repair a missed delivery.
    skewMs += 160_000;
    await stack.sim.step(); // a delivery: webhooks themselves are fine
    stack.sim.resetRequests();
    expect((await query()).data!.node!.jobs.nodes).toEqual([{ name: 'lint', status: 'RUNNING' }]);
    expect(jobReads()).toBe(1);
    // The reconcile is back: served from state again, and polls run at the slower cadence
    // (twice the 30 s interval, ±20 % jitter).
    expect(await stack.gateway.scheduler.pollNow('gh')).toBeGreaterThanOrEqual(48_000);
    skewMs += 30_000;
    stack.sim.resetRequests();
    await query();
    expect(jobReads()).toBe(0);
    // No verified delivery for over 5 minutes (polls still fine): read upstream again, and poll at
    // the normal interval.
    skewMs += 6 * 60_000;
    expect(await stack.gateway.scheduler.pollNow('gh')).toBeLessThanOrEqual(36_000);
    stack.sim.resetRequests();
    await query();
    expect(jobReads()).toBe(1);
  });
});

describe('a failed parent load never nulls a known child', () => {
  let stack: Stack;
  let runId = 0;
  let jobId = 0;
  const JOB = `query($id: ID!) { node(id: $id) { ... on Job { name status pipeline { status } project { fullName } } } }`;
  interface JobResult {
    node: { name: string; status: string; pipeline: { status: string } | null; project: { fullName: string } } | null;
  }

  beforeAll(async () => {
    // No webhooks and freshness 0: every read goes upstream, so every fault is felt.
    stack = await startStack({ webhooks: false, sim: { repositories: ['api'], history: 1, runners: RUNNERS }, config: { freshnessSeconds: 0 } });
    ({ runId } = await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'build', labels: ['self-hosted'] }] }));
    await stack.sim.runUntilIdle();
    jobId = stack.sim.world.jobs(runId)[0]!.id;
  });
  afterAll(() => stack.close());

  it('should null only Job.pipeline, with the error at that path, when the pipeline is unknown and unreadable', async () => {
    stack.sim.setFault({ status: 502, body: { message: 'Server Error' }, match: /\/actions\/runs\/\d+(\?|$)/ });
    try {
      const res = await stack.query<JobResult>(JOB, { id: gid('Job', `octo-org/api/jobs/${jobId}`) });
      expect(res.data!.node).toEqual({ name: 'build', status: 'SUCCESS', pipeline: null, project: { fullName: 'octo-org/api' } });
      expect(res.errors).toHaveLength(1);
      expect(res.errors![0]).toMatchObject({ path: ['node', 'pipeline'], extensions: { backend: 'gh', code: 'UPSTREAM_UNAVAILABLE' } });
    } finally {
      stack.sim.setFault(null);
    }
  });

  it('should serve the known pipeline, project and jobs when their reads fail, and say the backend failed', async () => {
    const pipelineId = gid('Pipeline', `octo-org/api/runs/${runId}`);
    const ok = await stack.query<PipelineJobs>(PIPELINE_JOBS, { id: pipelineId });
    expect(ok.data!.node).toEqual({ status: 'SUCCESS', jobs: { nodes: [{ name: 'build', status: 'SUCCESS' }] } });

    stack.sim.setFault({ status: 502, body: { message: 'Server Error' }, match: /\/actions\/runs\/\d+(\?|$)|\/repos\/octo-org\/api(\?|$)/ });
    try {
      const res = await stack.query<JobResult>(JOB, { id: gid('Job', `octo-org/api/jobs/${jobId}`) });
      expect(res.data!.node).toEqual({ name: 'build', status: 'SUCCESS', pipeline: { status: 'SUCCESS' }, project: { fullName: 'octo-org/api' } });
      expect(res.errors).toHaveLength(1);
      expect(res.errors![0]).toMatchObject({ extensions: { backend: 'gh', code: 'UPSTREAM_UNAVAILABLE' } });
    } finally {
      stack.sim.setFault(null);
    }

    // The job list's own read fails: the known jobs are shown with the error, not an empty list.
    await stack.query<PipelineJobs>(PIPELINE_JOBS, { id: pipelineId }); // the pipeline is read now, before the fault
    stack.sim.setFault({ status: 502, body: { message: 'Server Error' }, match: /\/jobs(\?|$)/ });
    try {
      const res = await stack.query<{ pipelines: { nodes: { jobs: { nodes: { name: string }[] } }[] } }>(
        `{ pipelines(first: 1, filter: { projects: ["${gid('Project', 'octo-org/api')}"] }) { nodes { jobs { nodes { name } } } } }`,
      );
      expect(res.data!.pipelines.nodes[0]!.jobs.nodes).toEqual([{ name: 'build' }]);
      expect(res.errors?.[0]).toMatchObject({ extensions: { backend: 'gh', code: 'UPSTREAM_UNAVAILABLE' } });
    } finally {
      stack.sim.setFault(null);
    }
  });
});
