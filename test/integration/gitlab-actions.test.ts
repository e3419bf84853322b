import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import gitlabAdapter from '../../adapters/gitlab/index.ts';
import { createGitlabSimulator, type GitlabSimulator, type JobSpec, type SimJob } from '../../adapters/gitlab/simulator/index.ts';
import type { ActionCall, ActionRequest, BackendAdapter, BackendActions } from '../../src/adapter-contract.ts';
import { ActionRefusedError, UpstreamError } from '../../src/errors.ts';
import type { JobModel, PipelineModel } from '../../src/model.ts';
import { contractContext } from '../contract/adapter-context.ts';
import { waitFor } from '../helpers/stack.ts';
import { startReceiver } from '../helpers/webhook-receiver.ts';

/**
 * GitLab actions at adapter level against the simulator on loopback: each action's effect as the
 * adapter's own batch reads see it, each refusal as its typed reason, and the credentials each
 * request carried (the simulator's log): the write token on every action request and nothing else.
 */
const READ = 'glpat-read-token-0123456789abcdef';
const WRITE = 'glpat-write-token-0123456789abcdef';

let sim: GitlabSimulator;
let adapter: BackendAdapter;
let actions: BackendActions;
let projectId: number;

const signal = () => new AbortController().signal;
const pipelineNid = (id: number) => `${projectId}/pipelines/${id}`;
const jobNid = (id: number) => `${projectId}/jobs/${id}`;
const withoutStatus = (calls: readonly ActionCall[]) => calls.map(({ method, path }) => ({ method, path }));

function create(config: Record<string, unknown>): BackendAdapter {
  return gitlabAdapter.create(gitlabAdapter.configSchema.parse(config), contractContext('gl'));
}

async function refusal(p: Promise<unknown>): Promise<ActionRefusedError> {
  const error = await p.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ActionRefusedError);
  return error as ActionRefusedError;
}

const job = (id: number): SimJob => sim.world.jobs().find((j) => j.id === id)!;

/** Steps the world until `done` holds (each step is one transition). */
async function stepUntil(done: () => boolean, max = 200): Promise<void> {
  for (let i = 0; i < max && !done(); i++) if (!(await sim.step())) break;
  expect(done()).toBe(true);
}

async function pipelineWith(jobs: JobSpec[]): Promise<{ pipelineId: number; jobIds: number[] }> {
  return sim.triggerPipeline({ project: 'backend', jobs });
}

async function readPipeline(id: number): Promise<PipelineModel> {
  const [p] = await adapter.batch.pipelines([pipelineNid(id)]);
  return p as PipelineModel;
}

async function readJob(id: number): Promise<JobModel> {
  const [j] = await adapter.batch.jobs([jobNid(id)]);
  return j as JobModel;
}

/** Sends the request and checks that the happy path sent exactly what `plan` announced. */
async function performAsPlanned(request: ActionRequest) {
  const planned = actions.plan(request);
  const outcome = await actions.perform(request, signal());
  expect(withoutStatus(outcome.calls)).toEqual(planned);
  for (const c of outcome.calls) expect(c.status).toBeGreaterThanOrEqual(200);
  return outcome;
}

beforeAll(async () => {
  sim = createGitlabSimulator({ token: READ, writeToken: WRITE, seed: 15, history: 1 });
  await sim.start();
  projectId = sim.world.projects().find((p) => p.path === 'backend')!.id;
  adapter = create({ url: sim.url, token: { value: READ }, writeToken: { value: WRITE }, groups: [sim.world.group], runners: { scope: 'none' }, bridges: false });
  actions = adapter.actions!;
});
afterAll(async () => {
  await adapter?.dispose();
  await sim?.stop();
});
beforeEach(() => sim.resetRequests());

describe('GitLab actions: configuration', () => {
  it('should offer no actions without a writeToken', async () => {
    const readOnly = create({ url: sim.url, token: { value: READ }, groups: [sim.world.group] });
    expect(readOnly.actions).toBeUndefined();
    await readOnly.dispose();
    expect(actions.supported).toEqual({
      cancelPipeline: true, cancelJob: true, retryPipeline: true, retryJob: true, triggerPipeline: true, approve: true, reject: true,
    });
  });

  it('should refuse as UPSTREAM_FORBIDDEN when the write token is the read one (GitLab 403 on the write)', async () => {
    const misconfigured = create({ url: sim.url, token: { value: READ }, writeToken: { value: READ }, groups: [sim.world.group] });
    const { pipelineId } = await pipelineWith([{ name: 'lint', stage: 'test' }]);
    const error = await refusal(misconfigured.actions!.perform({ kind: 'triggerPipeline', projectNativeId: String(projectId), ref: 'main', workflow: null, inputs: {} }, signal()));
    expect(error.reason).toBe('UPSTREAM_FORBIDDEN');
    expect(error.details.status).toBe(403);
    expect(error.message).toContain('403 Forbidden');
    expect(error.message).not.toContain(READ);
    expect(sim.requests.filter((r) => r.method === 'POST').map((r) => r.status)).toEqual([403]);
    expect(sim.world.pipelines('backend')[0]!.id).toBe(pipelineId);
    const anonymous = await fetch(`${sim.url}/projects/${projectId}/pipeline`, { method: 'POST', body: '{"ref":"main"}', headers: { 'content-type': 'application/json' } });
    expect(anonymous.status).toBe(401);
    await misconfigured.dispose();
  });
});

describe('GitLab actions: cancel', () => {
  it('should cancel a running pipeline: CANCELING, then CANCELED once the runner stops', async () => {
    const { pipelineId, jobIds } = await pipelineWith([{ name: 'long', stage: 'test' }, { name: 'after', stage: 'deploy' }]);
    await stepUntil(() => job(jobIds[0]!).status === 'running');
    const outcome = await performAsPlanned({ kind: 'cancelPipeline', pipelineNativeId: pipelineNid(pipelineId), force: false });
    expect(outcome.pipelineNativeId).toBe(pipelineNid(pipelineId));
    expect((await readPipeline(pipelineId)).status).toBe('CANCELING');
    expect((await readJob(jobIds[0]!)).status).toBe('CANCELING');
    expect((await readJob(jobIds[1]!)).status).toBe('CANCELED');
    await sim.runUntilIdle();
    expect((await readPipeline(pipelineId)).status).toBe('CANCELED');
  });

  it('should send the Job and Pipeline Hooks of a cancel as for any other transition', async () => {
    const receiver = await startReceiver();
    try {
      const { pipelineId, jobIds } = await pipelineWith([{ name: 'hooked', stage: 'test' }]);
      await stepUntil(() => job(jobIds[0]!).status === 'running');
      sim.setWebhook({ url: receiver.url, token: 'hook-token' });
      await actions.perform({ kind: 'cancelPipeline', pipelineNativeId: pipelineNid(pipelineId), force: false }, signal());
      const hooks = () => receiver.received.map((r) => JSON.parse(r.body) as Record<string, unknown>);
      const canceling = (h: Record<string, unknown>) =>
        h.object_kind === 'pipeline' && (h.object_attributes as { id: number; status: string }).id === pipelineId &&
        (h.object_attributes as { status: string }).status === 'canceling';
      await waitFor(() => hooks().some(canceling), 5000, 'pipeline hook: canceling');
      expect(hooks().filter((h) => h.object_kind === 'build').map((h) => [h.build_id, h.build_status])).toEqual([[jobIds[0], 'canceling']]);
      await sim.runUntilIdle();
      await waitFor(() => hooks().some((h) => h.object_kind === 'build' && h.build_status === 'canceled'), 5000, 'job hook: canceled');
    } finally {
      sim.setWebhook(null);
      await receiver.close();
    }
  });

  it('should refuse to cancel a finished pipeline as ALREADY_FINISHED without sending the cancel', async () => {
    const { pipelineId, jobIds } = await pipelineWith([{ name: 'quick', stage: 'test' }]);
    await stepUntil(() => job(jobIds[0]!).status === 'success');
    await sim.runUntilIdle();
    sim.resetRequests();
    const error = await refusal(actions.perform({ kind: 'cancelPipeline', pipelineNativeId: pipelineNid(pipelineId), force: false }, signal()));
    expect(error.reason).toBe('ALREADY_FINISHED');
    expect(sim.requests.map((r) => r.method)).toEqual(['GET']);
  });

  it('should force-cancel a running job: cancel, then cancel?force=true moves it from canceling to canceled', async () => {
    const { jobIds } = await pipelineWith([{ name: 'stuck', stage: 'test' }]);
    await stepUntil(() => job(jobIds[0]!).status === 'running');
    const outcome = await performAsPlanned({ kind: 'cancelJob', jobNativeId: jobNid(jobIds[0]!), force: true });
    expect(outcome.calls.map((c) => c.path).at(-1)).toBe(`/projects/${projectId}/jobs/${jobIds[0]}/cancel?force=true`);
    expect((await readJob(jobIds[0]!)).status).toBe('CANCELED');
  });

  it('should force-cancel the canceling jobs of a pipeline', async () => {
    const { pipelineId, jobIds } = await pipelineWith([{ name: 'a', stage: 'test' }]);
    await stepUntil(() => job(jobIds[0]!).status === 'running');
    const outcome = await actions.perform({ kind: 'cancelPipeline', pipelineNativeId: pipelineNid(pipelineId), force: true }, signal());
    expect(withoutStatus(outcome.calls)).toEqual([
      ...actions.plan({ kind: 'cancelPipeline', pipelineNativeId: pipelineNid(pipelineId), force: true }),
      { method: 'POST', path: `/projects/${projectId}/jobs/${jobIds[0]}/cancel?force=true` },
    ]);
    expect((await readPipeline(pipelineId)).status).toBe('CANCELED');
  });

  it('should map a job GitLab does not have to NOT_FOUND', async () => {
    const error = await refusal(actions.perform({ kind: 'cancelJob', jobNativeId: jobNid(1), force: false }, signal()));
    expect(error.reason).toBe('NOT_FOUND');
    expect(error.details.status).toBe(404);
  });
});

describe('GitLab actions: retry', () => {
  it('should retry the failed jobs of a pipeline: new attempts of those jobs only, pipeline RUNNING again', async () => {
    const { pipelineId, jobIds } = await pipelineWith([
      { name: 'unit', stage: 'test', outcome: 'failed' },
      { name: 'lint', stage: 'test' },
    ]);
    await stepUntil(() => job(jobIds[0]!).status === 'failed' && job(jobIds[1]!).status === 'success');
    await sim.runUntilIdle();
    expect((await readPipeline(pipelineId)).status).toBe('FAILURE');
    await performAsPlanned({ kind: 'retryPipeline', pipelineNativeId: pipelineNid(pipelineId), failedOnly: true });
    expect((await readPipeline(pipelineId)).status).toBe('RUNNING');
    const [attempts] = await adapter.batch.jobAttemptsOfPipelines!([pipelineNid(pipelineId)]);
    const byName = (name: string) => (attempts as JobModel[]).filter((j) => j.name === name).map((j) => j.attempt);
    expect(byName('unit')).toEqual([1, 2]);
    expect(byName('lint')).toEqual([1]);
  });

  it('should refuse to retry a running pipeline with nothing failed as NOT_RETRYABLE, sending no retry', async () => {
    const { pipelineId, jobIds } = await pipelineWith([{ name: 'slow', stage: 'test' }]);
    await stepUntil(() => job(jobIds[0]!).status === 'running');
    sim.resetRequests();
    const error = await refusal(actions.perform({ kind: 'retryPipeline', pipelineNativeId: pipelineNid(pipelineId), failedOnly: false }, signal()));
    expect(error.reason).toBe('NOT_RETRYABLE');
    // Builds, then trigger jobs (GitLab retries failed bridges too): neither has anything to retry, so no POST.
    expect(sim.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual([
      `GET /api/v4/projects/${projectId}/pipelines/${pipelineId}/jobs`,
      `GET /api/v4/projects/${projectId}/pipelines/${pipelineId}/bridges`,
    ]);
  });

  it('should retry a pipeline whose only failure is a trigger job: a new bridge and a new downstream pipeline', async () => {
    const { pipelineId } = await sim.triggerPipeline({
      project: 'backend', jobs: [{ name: 'build', stage: 'build' }], downstream: { name: 'child', jobs: [{ name: 'child-unit', stage: 'test', outcome: 'failed' }] },
    });
    const bridges = () => sim.world.jobs(pipelineId).filter((j) => j.kind === 'bridge');
    await stepUntil(() => bridges()[0]?.status === 'failed');
    const outcome = await actions.perform({ kind: 'retryPipeline', pipelineNativeId: pipelineNid(pipelineId), failedOnly: true }, signal());
    expect(outcome.calls.map((c) => `${c.method} ${c.path.split('?')[0]} ${c.status}`)).toEqual([
      `GET /projects/${projectId}/pipelines/${pipelineId}/jobs 200`,
      `GET /projects/${projectId}/pipelines/${pipelineId}/bridges 200`,
      `POST /projects/${projectId}/pipelines/${pipelineId}/retry 201`,
    ]);
    expect(bridges().map((b) => [b.retried, b.retriesCount])).toEqual([[true, 0], [false, 1]]);
    expect((await readPipeline(pipelineId)).status).toBe('RUNNING');
  });

  it('should retry a job under a new id and name it in the outcome', async () => {
    const { pipelineId, jobIds } = await pipelineWith([{ name: 'flaky', stage: 'test', outcome: 'failed' }]);
    await stepUntil(() => job(jobIds[0]!).status === 'failed');
    const outcome = await performAsPlanned({ kind: 'retryJob', jobNativeId: jobNid(jobIds[0]!) });
    const clone = sim.world.jobs(pipelineId).find((j) => j.name === 'flaky' && !j.retried)!;
    expect(clone.id).not.toBe(jobIds[0]);
    expect(outcome.jobNativeId).toBe(jobNid(clone.id));
    expect(outcome.pipelineNativeId).toBe(pipelineNid(pipelineId));
    expect(job(jobIds[0]!).retried).toBe(true);
    const [attempts] = await adapter.batch.jobAttemptsOfPipelines!([pipelineNid(pipelineId)]);
    expect((attempts as JobModel[]).map((j) => [j.nativeId, j.attempt])).toEqual([[jobNid(jobIds[0]!), 1], [jobNid(clone.id), 2]]);
  });

  it('should map GitLab\'s 403 "Job is not retryable" to NOT_RETRYABLE, not to a permission problem', async () => {
    const { jobIds } = await pipelineWith([{ name: 'busy', stage: 'test' }]);
    await stepUntil(() => job(jobIds[0]!).status === 'running');
    const error = await refusal(actions.perform({ kind: 'retryJob', jobNativeId: jobNid(jobIds[0]!) }, signal()));
    expect(error.reason).toBe('NOT_RETRYABLE');
    expect(error.details.status).toBe(403);
  });
});

describe('GitLab actions: trigger', () => {
  it('should create a pipeline on a ref with variables, read back through pipelineInputs', async () => {
    const request: ActionRequest = {
      kind: 'triggerPipeline', projectNativeId: String(projectId), ref: 'main', workflow: null,
      inputs: { DEPLOY_ENV: 'staging', DRY_RUN: true, SHARDS: 3, 'inputs.environment': 'production' },
    };
    const outcome = await performAsPlanned(request);
    const created = sim.world.pipelines('backend')[0]!;
    expect(outcome.pipelineNativeId).toBe(pipelineNid(created.id));
    expect(created.source).toBe('api');
    expect(created.inputs).toEqual({ environment: 'production' });
    const [inputs] = await adapter.batch.pipelineInputs!([pipelineNid(created.id)]);
    expect(inputs).toEqual([{ name: 'DEPLOY_ENV', value: 'staging' }, { name: 'DRY_RUN', value: 'true' }, { name: 'SHARDS', value: '3' }]);
  });

  it('should map GitLab\'s "Reference not found" to UNKNOWN_REF', async () => {
    const error = await refusal(actions.perform({ kind: 'triggerPipeline', projectNativeId: String(projectId), ref: 'no-such-branch', workflow: null, inputs: {} }, signal()));
    expect(error.reason).toBe('UNKNOWN_REF');
    expect(error.details.status).toBe(400);
  });

  it('should name a spec input GitLab does not know as the caller wrote it (INVALID_INPUT)', async () => {
    const error = await refusal(actions.perform({ kind: 'triggerPipeline', projectNativeId: String(projectId), ref: 'main', workflow: null, inputs: { 'inputs.region': 'eu' } }, signal()));
    expect(error.reason).toBe('INVALID_INPUT');
    expect(error.details.input).toBe('inputs.region');
  });

  it('should refuse a variable key GitLab cannot store before sending anything', async () => {
    const error = await refusal(actions.perform({ kind: 'triggerPipeline', projectNativeId: String(projectId), ref: 'main', workflow: null, inputs: { 'bad-key': 'x' } }, signal()));
    expect(error.reason).toBe('INVALID_INPUT');
    expect(error.details.input).toBe('bad-key');
    expect(sim.requests).toEqual([]);
  });
});

describe('GitLab actions: approve and reject', () => {
  it('should play a manual job with its variables: the job is queued', async () => {
    const { jobIds } = await pipelineWith([{ name: 'ship', stage: 'deploy', when: 'manual' }]);
    await stepUntil(() => job(jobIds[0]!).status === 'manual');
    expect((await readJob(jobIds[0]!)).waitReason).toBe('MANUAL');
    await performAsPlanned({ kind: 'approve', target: { type: 'Job', nativeId: jobNid(jobIds[0]!) }, comment: 'go', inputs: { TARGET: 'eu', CANARY: false } });
    expect((await readJob(jobIds[0]!)).status).toBe('QUEUED');
    expect(job(jobIds[0]!).jobVariables).toEqual([{ key: 'TARGET', value: 'eu', variable_type: 'env_var' }, { key: 'CANARY', value: 'false', variable_type: 'env_var' }]);
  });

  it('should map GitLab\'s 400 "Unplayable Job" for a job that is not manual to NOT_WAITING', async () => {
    const { jobIds } = await pipelineWith([{ name: 'done', stage: 'test' }]);
    await stepUntil(() => job(jobIds[0]!).status === 'success');
    const error = await refusal(actions.perform({ kind: 'approve', target: { type: 'Job', nativeId: jobNid(jobIds[0]!) }, comment: null, inputs: {} }, signal()));
    expect(error.reason).toBe('NOT_WAITING');
    expect(error.details.status).toBe(400);
  });

  it('should refuse to play a running job as NOT_WAITING after reading it, sending no play', async () => {
    const { jobIds } = await pipelineWith([{ name: 'busy-play', stage: 'test' }]);
    await stepUntil(() => job(jobIds[0]!).status === 'running');
    sim.resetRequests();
    const error = await refusal(actions.perform({ kind: 'approve', target: { type: 'Job', nativeId: jobNid(jobIds[0]!) }, comment: null, inputs: {} }, signal()));
    expect(error.reason).toBe('NOT_WAITING');
    expect(error.message).toContain('running');
    expect(sim.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /api/v4/projects/${projectId}/jobs/${jobIds[0]}`]);
  });

  it('should refuse to reject a plain manual job as NOT_SUPPORTED, sending no write', async () => {
    const { jobIds } = await pipelineWith([{ name: 'optional', stage: 'deploy', when: 'manual' }]);
    await stepUntil(() => job(jobIds[0]!).status === 'manual');
    sim.resetRequests();
    const error = await refusal(actions.perform({ kind: 'reject', target: { type: 'Job', nativeId: jobNid(jobIds[0]!) }, comment: 'no', inputs: {} }, signal()));
    expect(error.reason).toBe('NOT_SUPPORTED');
    expect(sim.requests.filter((r) => r.method === 'POST')).toEqual([]);
  });

  it('should refuse an approval aimed at a pipeline as NOT_SUPPORTED without a request (GitLab waits on jobs)', async () => {
    const { pipelineId } = await pipelineWith([{ name: 'gate', stage: 'deploy', when: 'manual' }]);
    sim.resetRequests();
    const error = await refusal(actions.perform({ kind: 'approve', target: { type: 'Pipeline', nativeId: pipelineNid(pipelineId) }, comment: null, inputs: {} }, signal()));
    expect(error.reason).toBe('NOT_SUPPORTED');
    expect(sim.requests).toEqual([]);
  });

  it('should approve a deployment blocked on approval: the job leaves manual and runs', async () => {
    const { jobIds } = await pipelineWith([{ name: 'prod', stage: 'deploy', environment: 'production', approval: true }]);
    await stepUntil(() => job(jobIds[0]!).status === 'manual');
    const deployment = sim.world.deployments().find((d) => d.jobId === jobIds[0])!;
    expect(deployment.status).toBe('blocked');
    // A deployment approval takes no variables: refused before any write.
    const early = await refusal(actions.perform({ kind: 'approve', target: { type: 'Job', nativeId: jobNid(jobIds[0]!) }, comment: null, inputs: { X: '1' } }, signal()));
    expect(early.reason).toBe('INVALID_INPUT');
    const outcome = await actions.perform({ kind: 'approve', target: { type: 'Job', nativeId: jobNid(jobIds[0]!) }, comment: 'ship it', inputs: {} }, signal());
    expect(outcome.calls.at(-1)).toEqual({ method: 'POST', path: `/projects/${projectId}/deployments/${deployment.id}/approval`, status: 201 });
    expect(deployment.approvals).toEqual([expect.objectContaining({ status: 'approved', comment: 'ship it' })]);
    expect(outcome.jobNativeId).toBe(jobNid(jobIds[0]!));
    expect((await readJob(jobIds[0]!)).status).toBe('QUEUED');
  });

  it('should reject a deployment blocked on approval: the job fails as deployment_rejected', async () => {
    const { pipelineId, jobIds } = await pipelineWith([{ name: 'prod2', stage: 'deploy', environment: 'production', approval: true }]);
    await stepUntil(() => job(jobIds[0]!).status === 'manual');
    const request: ActionRequest = { kind: 'reject', target: { type: 'Job', nativeId: jobNid(jobIds[0]!) }, comment: 'not today', inputs: {} };
    const outcome = await actions.perform(request, signal());
    const deployment = sim.world.deployments().find((d) => d.jobId === jobIds[0])!;
    expect(withoutStatus(outcome.calls)).toEqual(actions.plan(request).map((c) => ({ ...c, path: c.path.replace(':deployment_id', String(deployment.id)) })));
    const read = await readJob(jobIds[0]!);
    expect(read.status).toBe('FAILURE');
    expect(read.native.failureReason).toBe('deployment_rejected');
    expect((await readPipeline(pipelineId)).status).toBe('FAILURE');
    const again = await refusal(actions.perform(request, signal()));
    expect(again.reason).toBe('NOT_WAITING');
  });
});

describe('GitLab actions: upstream failures', () => {
  const trigger: ActionRequest = { kind: 'triggerPipeline', projectNativeId: '0', ref: 'main', workflow: null, inputs: {} };
  const triggerHere = () => ({ ...trigger, projectNativeId: String(projectId) });

  it('should quote GitLab\'s reason for another 4xx as REFUSED, never echoing the write token', async () => {
    // A token of no recognisable shape: only the adapter's own redaction can hide it (the fault answers before auth).
    const plain = 'opensesame';
    const other = create({ url: sim.url, token: { value: READ }, writeToken: { value: plain }, groups: [sim.world.group] });
    sim.setFault({ status: 400, body: { message: { base: [`Pipeline will not run for the selected trigger (${plain})`] } }, match: /\/pipeline$/ });
    try {
      const error = await refusal(other.actions!.perform(triggerHere(), signal()));
      expect(error.reason).toBe('REFUSED');
      expect(error.message).toContain('Pipeline will not run for the selected trigger');
      expect(error.message).not.toContain(plain);
    } finally {
      sim.setFault(null);
      await other.dispose();
    }
  });

  it.each([
    [502, 'UPSTREAM_UNAVAILABLE'],
    [429, 'UPSTREAM_RATE_LIMITED'],
  ])('should leave a %i an UpstreamError (%s): the action may or may not have happened', async (status, code) => {
    sim.setFault({ status, match: /\/pipeline$/, retryAfterSeconds: 1 });
    try {
      const error = await actions.perform(triggerHere(), signal()).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(UpstreamError);
      expect((error as UpstreamError).code).toBe(code);
    } finally {
      sim.setFault(null);
    }
  });
});

describe('GitLab actions: credentials', () => {
  it('should send the write token on every action request and the read token on every read', async () => {
    const { pipelineId, jobIds } = await pipelineWith([{ name: 'c1', stage: 'test', outcome: 'failed' }]);
    await stepUntil(() => job(jobIds[0]!).status === 'failed');
    sim.resetRequests();
    const outcome = await actions.perform({ kind: 'retryJob', jobNativeId: jobNid(jobIds[0]!) }, signal());
    const actionCount = outcome.calls.length;
    await adapter.batch.pipelines([pipelineNid(pipelineId)]);
    await adapter.batch.jobs([jobNid(jobIds[0]!)]);
    await adapter.batch.pipelineInputs!([pipelineNid(pipelineId)]);
    const log = sim.credentials;
    expect(log.slice(0, actionCount).map((r) => r.credential)).toEqual(Array(actionCount).fill('write'));
    const reads = log.slice(actionCount);
    // The last read is the sentinel: every request up to it is in the log.
    expect(reads.at(-1)?.path).toContain('/variables');
    expect(reads.length).toBeGreaterThanOrEqual(3);
    expect(reads.every((r) => r.credential === 'read' && r.method === 'GET')).toBe(true);
  });
});
