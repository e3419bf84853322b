import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collect } from '../helpers/stack.ts';
import {
  PAYLOAD, startGitlabActionsStack, subscribers, transitions, type ActionPayloadView, type GitlabActionsStack,
} from '../helpers/gitlab-actions-stack.ts';

/**
 * Issue 15 "Done when" for GitLab: each action sent as a mutation to a real gateway on loopback
 * over the GitLab simulator (webhooks on), with a graphql-ws subscriber that sees the outcome,
 * and the payload carrying the entity as the gateway sees it and the upstream calls.
 */
interface JobView { id: string; name: string; status: string; attempt: number }
interface PipelineView { id: string; status: string; inputs?: { name: string; value: string }[] | null }
interface JobEvent { jobUpdated: { job: JobView } }
interface PipelineEvent { pipelineUpdated: { pipeline: PipelineView } }

const JOB_SUB = 'subscription($f: JobFilter) { jobUpdated(filter: $f) { job { id name status attempt } } }';
const PIPELINE_SUB = 'subscription($f: PipelineFilter) { pipelineUpdated(filter: $f) { pipeline { id status inputs { name value } } } }';
const jobStatuses = (events: JobEvent[], id: string) => transitions(events.filter((e) => e.jobUpdated.job.id === id).map((e) => e.jobUpdated.job.status));
const pipelineStatuses = (events: PipelineEvent[]) => transitions(events.map((e) => e.pipelineUpdated.pipeline.status));

let stack: GitlabActionsStack;
beforeAll(async () => {
  stack = await startGitlabActionsStack();
});
afterAll(() => stack?.close());
afterEach(() => subscribers(stack, 0));

const api = (path: string) => `/projects/${stack.projectId}${path}`;

describe('GitLab actions through the gateway: cancel', () => {
  it('should cancel a running pipeline: the payload says CANCELING, the subscriber sees CANCELING then CANCELED', async () => {
    const { pipelineId, jobIds } = await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'long', stage: 'test' }, { name: 'after', stage: 'deploy' }] });
    await stack.stepUntil(() => stack.job(jobIds[0]!).status === 'running');
    const id = stack.pipelineGid(pipelineId);
    const events = collect<PipelineEvent>(stack.ws(), PIPELINE_SUB, { f: { ids: [id] } }, (items) => items.some((e) => e.pipelineUpdated.pipeline.status === 'CANCELED'));
    await subscribers(stack, 1);

    const res = await stack.gql<{ cancelPipeline: ActionPayloadView & { pipeline: PipelineView } }>(
      `mutation($id: ID!) { cancelPipeline(input: { id: $id }) { ${PAYLOAD} pipeline { id status } } }`, { id });
    expect(res.errors).toBeUndefined();
    expect(res.data!.cancelPipeline).toMatchObject({
      errors: [], dryRun: false, replayed: false, pipeline: { id, status: 'CANCELING' },
      upstream: { backend: { name: 'gl' }, calls: [
        { method: 'GET', path: api(`/pipelines/${pipelineId}`), status: 200 },
        { method: 'POST', path: api(`/pipelines/${pipelineId}/cancel`), status: 200 },
      ] },
    });
    // The runner stops the job: canceling → canceled.
    await stack.stepUntil(() => stack.sim.world.pipelines().find((p) => p.id === pipelineId)!.status === 'canceled');
    expect(pipelineStatuses(await events.done)).toEqual(['CANCELING', 'CANCELED']);
  });

  it('should cancel a running job: the payload says CANCELING, a jobUpdated subscriber sees CANCELING then CANCELED', async () => {
    const { jobIds } = await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'stuck', stage: 'test' }] });
    await stack.stepUntil(() => stack.job(jobIds[0]!).status === 'running');
    const id = stack.jobGid(jobIds[0]!);
    const events = collect<JobEvent>(stack.ws(), JOB_SUB, { f: { ids: [id] } }, (items) => items.some((e) => e.jobUpdated.job.status === 'CANCELED'));
    await subscribers(stack, 1);

    const res = await stack.gql<{ cancelJob: ActionPayloadView & { job: JobView } }>(
      `mutation($id: ID!) { cancelJob(input: { id: $id }) { ${PAYLOAD} job { id name status attempt } } }`, { id });
    expect(res.data!.cancelJob).toMatchObject({
      errors: [], job: { id, name: 'stuck', status: 'CANCELING' },
      upstream: { calls: [
        { method: 'GET', path: api(`/jobs/${jobIds[0]}`), status: 200 },
        { method: 'POST', path: api(`/jobs/${jobIds[0]}/cancel`), status: 201 },
      ] },
    });
    await stack.stepUntil(() => stack.job(jobIds[0]!).status === 'canceled');
    expect(jobStatuses(await events.done, id)).toEqual(['CANCELING', 'CANCELED']);
  });
});

describe('GitLab actions through the gateway: retry', () => {
  it('should retry a failed pipeline: new jobs for the failed and canceled ones only, the pipeline RUNNING again', async () => {
    const { pipelineId, jobIds } = await stack.sim.triggerPipeline({
      project: 'backend',
      jobs: [
        { name: 'unit', stage: 'test', outcome: 'failed' },
        { name: 'lint', stage: 'test' },
        { name: 'e2e', stage: 'test', outcome: 'canceled' },
      ],
    });
    await stack.stepUntil(() => stack.sim.world.pipelines().find((p) => p.id === pipelineId)!.status === 'failed');
    const [unit, lint, e2e] = jobIds.map((j) => stack.jobGid(j));
    const id = stack.pipelineGid(pipelineId);
    const isNew = (e: JobEvent) => !jobIds.map((j) => stack.jobGid(j)).includes(e.jobUpdated.job.id);
    const newSucceeded = (items: JobEvent[], name: string) => items.some((e) => isNew(e) && e.jobUpdated.job.name === name && e.jobUpdated.job.status === 'SUCCESS');
    const jobs = collect<JobEvent>(stack.ws(), JOB_SUB, { f: { pipelines: [id] } }, (items) => newSucceeded(items, 'unit') && newSucceeded(items, 'e2e'));
    const pipelines = collect<PipelineEvent>(stack.ws(), PIPELINE_SUB, { f: { ids: [id] } }, (items) => items.some((e) => e.pipelineUpdated.pipeline.status === 'SUCCESS'));
    await subscribers(stack, 2);
    stack.nextSecond();

    const res = await stack.gql<{ retryPipeline: ActionPayloadView & { pipeline: PipelineView & { jobs: { nodes: JobView[] } } } }>(
      `mutation($id: ID!) { retryPipeline(input: { id: $id, failedOnly: true }) { ${PAYLOAD} pipeline { id status jobs { nodes { id name status attempt } } } } }`, { id });
    const payload = res.data!.retryPipeline;
    expect(payload.errors).toEqual([]);
    expect(payload.upstream!.calls.map((c) => `${c.method} ${c.path.split('?')[0]} ${c.status}`)).toEqual([
      `GET ${api(`/pipelines/${pipelineId}/jobs`)} 200`,
      `POST ${api(`/pipelines/${pipelineId}/retry`)} 201`,
    ]);
    expect(payload.pipeline.status).toBe('RUNNING');
    // As the gateway sees it: lint kept its job, unit and e2e run again under new ids.
    const byName = Object.fromEntries(payload.pipeline.jobs.nodes.map((j) => [j.name, j]));
    expect(byName.lint).toMatchObject({ id: lint, attempt: 1, status: 'SUCCESS' });
    expect(byName.unit!.id).not.toBe(unit);
    expect(byName.e2e!.id).not.toBe(e2e);
    expect([byName.unit!.attempt, byName.e2e!.attempt]).toEqual([2, 2]);

    await stack.stepUntil(() => stack.sim.world.pipelines().find((p) => p.id === pipelineId)!.status === 'success');
    const seenJobs = await jobs.done;
    // Each new job's SUCCESS is its last event and comes after its creation: a re-run lint would have shown by then.
    expect([...new Set(seenJobs.filter(isNew).map((e) => e.jobUpdated.job.name))].sort()).toEqual(['e2e', 'unit']);
    expect(seenJobs.filter(isNew).every((e) => e.jobUpdated.job.attempt === 2)).toBe(true);
    expect(pipelineStatuses(await pipelines.done)).toEqual(['RUNNING', 'SUCCESS']);
  });

  it('should retry a failed job: the payload names the new job, and a jobUpdated subscriber sees it appear and run', async () => {
    const { pipelineId, jobIds } = await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'flaky', stage: 'test', outcome: 'failed' }] });
    await stack.stepUntil(() => stack.job(jobIds[0]!).status === 'failed');
    const old = stack.jobGid(jobIds[0]!);
    const fresh = (e: JobEvent) => e.jobUpdated.job.id !== old && e.jobUpdated.job.name === 'flaky';
    const events = collect<JobEvent>(stack.ws(), JOB_SUB, { f: { pipelines: [stack.pipelineGid(pipelineId)] } },
      (items) => items.some((e) => fresh(e) && e.jobUpdated.job.status === 'RUNNING'));
    await subscribers(stack, 1);

    const res = await stack.gql<{ retryJob: ActionPayloadView & { job: JobView } }>(
      `mutation($id: ID!) { retryJob(input: { id: $id }) { ${PAYLOAD} job { id name status attempt } } }`, { id: old });
    const clone = stack.sim.world.jobs(pipelineId).find((j) => j.name === 'flaky' && !j.retried)!;
    expect(clone.id).not.toBe(jobIds[0]);
    expect(res.data!.retryJob).toMatchObject({
      errors: [], job: { id: stack.jobGid(clone.id), name: 'flaky', attempt: 2, status: 'QUEUED' },
      upstream: { calls: [{ method: 'POST', path: api(`/jobs/${jobIds[0]}/retry`), status: 201 }] },
    });
    await stack.stepUntil(() => stack.job(clone.id).status === 'running');
    const seen = (await events.done).filter(fresh);
    expect(seen.every((e) => e.jobUpdated.job.id === stack.jobGid(clone.id) && e.jobUpdated.job.attempt === 2)).toBe(true);
    expect(jobStatuses(seen, stack.jobGid(clone.id)).at(-1)).toBe('RUNNING');
  });
});

describe('GitLab actions through the gateway: trigger', () => {
  it('should create a pipeline with variables: the subscriber sees the new pipeline carrying them as inputs', async () => {
    const known = new Set(stack.sim.world.pipelines('backend').map((p) => stack.pipelineGid(p.id)));
    const events = collect<PipelineEvent>(stack.ws(), PIPELINE_SUB, { f: { projects: [stack.projectGid] } },
      (items) => items.some((e) => !known.has(e.pipelineUpdated.pipeline.id)));
    await subscribers(stack, 1);

    const res = await stack.gql<{ triggerPipeline: ActionPayloadView & { pipeline: PipelineView } }>(
      `mutation($p: ID!) { triggerPipeline(input: { project: $p, ref: "main", inputs: [{ name: "DEPLOY_ENV", value: "staging" }, { name: "DRY_RUN", value: true }, { name: "SHARDS", value: 3 }] }) {
        ${PAYLOAD} pipeline { id status inputs { name value } } } }`, { p: stack.projectGid });
    const created = stack.sim.world.pipelines('backend')[0]!;
    expect(known.has(stack.pipelineGid(created.id))).toBe(false);
    const inputs = [{ name: 'DEPLOY_ENV', value: 'staging' }, { name: 'DRY_RUN', value: 'true' }, { name: 'SHARDS', value: '3' }];
    expect(res.data!.triggerPipeline).toMatchObject({
      errors: [], pipeline: { id: stack.pipelineGid(created.id), inputs },
      upstream: { calls: [{ method: 'POST', path: api('/pipeline'), status: 201 }] },
    });
    const seen = (await events.done).find((e) => !known.has(e.pipelineUpdated.pipeline.id))!.pipelineUpdated.pipeline;
    expect(seen).toMatchObject({ id: stack.pipelineGid(created.id), inputs });
    expect(created.variables).toEqual(inputs.map(({ name, value }) => expect.objectContaining({ key: name, value })));
  });
});

describe('GitLab actions through the gateway: approve and reject', () => {
  it('should play a manual job with variables: the subscriber sees it leave WAITING and run', async () => {
    const { jobIds } = await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'ship', stage: 'deploy', when: 'manual' }] });
    await stack.stepUntil(() => stack.job(jobIds[0]!).status === 'manual');
    const id = stack.jobGid(jobIds[0]!);
    const events = collect<JobEvent>(stack.ws(), JOB_SUB, { f: { ids: [id] } }, (items) => items.some((e) => e.jobUpdated.job.status === 'RUNNING'));
    await subscribers(stack, 1);

    const res = await stack.gql<{ approve: ActionPayloadView & { job: JobView & { waitReason: string | null } } }>(
      `mutation($id: ID!) { approve(input: { id: $id, comment: "go", inputs: [{ name: "TARGET", value: "eu" }] }) { ${PAYLOAD} job { id name status attempt waitReason } } }`, { id });
    expect(res.data!.approve).toMatchObject({
      errors: [], job: { id, status: 'QUEUED', waitReason: null },
      upstream: { calls: [
        { method: 'GET', path: api(`/jobs/${jobIds[0]}`), status: 200 },
        { method: 'GET', path: expect.stringContaining(api('/deployments?')), status: 200 },
        { method: 'POST', path: api(`/jobs/${jobIds[0]}/play`), status: 200 },
      ] },
    });
    expect(stack.job(jobIds[0]!).jobVariables).toEqual([expect.objectContaining({ key: 'TARGET', value: 'eu' })]);
    await stack.stepUntil(() => stack.job(jobIds[0]!).status === 'running');
    expect(jobStatuses(await events.done, id)).toEqual(['QUEUED', 'RUNNING']);
  });

  it('should approve a deployment awaiting approval: the subscriber sees its job run', async () => {
    const { jobIds } = await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'prod', stage: 'deploy', environment: 'production', approval: true }] });
    await stack.stepUntil(() => stack.job(jobIds[0]!).status === 'manual');
    const deployment = stack.sim.world.deployments().find((d) => d.jobId === jobIds[0])!;
    const id = stack.jobGid(jobIds[0]!);
    const events = collect<JobEvent>(stack.ws(), JOB_SUB, { f: { ids: [id] } }, (items) => items.some((e) => e.jobUpdated.job.status === 'RUNNING'));
    await subscribers(stack, 1);

    const res = await stack.gql<{ approve: ActionPayloadView & { job: JobView } }>(
      `mutation($id: ID!) { approve(input: { id: $id, comment: "ship it" }) { ${PAYLOAD} job { id name status attempt } } }`, { id });
    expect(res.data!.approve).toMatchObject({ errors: [], job: { id, status: 'QUEUED' } });
    expect(res.data!.approve.upstream!.calls.at(-1)).toEqual({ method: 'POST', path: api(`/deployments/${deployment.id}/approval`), status: 201 });
    expect(deployment.approvals).toEqual([expect.objectContaining({ status: 'approved', comment: 'ship it' })]);
    await stack.stepUntil(() => stack.job(jobIds[0]!).status === 'running');
    expect(jobStatuses(await events.done, id)).toEqual(['QUEUED', 'RUNNING']);
  });

  it('should reject a deployment awaiting approval: job and pipeline FAILURE (deployment_rejected), seen by the subscribers', async () => {
    const { pipelineId, jobIds } = await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'prod-eu', stage: 'deploy', environment: 'production', approval: true }] });
    await stack.stepUntil(() => stack.job(jobIds[0]!).status === 'manual');
    const deployment = stack.sim.world.deployments().find((d) => d.jobId === jobIds[0])!;
    const id = stack.jobGid(jobIds[0]!);
    const jobs = collect<{ jobUpdated: { job: JobView & { native: { failureReason: string | null } } } }>(stack.ws(),
      'subscription($f: JobFilter) { jobUpdated(filter: $f) { job { id name status attempt native { failureReason } } } }', { f: { ids: [id] } },
      (items) => items.some((e) => e.jobUpdated.job.status === 'FAILURE'));
    const pipelines = collect<PipelineEvent>(stack.ws(), PIPELINE_SUB, { f: { ids: [stack.pipelineGid(pipelineId)] } },
      (items) => items.some((e) => e.pipelineUpdated.pipeline.status === 'FAILURE'));
    await subscribers(stack, 2);

    const res = await stack.gql<{ reject: ActionPayloadView & { job: JobView; pipeline: PipelineView } }>(
      `mutation($id: ID!) { reject(input: { id: $id, comment: "not today" }) { ${PAYLOAD} job { id name status attempt } pipeline { id status } } }`, { id });
    expect(res.data!.reject).toMatchObject({
      errors: [], job: { id, status: 'FAILURE' }, pipeline: { id: stack.pipelineGid(pipelineId), status: 'FAILURE' },
    });
    expect(res.data!.reject.upstream!.calls.at(-1)).toEqual({ method: 'POST', path: api(`/deployments/${deployment.id}/approval`), status: 201 });
    expect(deployment.approvals).toEqual([expect.objectContaining({ status: 'rejected', comment: 'not today' })]);
    expect((await jobs.done).at(-1)!.jobUpdated.job).toMatchObject({ status: 'FAILURE', native: { failureReason: 'deployment_rejected' } });
    expect(pipelineStatuses(await pipelines.done).at(-1)).toBe('FAILURE');
  });
});
