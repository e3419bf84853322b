/**
 * Issue 15 "Done when", GitHub: each action through the real gateway on loopback against the
 * GitHub simulator with webhooks on, by an API key granted the actions, with a graphql-ws
 * subscriber that sees the outcome, and the payload's entity and upstream calls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAYLOAD } from '../helpers/actions-stack.ts';
import { ghId, startGithubActionsStack, type GithubActionsStack } from '../helpers/github-actions-stack.ts';
import { collect, waitForSubscribers } from '../helpers/stack.ts';

const REPO = 'octo-org/api';
const RUNS = `/repos/${REPO}/actions/runs`;

interface Call { method: string; path: string; status: number | null }
interface Payload<E> {
  errors: { code: string; message: string; backend: string | null; upstreamStatus: number | null }[];
  upstream: { backend: { name: string }; calls: Call[] } | null;
  dryRun: boolean;
  replayed: boolean;
  pipeline: E | null;
}
interface PipelineView { id: string; status: string; attempt: number; title: string | null; event: string | null; inputs: { name: string; value: string }[] | null }
interface PipelineEvent { pipelineUpdated: { source: string; pipeline: PipelineView } }
interface JobEvent { jobUpdated: { source: string; job: { id: string; name: string; attempt: number; status: string; finishedAt: string | null } } }

const PIPELINE = 'pipeline { id status attempt title event inputs { name value } }';
const PIPELINE_SUB = `subscription($f: PipelineFilter) { pipelineUpdated(filter: $f) { source ${PIPELINE} } }`;
const JOB_SUB = 'subscription($f: JobFilter) { jobUpdated(filter: $f) { source job { id name attempt status finishedAt } } }';
const mutation = (name: string, input: string) => `mutation($id: ID!) { ${name}(input: { id: $id${input} }) { ${PAYLOAD} ${PIPELINE} } }`;

describe('GitHub actions end to end: gateway, simulator with webhooks, graphql-ws subscriber', () => {
  let stack: GithubActionsStack;
  beforeAll(async () => {
    stack = await startGithubActionsStack();
  }, 30_000);
  afterAll(() => stack?.close());

  const pipelineId = (runId: number) => ghId('Pipeline', `${REPO}/runs/${runId}`);
  async function act<K extends string>(name: K, id: string, input = ''): Promise<Payload<PipelineView>> {
    const res = await stack.gql<Record<K, Payload<PipelineView>>>(mutation(name, input), { id });
    expect(res.errors).toBeUndefined();
    return res.data![name];
  }
  /** The pipeline as the gateway serves it now. */
  async function pipelineNow(id: string): Promise<{ status: string; attempt: number; jobs: { nodes: { name: string; attempt: number; status: string; finishedAt: string | null }[] } }> {
    const res = await stack.gql<{ node: never }>('query($id: ID!) { node(id: $id) { ... on Pipeline { status attempt jobs { nodes { name attempt status finishedAt } } } } }', { id });
    expect(res.errors).toBeUndefined();
    return res.data!.node;
  }

  it('cancelPipeline: 202, the payload shows the run still running (GitHub cancels asynchronously), then the subscriber sees CANCELED', async () => {
    const { runId } = await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'build', labels: ['self-hosted'] }, { name: 'test', labels: ['self-hosted'] }] });
    await stack.sim.step(); // build starts
    const id = pipelineId(runId);
    const events = collect<PipelineEvent>(stack.ws(), PIPELINE_SUB, { f: { ids: [id] } }, (items) => items.some((e) => e.pipelineUpdated.pipeline.status === 'CANCELED'));
    await waitForSubscribers(stack, 1);

    const out = await act('cancelPipeline', id);
    expect(out.errors).toEqual([]);
    expect(out.upstream).toEqual({ backend: { name: 'gh' }, calls: [{ method: 'POST', path: `${RUNS}/${runId}/cancel`, status: 202 }] });
    expect(out.pipeline).toMatchObject({ id, status: 'RUNNING', attempt: 1 });

    await stack.sim.step(); // GitHub carries the cancel out: completed/cancelled deliveries
    const seen = (await events.done).map((e) => e.pipelineUpdated.pipeline.status);
    expect(seen.at(-1)).toBe('CANCELED');
    expect((await pipelineNow(id)).jobs.nodes.map((j) => j.status)).toEqual(['CANCELED', 'CANCELED']);
    await waitForSubscribers(stack, 0);
  });

  it('retryPipeline failedOnly: attempt 2 re-runs only the failed job, delivered by the follow-up re-read (GitHub sends no webhook for a re-run)', async () => {
    const { runId } = await stack.sim.triggerRun({
      repo: 'api', jobs: [{ name: 'ok', labels: ['self-hosted'] }, { name: 'flaky', labels: ['self-hosted'], outcome: 'failure' }],
    });
    await stack.sim.runUntilIdle();
    const id = pipelineId(runId);
    const first = await pipelineNow(id);
    expect(first.status).toBe('FAILURE');
    const okBefore = first.jobs.nodes.find((j) => j.name === 'ok')!;

    const pipelines = collect<PipelineEvent>(stack.ws(), PIPELINE_SUB, { f: { ids: [id] } }, (items) => items.some((e) => e.pipelineUpdated.pipeline.attempt === 2));
    const jobs = collect<JobEvent>(stack.ws(), JOB_SUB, { f: { pipelines: [id] } }, (items) => items.filter((e) => e.jobUpdated.job.attempt === 2).length === 2);
    await waitForSubscribers(stack, 2);
    const deliveredBefore = stack.sim.deliveries.length;

    const out = await act('retryPipeline', id, ', failedOnly: true');
    expect(out.errors).toEqual([]);
    expect(out.upstream!.calls).toEqual([{ method: 'GET', path: `${RUNS}/${runId}`, status: 200 }, { method: 'POST', path: `${RUNS}/${runId}/rerun-failed-jobs`, status: 201 }]);
    expect(out.pipeline).toMatchObject({ id, status: 'QUEUED', attempt: 2 });

    const attempt2 = (await pipelines.done).find((e) => e.pipelineUpdated.pipeline.attempt === 2)!.pipelineUpdated;
    expect(attempt2).toMatchObject({ source: 'POLL', pipeline: { status: 'QUEUED' } });
    const rerun = Object.fromEntries((await jobs.done).filter((e) => e.jobUpdated.job.attempt === 2).map((e) => [e.jobUpdated.job.name, e.jobUpdated]));
    // The failed job runs again; the passed one keeps its result (finished when attempt 1 finished it).
    expect(rerun.flaky).toMatchObject({ source: 'POLL', job: { status: 'QUEUED', finishedAt: null } });
    expect(rerun.ok).toMatchObject({ source: 'POLL', job: { status: 'SUCCESS', finishedAt: okBefore.finishedAt } });

    // No delivery about this run was sent for the re-run, up to a later run's (the barrier).
    await stack.sim.runUntilIdle();
    const sentinel = await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'sentinel', labels: ['self-hosted'] }] });
    const later = stack.sim.deliveries.slice(deliveredBefore).map((d) => JSON.parse(d.body) as { workflow_run?: { id: number }; workflow_job?: { run_id: number } });
    expect(later.some((b) => b.workflow_run?.id === sentinel.runId)).toBe(true);
    expect(later.filter((b) => b.workflow_run?.id === runId || b.workflow_job?.run_id === runId)).toEqual([]);
    await stack.sim.runUntilIdle();
    await waitForSubscribers(stack, 0);
  });

  it('retryPipeline: when the re-read right after the re-run fails, the follow-up keeps re-reading until the subscriber sees attempt 2', async () => {
    const { runId } = await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'lint', labels: ['self-hosted'], outcome: 'failure' }] });
    await stack.sim.runUntilIdle();
    const id = pipelineId(runId);
    expect((await pipelineNow(id)).status).toBe('FAILURE');
    const events = collect<PipelineEvent>(stack.ws(), PIPELINE_SUB, { f: { ids: [id] } }, (items) => items.some((e) => e.pipelineUpdated.pipeline.attempt === 2));
    await waitForSubscribers(stack, 1);

    // GitHub answers 502 to reads of the run from the moment it accepted the re-run.
    const runPath = `${RUNS}/${runId}`;
    const accepted = () => stack.sim.requests.some((r) => r.path === `${runPath}/rerun` && r.status === 201);
    stack.sim.setFault({ status: 502, body: { message: 'Server Error' }, match: Object.assign(/run/, { test: (p: string) => p === runPath && accepted() }) });
    let out: Payload<PipelineView>;
    try {
      out = await act('retryPipeline', id);
    } finally {
      stack.sim.setFault(null);
    }
    expect(out.errors).toEqual([]);
    expect(out.upstream!.calls.map((c) => c.status)).toEqual([200, 201]);
    // The gateway's view is still the one from before: the immediate re-read failed.
    expect(out.pipeline).toMatchObject({ id, status: 'FAILURE', attempt: 1 });
    expect(stack.sim.requests.filter((r) => r.path === runPath && r.status === 502).length).toBeGreaterThan(0);

    const attempt2 = (await events.done).find((e) => e.pipelineUpdated.pipeline.attempt === 2)!.pipelineUpdated;
    expect(attempt2).toMatchObject({ source: 'POLL', pipeline: { status: 'QUEUED' } });
    await stack.sim.runUntilIdle();
    await waitForSubscribers(stack, 0);
  });

  it('retryPipeline of a run off the poll\'s first page: the silent re-run is reconciled until it finishes', async () => {
    const { runId } = await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'e2e', labels: ['self-hosted'], outcome: 'failure' }] });
    await stack.sim.runUntilIdle();
    // 20 newer runs: the reconcile's first page (per_page=20) no longer lists this one.
    for (let i = 0; i < 20; i++) await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: `n${i}`, labels: ['self-hosted'] }] });
    await stack.sim.runUntilIdle();
    await stack.gateway.scheduler.pollNow('gh');
    const id = pipelineId(runId);
    const events = collect<PipelineEvent>(stack.ws(), PIPELINE_SUB, { f: { ids: [id] } }, (items) => items.some((e) => e.pipelineUpdated.pipeline.status === 'SUCCESS'));
    await waitForSubscribers(stack, 1);

    expect((await act('retryPipeline', id, ', failedOnly: true')).pipeline).toMatchObject({ attempt: 2, status: 'QUEUED' });
    await stack.sim.runUntilIdle(); // no delivery: GitHub is silent about re-runs
    await stack.gateway.scheduler.pollNow('gh');
    expect((await events.done).at(-1)!.pipelineUpdated).toMatchObject({ source: 'POLL', pipeline: { attempt: 2, status: 'SUCCESS' } });
    await waitForSubscribers(stack, 0);
  });

  it('triggerPipeline with inputs: the new run appears to the subscriber, its title carrying the inputs (GitHub never exposes a run\'s inputs: Pipeline.inputs is null)', async () => {
    const events = collect<PipelineEvent>(stack.ws(), PIPELINE_SUB, { f: { backends: ['gh'] } }, (items) => items.some((e) => e.pipelineUpdated.pipeline.title === 'Deploy 4.5.6 to staging'));
    await waitForSubscribers(stack, 1);
    const res = await stack.gql<{ triggerPipeline: Payload<PipelineView> }>(
      `mutation($p: ID!) { triggerPipeline(input: { project: $p, ref: "main", workflow: "deploy.yml", inputs: [
        { name: "environment", value: "staging" }, { name: "version", value: "4.5.6" }, { name: "dry_run", value: true }, { name: "replicas", value: 3 }] }) { ${PAYLOAD} ${PIPELINE} } }`,
      { p: ghId('Project', REPO) },
    );
    expect(res.errors).toBeUndefined();
    const out = res.data!.triggerPipeline;
    expect(out.errors).toEqual([]);
    expect(out.upstream!.calls).toEqual([{ method: 'POST', path: `/repos/${REPO}/actions/workflows/deploy.yml/dispatches`, status: 200 }]);
    expect(out.pipeline).toMatchObject({ status: 'QUEUED', attempt: 1, event: 'workflow_dispatch', title: 'Deploy 4.5.6 to staging', inputs: null });

    const seen = (await events.done).find((e) => e.pipelineUpdated.pipeline.title === 'Deploy 4.5.6 to staging')!.pipelineUpdated.pipeline;
    expect(seen).toMatchObject({ id: out.pipeline!.id, event: 'workflow_dispatch', inputs: null });
    await stack.sim.runUntilIdle();
    await waitForSubscribers(stack, 0);
  });

  /** A production deploy: its job waits for the environment's reviewers. */
  async function waitingDeploy(version: string): Promise<string> {
    const res = await stack.gql<{ triggerPipeline: Payload<PipelineView> }>(
      `mutation($p: ID!) { triggerPipeline(input: { project: $p, ref: "main", workflow: "deploy.yml", inputs: [{ name: "environment", value: "production" }, { name: "version", value: "${version}" }] }) { ${PAYLOAD} ${PIPELINE} } }`,
      { p: ghId('Project', REPO) },
    );
    expect(res.data!.triggerPipeline.pipeline).toMatchObject({ status: 'WAITING' });
    return res.data!.triggerPipeline.pipeline!.id;
  }
  const reviewCalls = (id: string): Call[] => {
    const path = `${RUNS}/${Buffer.from(id, 'base64url').toString().split('/').pop()}/pending_deployments`;
    return [{ method: 'GET', path, status: 200 }, { method: 'POST', path, status: 200 }];
  };

  it('approve of a run waiting on a deployment review: RUNNING, then it finishes (SUCCESS)', async () => {
    const id = await waitingDeploy('7.0.0');
    const events = collect<PipelineEvent>(stack.ws(), PIPELINE_SUB, { f: { ids: [id] } }, (items) => items.some((e) => e.pipelineUpdated.pipeline.status === 'SUCCESS'));
    await waitForSubscribers(stack, 1);

    const out = await act('approve', id, ', comment: "ship it"');
    expect(out.errors).toEqual([]);
    expect(out.upstream!.calls).toEqual(reviewCalls(id));
    expect(out.pipeline).toMatchObject({ id, status: 'RUNNING' });

    await stack.sim.runUntilIdle();
    const statuses = (await events.done).map((e) => e.pipelineUpdated.pipeline.status);
    expect(statuses).toContain('RUNNING');
    expect(statuses.indexOf('RUNNING')).toBeLessThan(statuses.indexOf('SUCCESS'));
    await waitForSubscribers(stack, 0);
  });

  it('reject of a run waiting on a deployment review: FAILURE, as GitHub fails a rejected run', async () => {
    const id = await waitingDeploy('7.0.1');
    const events = collect<PipelineEvent>(stack.ws(), PIPELINE_SUB, { f: { ids: [id] } }, (items) => items.some((e) => e.pipelineUpdated.pipeline.status === 'FAILURE'));
    await waitForSubscribers(stack, 1);

    const out = await act('reject', id, ', comment: "not today"');
    expect(out.errors).toEqual([]);
    expect(out.upstream!.calls).toEqual(reviewCalls(id));
    expect(out.pipeline).toMatchObject({ id, status: 'FAILURE' });
    expect((await events.done).at(-1)!.pipelineUpdated.pipeline.status).toBe('FAILURE');
    await waitForSubscribers(stack, 0);
  });
});
