import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PAYLOAD, startGitlabActionsStack, type ActionPayloadView, type GitlabActionsStack } from '../helpers/gitlab-actions-stack.ts';

/**
 * Issue 15 item 6 for GitLab through a real gateway over the simulator: each upstream refusal is a
 * typed payload error naming the backend, is written to the audit file, and where the gateway can
 * tell before writing (it reads the target first), no write reaches GitLab. The simulator's
 * request log is complete once the mutation has answered: the reads the action made are the
 * sentinel that it ran.
 */
type Payload = ActionPayloadView & { pipeline?: { id: string; status: string } | null; job?: { id: string; status: string } | null };

let stack: GitlabActionsStack;
beforeAll(async () => {
  stack = await startGitlabActionsStack();
});
afterAll(() => stack?.close());
beforeEach(() => stack.sim.resetRequests());

const apiPath = (path: string) => `/api/v4/projects/${stack.projectId}${path}`;
const posts = () => stack.sim.requests.filter((r) => r.method !== 'GET');
const auditedFor = async (id: string) => (await stack.actionAudit()).filter((r) => (r.target as { id: string }).id === id);

describe('GitLab refusals through the gateway', () => {
  it('should refuse to retry a running pipeline as NOT_RETRYABLE, audited, with no write upstream', async () => {
    const { pipelineId, jobIds } = await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'slow', stage: 'test' }] });
    await stack.stepUntil(() => stack.job(jobIds[0]!).status === 'running');
    const id = stack.pipelineGid(pipelineId);
    stack.sim.resetRequests();

    const res = await stack.gql<{ retryPipeline: Payload }>(`mutation($id: ID!) { retryPipeline(input: { id: $id }) { ${PAYLOAD} pipeline { id status } } }`, { id });
    expect(res.errors).toBeUndefined();
    expect(res.data!.retryPipeline).toMatchObject({
      errors: [{ code: 'NOT_RETRYABLE', backend: 'gl', message: expect.stringContaining('no failed or canceled job') }],
      pipeline: { id, status: 'RUNNING' },
    });
    // The adapter looked for failed jobs and trigger jobs, found none, and sent no retry.
    expect(stack.sim.requests.map((r) => r.path.split('?')[0])).toEqual(expect.arrayContaining([
      apiPath(`/pipelines/${pipelineId}/jobs`), apiPath(`/pipelines/${pipelineId}/bridges`),
    ]));
    expect(posts()).toEqual([]);
    expect(await auditedFor(id)).toEqual([expect.objectContaining({
      action: 'retryPipeline', backend: 'gl', outcome: 'refused', errorCode: 'NOT_RETRYABLE',
      target: { id, nativeId: `${stack.projectId}/pipelines/${pipelineId}` },
    })]);
  });

  it('should refuse to play a running job as NOT_WAITING, audited, with no write upstream', async () => {
    const { jobIds } = await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'busy', stage: 'test' }] });
    await stack.stepUntil(() => stack.job(jobIds[0]!).status === 'running');
    const id = stack.jobGid(jobIds[0]!);
    stack.sim.resetRequests();

    const res = await stack.gql<{ approve: Payload }>(`mutation($id: ID!) { approve(input: { id: $id, inputs: [{ name: "X", value: "1" }] }) { ${PAYLOAD} job { id status } } }`, { id });
    expect(res.data!.approve).toMatchObject({
      errors: [{ code: 'NOT_WAITING', backend: 'gl', message: expect.stringContaining('not waiting (running)') }],
      job: { id, status: 'RUNNING' },
    });
    expect(stack.sim.requests.map((r) => `${r.method} ${r.path}`)).toContain(`GET ${apiPath(`/jobs/${jobIds[0]}`)}`);
    expect(posts()).toEqual([]);
    expect(stack.job(jobIds[0]!).jobVariables ?? []).toEqual([]);
    // Refused after a read: the read shows in the audit record.
    expect(await auditedFor(id)).toEqual([expect.objectContaining({
      action: 'approve', outcome: 'refused', errorCode: 'NOT_WAITING',
      calls: [{ method: 'GET', path: `/projects/${stack.projectId}/jobs/${jobIds[0]}`, status: 200 }],
    })]);
  });

  it('should pass GitLab\'s 400 "Unplayable Job" for a finished job that is not manual as NOT_WAITING, audited with the refused call', async () => {
    const { jobIds } = await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'done', stage: 'test' }] });
    await stack.stepUntil(() => stack.job(jobIds[0]!).status === 'success');
    const id = stack.jobGid(jobIds[0]!);
    stack.sim.resetRequests();

    const res = await stack.gql<{ approve: Payload }>(`mutation($id: ID!) { approve(input: { id: $id }) { ${PAYLOAD} job { id status } } }`, { id });
    const play = { method: 'POST', path: `/projects/${stack.projectId}/jobs/${jobIds[0]}/play`, status: 400 };
    // Every request the action sent, the read before the refused play included.
    const readJob = { method: 'GET', path: `/projects/${stack.projectId}/jobs/${jobIds[0]}`, status: 200 };
    expect(res.data!.approve).toMatchObject({
      errors: [{ code: 'NOT_WAITING', backend: 'gl', upstreamStatus: 400, message: expect.stringContaining('Unplayable Job') }],
      upstream: { backend: { name: 'gl' }, calls: [readJob, play] },
      job: { id, status: 'SUCCESS' },
    });
    // A success may have been a manual job, which GitLab would re-run: only GitLab can tell, and it refused.
    expect(posts()).toEqual([{ method: 'POST', path: apiPath(`/jobs/${jobIds[0]}/play`), status: 400 }]);
    expect(stack.job(jobIds[0]!).status).toBe('success');
    expect(await auditedFor(id)).toEqual([expect.objectContaining({ action: 'approve', outcome: 'refused', errorCode: 'NOT_WAITING', calls: [readJob, play] })]);
  });

  it('should pass GitLab\'s "Reference not found" for a trigger on an unknown ref as UNKNOWN_REF, audited, creating nothing', async () => {
    const before = stack.sim.world.pipelines('backend').length;
    const res = await stack.gql<{ triggerPipeline: Payload }>(
      `mutation($p: ID!) { triggerPipeline(input: { project: $p, ref: "no-such-branch", inputs: [{ name: "DEPLOY_ENV", value: "staging" }] }) { ${PAYLOAD} pipeline { id } } }`,
      { p: stack.projectGid });
    const create = { method: 'POST', path: `/projects/${stack.projectId}/pipeline`, status: 400 };
    expect(res.data!.triggerPipeline).toMatchObject({
      errors: [{ code: 'UNKNOWN_REF', backend: 'gl', upstreamStatus: 400, message: expect.stringContaining('Reference not found') }],
      upstream: { calls: [create] },
      pipeline: null,
    });
    // GitLab checks the ref as it creates, atomically: the one refused POST, and no pipeline.
    expect(posts()).toEqual([{ method: 'POST', path: apiPath('/pipeline'), status: 400 }]);
    expect(stack.sim.world.pipelines('backend')).toHaveLength(before);
    expect(await auditedFor(stack.projectGid)).toEqual([expect.objectContaining({
      action: 'triggerPipeline', outcome: 'refused', errorCode: 'UNKNOWN_REF', calls: [create],
      inputs: expect.objectContaining({ ref: 'no-such-branch', inputs: { DEPLOY_ENV: 'staging' } }),
    })]);
  });

  it('should refuse to cancel a finished pipeline as ALREADY_FINISHED, audited, with no write upstream', async () => {
    const { pipelineId } = await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'quick', stage: 'test' }] });
    await stack.stepUntil(() => stack.sim.world.pipelines().find((p) => p.id === pipelineId)!.status === 'success');
    const id = stack.pipelineGid(pipelineId);
    stack.sim.resetRequests();

    const res = await stack.gql<{ cancelPipeline: Payload }>(`mutation($id: ID!) { cancelPipeline(input: { id: $id }) { ${PAYLOAD} pipeline { id status } } }`, { id });
    expect(res.data!.cancelPipeline).toMatchObject({ errors: [{ code: 'ALREADY_FINISHED', backend: 'gl' }], pipeline: { id, status: 'SUCCESS' } });
    expect(stack.sim.requests.map((r) => `${r.method} ${r.path}`)).toContain(`GET ${apiPath(`/pipelines/${pipelineId}`)}`);
    expect(posts()).toEqual([]);
    expect(await auditedFor(id)).toEqual([expect.objectContaining({ action: 'cancelPipeline', outcome: 'refused', errorCode: 'ALREADY_FINISHED' })]);
  });
});
