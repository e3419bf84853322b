import { afterEach, describe, expect, it } from 'vitest';
import type { ActionCall, ActionOutcome, ActionRequest, BackendActions, BackendAdapter } from '../../src/adapter-contract.ts';
import { isActionRefusedError, type ActionRefusal } from '../../src/errors.ts';
import type { PipelineModel } from '../../src/model.ts';
import jenkinsAdapter from '../../adapters/jenkins/index.ts';
import { createJenkinsSimulator, type JenkinsSimulator, type JenkinsSimulatorOptions, type SimUser } from '../../adapters/jenkins/simulator/index.ts';
import { contractContext } from '../contract/adapter-context.ts';

/**
 * Jenkins actions at the adapter level against the simulator on loopback: each action's effect
 * seen through the adapter's own batch reads, each refusal typed, the crumb fetched exactly when
 * Jenkins asks, and the write account on every action request and on nothing else.
 */
const READER: SimUser = { name: 'reader', apiToken: 'read-0aa1', permissions: [] };
const WRITER: SimUser = { name: 'deployer', apiToken: 'write-0bb2', permissions: ['build', 'cancel'] };
const signal = new AbortController().signal;

let sim: JenkinsSimulator | null = null;
afterEach(async () => {
  await sim?.stop();
  sim = null;
});

async function boot(opts: Partial<JenkinsSimulatorOptions> = {}, config: Record<string, unknown> = {}): Promise<{ sim: JenkinsSimulator; adapter: BackendAdapter; actions: BackendActions }> {
  sim = createJenkinsSimulator({ users: [READER, WRITER], seed: 7, history: 1, ...opts });
  await sim.start();
  const adapter = jenkinsAdapter.create(jenkinsAdapter.configSchema.parse({
    url: sim.url, user: READER.name, apiToken: { value: READER.apiToken },
    writeUser: WRITER.name, writeToken: { value: WRITER.apiToken },
    actionFollowMs: 0, requestsPerMinute: 10_000, ...config,
  }), contractContext('jk'));
  return { sim, adapter, actions: adapter.actions! };
}

async function pipeline(adapter: BackendAdapter, id: string): Promise<PipelineModel> {
  const [p] = await adapter.batch.pipelines([id]);
  if (!p || p instanceof Error) throw new Error(`no pipeline ${id}: ${String(p)}`);
  return p;
}

async function refusal(p: Promise<unknown>): Promise<{ reason: ActionRefusal; status?: number; input?: string; message: string }> {
  const error = await p.then(() => null, (e: unknown) => e);
  if (!isActionRefusedError(error)) throw new Error(`expected an ActionRefusedError, got ${String(error)}`);
  return { reason: error.reason, status: error.details.status, input: error.details.input, message: error.message };
}

/** A running build of `job` (started from the queue). */
async function running(s: JenkinsSimulator, job: string, extra: Parameters<JenkinsSimulator['triggerBuild']>[0] = { job }): Promise<number> {
  await s.triggerBuild({ ...extra, job });
  await s.step();
  const b = s.world.builds(job)[0]!;
  expect(b.building).toBe(true);
  return b.number;
}

const posts = (s: JenkinsSimulator) => s.requests.filter((r) => r.method === 'POST');
const withoutStatus = (calls: readonly ActionCall[]) => calls.map(({ method, path }) => ({ method, path }));
/** The plan with its placeholders filled from what perform learnt. */
function filled(plan: readonly ActionCall[], values: Record<string, string>): ActionCall[] {
  return plan.map((c) => ({ ...c, path: Object.entries(values).reduce((p, [k, v]) => p.replace(k, v), c.path) }));
}

describe('jenkins actions: configuration', () => {
  it('has no actions without writeToken', async () => {
    const { sim: s } = await boot();
    const readOnly = jenkinsAdapter.create(jenkinsAdapter.configSchema.parse({ url: s.url, user: READER.name, apiToken: { value: READER.apiToken } }), contractContext('ro'));
    expect(readOnly.actions).toBeUndefined();
  });

  it('rejects writeUser without writeToken, naming the key', () => {
    const r = jenkinsAdapter.configSchema.safeParse({ url: 'http://127.0.0.1:1', user: 'a', apiToken: { value: 'x' }, writeUser: 'b' });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(/writeUser.*expected writeToken/);
  });
});

describe('jenkins actions: cancel', () => {
  it('stops a running build (plan = calls), and the adapter reads it CANCELED', async () => {
    const { sim: s, adapter, actions } = await boot();
    const n = await running(s, 'team-a/service');
    const request: ActionRequest = { kind: 'cancelPipeline', pipelineNativeId: `team-a/service#${n}`, force: false };
    s.resetRequests();
    const outcome = await actions.perform(request, signal);
    expect(withoutStatus(outcome.calls)).toEqual(actions.plan(request));
    expect(outcome.calls.map((c) => c.status)).toEqual([200, 302]);
    expect(outcome.pipelineNativeId).toBe(`team-a/service#${n}`);
    expect((await pipeline(adapter, `team-a/service#${n}`)).status).toBe('CANCELED');
  });

  it('refuses a finished build ALREADY_FINISHED without POSTing (Jenkins would redirect and do nothing)', async () => {
    const { sim: s, actions } = await boot();
    const done = s.world.builds('team-a/service')[0]!;
    s.resetRequests();
    const r = await refusal(actions.perform({ kind: 'cancelPipeline', pipelineNativeId: `team-a/service#${done.number}`, force: false }, signal));
    expect(r.reason).toBe('ALREADY_FINISHED');
    expect(s.requests.length).toBe(1);
    expect(posts(s)).toEqual([]);
  });

  it('force: term, read again, kill only when the build ignored term', async () => {
    const { sim: s, adapter, actions } = await boot();
    const soft = await running(s, 'team-a/service');
    const a = await actions.perform({ kind: 'cancelPipeline', pipelineNativeId: `team-a/service#${soft}`, force: true }, signal);
    expect(a.calls.map((c) => `${c.method} ${c.path.split('?')[0]}`)).toEqual([
      `GET /job/team-a/job/service/${soft}/api/json`, `POST /job/team-a/job/service/${soft}/term`, `GET /job/team-a/job/service/${soft}/api/json`,
    ]);
    const hard = await running(s, 'team-a/service', { job: 'team-a/service', ignoresInterrupts: 'stop+term' });
    const b = await actions.perform({ kind: 'cancelPipeline', pipelineNativeId: `team-a/service#${hard}`, force: true }, signal);
    expect(b.calls.map((c) => c.path.split('?')[0]!.split('/').pop())).toEqual(['json', 'term', 'json', 'kill']);
    expect((await pipeline(adapter, `team-a/service#${hard}`)).status).toBe('CANCELED');
  });

  it('cancels a queued build through /queue/cancelItem; the stand-in reads CANCELED', async () => {
    const { sim: s, adapter, actions } = await boot();
    const { queueId } = await s.triggerBuild({ job: 'team-a/service' });
    const id = `team-a/service#queue-${queueId}`;
    const outcome = await actions.perform({ kind: 'cancelPipeline', pipelineNativeId: id, force: false }, signal);
    expect(outcome.calls.map((c) => [c.method, c.path.split('?')[0], c.status])).toEqual([
      ['GET', `/queue/item/${queueId}/api/json`, 200], ['POST', '/queue/cancelItem', 204],
    ]);
    expect(outcome.calls[1]!.path).toBe(`/queue/cancelItem?id=${queueId}`);
    expect((await pipeline(adapter, id)).status).toBe('CANCELED');
  });

  it('cancelJob: a stage is NOT_SUPPORTED with no request; a freestyle build job stops its build', async () => {
    const { sim: s, adapter, actions } = await boot();
    const n = await running(s, 'team-a/service');
    s.resetRequests();
    expect((await refusal(actions.perform({ kind: 'cancelJob', jobNativeId: `team-a/service#${n}/stage/6`, force: false }, signal))).reason).toBe('NOT_SUPPORTED');
    expect(s.requests).toEqual([]);
    const f = await running(s, 'team-a/lint');
    const outcome = await actions.perform({ kind: 'cancelJob', jobNativeId: `team-a/lint#${f}/build`, force: true }, signal);
    expect(outcome.calls.map((c) => c.path.split('?')[0]!.split('/').pop())).toEqual(['json', 'stop']);
    expect((await pipeline(adapter, `team-a/lint#${f}`)).status).toBe('CANCELED');
  });

  it('maps 404 to NOT_FOUND and refuses ids outside the configured roots before any request', async () => {
    const { sim: s, actions } = await boot({}, { jobs: ['team-a'] });
    expect((await refusal(actions.perform({ kind: 'cancelPipeline', pipelineNativeId: 'team-a/service#999', force: false }, signal))).reason).toBe('NOT_FOUND');
    s.resetRequests();
    expect((await refusal(actions.perform({ kind: 'cancelPipeline', pipelineNativeId: 'docs#1', force: false }, signal))).reason).toBe('NOT_FOUND');
    expect(s.requests).toEqual([]);
  });
});

describe('jenkins actions: trigger and retry', () => {
  it('triggers with inputs: buildWithParameters, the queue stand-in, then a build carrying them (plan = calls)', async () => {
    const { sim: s, adapter, actions } = await boot();
    const request: ActionRequest = { kind: 'triggerPipeline', projectNativeId: 'team-a/service', ref: 'main', workflow: null, inputs: { DEPLOY_ENV: 'production', RUN_E2E: true, VERSION: '1.4.2' } };
    const outcome = await actions.perform(request, signal);
    const queueId = /#queue-(\d+)$/.exec(outcome.pipelineNativeId ?? '')?.[1];
    expect(queueId).toBeDefined();
    expect(withoutStatus(outcome.calls)).toEqual(filled(actions.plan(request), { '{queueId}': queueId! }));
    expect(outcome.calls.map((c) => c.status)).toEqual([200, 201, 200]);
    // Inputs travel in the body, never in a path.
    expect(outcome.calls.some((c) => c.path.includes('1.4.2'))).toBe(false);
    // While queued, the stand-in's inputs come from its queue item's ParametersAction.
    const [queuedInputs] = await adapter.batch.pipelineInputs!([outcome.pipelineNativeId!]);
    expect(queuedInputs).toContainEqual({ name: 'VERSION', value: '1.4.2' });
    await s.step();
    const started = await pipeline(adapter, outcome.pipelineNativeId!);
    expect(started.aliasOf).toMatch(/^team-a\/service#\d+$/);
    const [inputs] = await adapter.batch.pipelineInputs!([started.aliasOf!]);
    expect(inputs).toEqual([{ name: 'DEPLOY_ENV', value: 'production' }, { name: 'RUN_E2E', value: 'true' }, { name: 'VERSION', value: '1.4.2' }]);
  });

  it('names the build when it starts within actionFollowMs', async () => {
    const { sim: s, actions } = await boot({}, { actionFollowMs: 5_000 });
    const pending = actions.perform({ kind: 'triggerPipeline', projectNativeId: 'team-a/lint', ref: '', workflow: null, inputs: {} }, signal);
    // Start it once the POST went out (the request log is the barrier).
    while (!s.requests.some((r) => r.method === 'POST')) await new Promise((r) => setTimeout(r, 10));
    await s.step();
    const outcome = await pending;
    expect(outcome.pipelineNativeId).toBe(`team-a/lint#${s.world.builds('team-a/lint')[0]!.number}`);
    expect(outcome.calls.filter((c) => c.method === 'POST').map((c) => c.path)).toEqual(['/job/team-a/job/lint/build']);
  });

  it('refuses undeclared inputs, wrong types and bad choices INVALID_INPUT, naming the input, before any POST', async () => {
    const { sim: s, actions } = await boot();
    const t = (inputs: Record<string, string | boolean>, project = 'team-a/service') => refusal(actions.perform({ kind: 'triggerPipeline', projectNativeId: project, ref: '', workflow: null, inputs }, signal));
    s.resetRequests();
    expect(await t({ DEPLOY_ENV: 'moon' })).toMatchObject({ reason: 'INVALID_INPUT', input: 'DEPLOY_ENV' });
    expect(await t({ RUN_E2E: 'yes' })).toMatchObject({ reason: 'INVALID_INPUT', input: 'RUN_E2E' });
    expect(await t({ NOPE: 'x' })).toMatchObject({ reason: 'INVALID_INPUT', input: 'NOPE' });
    expect(await t({ X: '1' }, 'team-a/lint')).toMatchObject({ reason: 'INVALID_INPUT', input: 'X' });
    expect(posts(s)).toEqual([]);
  });

  it('multibranch: ref names the branch job; a branch without a job is UNKNOWN_REF', async () => {
    const { sim: s, actions } = await boot();
    const outcome = await actions.perform({ kind: 'triggerPipeline', projectNativeId: 'monorepo/main', ref: 'feature/x', workflow: null, inputs: {} }, signal);
    expect(outcome.pipelineNativeId).toMatch(/^monorepo\/feature%2Fx#queue-\d+$/);
    expect(posts(s).map((r) => r.path)).toEqual(['/job/monorepo/job/feature%252Fx/build']);
    s.resetRequests();
    expect((await refusal(actions.perform({ kind: 'triggerPipeline', projectNativeId: 'monorepo/main', ref: 'gone', workflow: null, inputs: {} }, signal))).reason).toBe('UNKNOWN_REF');
    expect(posts(s)).toEqual([]);
  });

  it('retries a build with the same parameters (plan = calls); failedOnly is NOT_SUPPORTED', async () => {
    const { sim: s, adapter, actions } = await boot();
    const first = await actions.perform({ kind: 'triggerPipeline', projectNativeId: 'team-a/service', ref: '', workflow: null, inputs: { DEPLOY_ENV: 'production', VERSION: '9' } }, signal);
    await s.runUntilIdle();
    const original = (await pipeline(adapter, first.pipelineNativeId!)).aliasOf!;
    const request: ActionRequest = { kind: 'retryPipeline', pipelineNativeId: original, failedOnly: false };
    const retry = await actions.perform(request, signal);
    const queueId = /#queue-(\d+)$/.exec(retry.pipelineNativeId ?? '')![1]!;
    expect(withoutStatus(retry.calls)).toEqual(filled(actions.plan(request), { '{queueId}': queueId }));
    await s.step();
    const rebuilt = (await pipeline(adapter, retry.pipelineNativeId!)).aliasOf!;
    expect(rebuilt).not.toBe(original);
    const [a, b] = await adapter.batch.pipelineInputs!([original, rebuilt]);
    expect(b).toEqual(a);
    expect(b).toContainEqual({ name: 'VERSION', value: '9' });
    s.resetRequests();
    expect((await refusal(actions.perform({ ...request, failedOnly: true }, signal))).reason).toBe('NOT_SUPPORTED');
    expect((await refusal(actions.perform({ kind: 'retryJob', jobNativeId: `${original}/stage/6` }, signal))).reason).toBe('NOT_SUPPORTED');
    expect(s.requests).toEqual([]);
  });

  it('declaredInputs maps parameter definitions (with the read account)', async () => {
    const { sim: s, actions } = await boot();
    s.resetRequests();
    expect(await actions.declaredInputs!({ projectNativeId: 'team-a/service', ref: '', workflow: null }, signal)).toEqual([
      { name: 'DEPLOY_ENV', type: 'choice', required: false, options: ['staging', 'production'], defaultValue: 'staging', description: 'Where to deploy' },
      { name: 'RUN_E2E', type: 'boolean', required: false, defaultValue: false, description: 'Run the end-to-end suite' },
      { name: 'VERSION', type: 'string', required: false, defaultValue: '', description: 'Version to build (empty: next)' },
    ]);
    expect(await actions.declaredInputs!({ projectNativeId: 'team-a/lint', ref: '', workflow: null }, signal)).toEqual([]);
    expect(s.authLog.map((r) => r.user)).toEqual(['reader', 'reader']);
  });
});

describe('jenkins actions: approve and reject', () => {
  const gate = (submitter?: string) => ({
    job: 'platform/infra/terraform',
    stages: [
      { name: 'Plan' },
      { name: 'Approve', input: { message: 'Apply the plan?', ok: 'Apply', ...(submitter ? { submitter } : {}), parameters: [{ name: 'REGION', type: 'choice' as const, choices: ['eu', 'us'] }] } },
      { name: 'Apply' },
    ],
  });
  const paused = async (s: JenkinsSimulator, submitter?: string) => {
    await s.triggerBuild(gate(submitter));
    await s.runUntilIdle();
    const b = s.world.builds('platform/infra/terraform')[0]!;
    expect(b.stages.some((st) => st.status === 'PAUSED_PENDING_INPUT')).toBe(true);
    return `platform/infra/terraform#${b.number}`;
  };

  it('approves with parameters through submit (plan = calls): the build runs on with the answer recorded', async () => {
    const { sim: s, adapter, actions } = await boot();
    const id = await paused(s, 'Deployer, release');
    expect((await pipeline(adapter, id)).status).toBe('WAITING');
    const request: ActionRequest = { kind: 'approve', target: { type: 'Pipeline', nativeId: id }, comment: 'ship it', inputs: { REGION: 'us' } };
    const outcome = await actions.perform(request, signal);
    const inputId = /\/input\/([^/]+)\/submit$/.exec(outcome.calls[1]!.path)![1]!;
    expect(withoutStatus(outcome.calls)).toEqual(filled(actions.plan(request), { '{inputId}': inputId }));
    expect(outcome.calls.map((c) => c.status)).toEqual([200, 302]);
    expect((await pipeline(adapter, id)).status).toBe('RUNNING');
    const stage = s.world.builds('platform/infra/terraform')[0]!.stages.find((st) => st.name === 'Approve')!;
    expect(stage.inputAnswer).toEqual({ approver: 'deployer', params: [{ name: 'REGION', type: 'choice', value: 'us' }] });
  });

  it('refuses a user outside the submitter list SUBMITTER_NOT_ALLOWED (Jenkins 400), leaving the build waiting', async () => {
    const { sim: s, adapter, actions } = await boot();
    const id = await paused(s, 'alice,release-managers');
    const r = await refusal(actions.perform({ kind: 'approve', target: { type: 'Pipeline', nativeId: id }, comment: null, inputs: {} }, signal));
    expect(r).toMatchObject({ reason: 'SUBMITTER_NOT_ALLOWED', status: 400 });
    expect(r.message).toContain('You need to be alice,release-managers to submit this.');
    expect((await pipeline(adapter, id)).status).toBe('WAITING');
  });

  it('rejects: abort ends the build ABORTED (CANCELED); then nothing waits: NOT_WAITING', async () => {
    const { sim: s, adapter, actions } = await boot();
    const id = await paused(s);
    const outcome = await actions.perform({ kind: 'reject', target: { type: 'Pipeline', nativeId: id }, comment: 'no', inputs: {} }, signal);
    expect(outcome.calls[1]!.path).toMatch(/\/input\/[^/]+\/abort$/);
    await s.runUntilIdle();
    expect((await pipeline(adapter, id)).status).toBe('CANCELED');
    expect((await refusal(actions.perform({ kind: 'approve', target: { type: 'Pipeline', nativeId: id }, comment: null, inputs: {} }, signal))).reason).toBe('NOT_WAITING');
  });

  it('approve of an input parameter the input does not declare is INVALID_INPUT, before any POST', async () => {
    const { sim: s, actions } = await boot();
    const id = await paused(s);
    s.resetRequests();
    expect(await refusal(actions.perform({ kind: 'approve', target: { type: 'Pipeline', nativeId: id }, comment: null, inputs: { ZONE: 'a' } }, signal))).toMatchObject({ reason: 'INVALID_INPUT', input: 'ZONE' });
    expect(posts(s)).toEqual([]);
  });
});

describe('jenkins actions: credentials and CSRF crumbs', () => {
  it('sends the write account on every action request and never on reads', async () => {
    const { sim: s, adapter, actions } = await boot();
    const n = await running(s, 'team-a/service');
    s.resetRequests();
    const outcome: ActionOutcome = await actions.perform({ kind: 'cancelPipeline', pipelineNativeId: `team-a/service#${n}`, force: false }, signal);
    const actionLog = s.authLog.slice();
    expect(actionLog.map((r) => r.user)).toEqual(outcome.calls.map(() => 'deployer'));
    s.resetRequests();
    await adapter.batch.pipelines([`team-a/service#${n}`]);
    await adapter.batch.pipelineInputs!([`team-a/service#${n}`]);
    await adapter.listProjects();
    expect(s.authLog.length).toBeGreaterThan(0);
    expect(new Set(s.authLog.map((r) => r.user))).toEqual(new Set(['reader']));
    for (const c of outcome.calls) expect(c.path).not.toMatch(/write-0bb2|read-0aa1/);
  });

  it('a write account without Job/Build is UPSTREAM_FORBIDDEN, quoting Jenkins', async () => {
    const { actions } = await boot({}, { writeUser: READER.name, writeToken: { value: READER.apiToken } });
    const r = await refusal(actions.perform({ kind: 'triggerPipeline', projectNativeId: 'team-a/lint', ref: '', workflow: null, inputs: {} }, signal));
    expect(r).toMatchObject({ reason: 'UPSTREAM_FORBIDDEN', status: 403 });
    expect(r.message).toContain('reader is missing the Job/Build permission');
  });

  it('fetches no crumb while Jenkins exempts API tokens', async () => {
    const { sim: s, actions } = await boot({ requireCrumb: true });
    await actions.perform({ kind: 'triggerPipeline', projectNativeId: 'team-a/lint', ref: '', workflow: null, inputs: {} }, signal);
    expect(s.requests.some((r) => r.path.startsWith('/crumbIssuer'))).toBe(false);
  });

  it('fetches a crumb once when a POST is refused for it, retries, and sends it up front afterwards', async () => {
    const { sim: s, actions } = await boot({ requireCrumb: 'always' });
    const first = await actions.perform({ kind: 'triggerPipeline', projectNativeId: 'team-a/lint', ref: '', workflow: null, inputs: {} }, signal);
    expect(first.calls.map((c) => `${c.method} ${c.path.split('?')[0]} ${c.status}`)).toEqual([
      'GET /job/team-a/job/lint/api/json 200', 'POST /job/team-a/job/lint/build 403', 'GET /crumbIssuer/api/json 200', 'POST /job/team-a/job/lint/build 201',
      expect.stringMatching(/^GET \/queue\/item\/\d+\/api\/json 200$/),
    ]);
    s.resetRequests();
    const second = await actions.perform({ kind: 'triggerPipeline', projectNativeId: 'team-a/service', ref: '', workflow: null, inputs: { VERSION: '2' } }, signal);
    expect(second.calls.map((c) => c.status)).toEqual([200, 201, 200]);
    expect(s.authLog.filter((r) => r.method === 'POST').map((r) => r.crumb)).toEqual([true]);
  });

  it('refuses CRUMB_REJECTED when even a fresh crumb is refused (sessions not kept)', async () => {
    const { sim: s, actions } = await boot({ requireCrumb: 'always' });
    s.setForgetSessions(true);
    const r = await refusal(actions.perform({ kind: 'triggerPipeline', projectNativeId: 'team-a/lint', ref: '', workflow: null, inputs: {} }, signal));
    expect(r).toMatchObject({ reason: 'CRUMB_REJECTED', status: 403 });
    expect(s.requests.filter((q) => q.path.startsWith('/crumbIssuer')).length).toBe(1);
    expect(posts(s).length).toBe(2);
  });
});
