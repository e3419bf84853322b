import { describe, expect, it } from 'vitest';
import type { ActionRequest, BackendActions } from '../../src/adapter-contract.ts';
import { ActionRefusedError, UpstreamError } from '../../src/errors.ts';
import { checkFields, blockFields } from '../../adapters/buildkite/action-fields.ts';
import { refusalFor } from '../../adapters/buildkite/action-refusals.ts';
import { createBuildBody, DEFAULT_MESSAGE } from '../../adapters/buildkite/action-trigger.ts';
import { createBuildkiteActions, BUILDKITE_SUPPORTED } from '../../adapters/buildkite/actions.ts';

/**
 * The Buildkite actions without a network: a fake `fetch` answers by method and path and records
 * what was sent (headers and bodies), so request building and every refusal are pinned exactly.
 */
const WRITE = 'bkua_write_token_0123456789';
const ORG = 'acme';
const JOB_A = '0190f3b4-5d1e-4c2a-9a8e-0f1d2c3b4a59';
const JOB_B = '0190f3b4-5d1e-4c2a-9a8e-0f1d2c3b4a60';
const JOB_C = '0190f3b4-5d1e-4c2a-9a8e-0f1d2c3b4a61';
const BUILD = `/v2/organizations/${ORG}/pipelines/web/builds/42`;
const signal = new AbortController().signal;

interface Sent { method: string; path: string; auth: string | null; body: unknown }
type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

function world(route: (method: string, path: string, body: unknown) => Reply, opts: { followMs?: number; covers?: (slug: string) => boolean } = {}) {
  const sent: Sent[] = [];
  const fakeFetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    const body = typeof init?.body === 'string' ? JSON.parse(init.body) as unknown : undefined;
    const headers = new Headers(init?.headers);
    sent.push({ method, path: url.pathname + url.search, auth: headers.get('authorization'), body });
    const reply = route(method, url.pathname + url.search, body);
    return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), { status: reply.status, headers: reply.headers });
  }) as typeof fetch;
  const actions: BackendActions = createBuildkiteActions({
    backend: 'bk', organization: ORG, url: 'https://api.buildkite.test', writeToken: WRITE, timeoutMs: 2_000,
    now: () => new Date('2026-12-05T20:00:00Z'), covers: opts.covers ?? (() => true), followMs: opts.followMs ?? 0, followIntervalMs: 1,
    toEntities: (b) => [{ type: 'Pipeline', nativeId: `web/${String((b as { number?: number }).number)}` } as never], fetch: fakeFetch,
  });
  return { actions, sent };
}

async function refusal(p: Promise<unknown>): Promise<ActionRefusedError> {
  const error = await p.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ActionRefusedError);
  return error as ActionRefusedError;
}

const job = (id: string, over: Record<string, unknown> = {}) => ({ id, type: 'script', state: 'failed', retried: false, ...over });

describe('buildkite actions: plan', () => {
  const { actions, sent } = world(() => ({ status: 500 }));
  const requests: ActionRequest[] = [
    { kind: 'cancelPipeline', pipelineNativeId: 'web/42', force: false },
    { kind: 'retryPipeline', pipelineNativeId: 'web/42', failedOnly: false },
    { kind: 'retryPipeline', pipelineNativeId: 'web/42', failedOnly: true },
    { kind: 'retryJob', jobNativeId: `web/42/${JOB_A}` },
    { kind: 'triggerPipeline', projectNativeId: 'web', ref: 'main', workflow: null, inputs: { FOO: 'bar' } },
    { kind: 'approve', target: { type: 'Pipeline', nativeId: 'web/42' }, comment: null, inputs: {} },
    { kind: 'approve', target: { type: 'Job', nativeId: `web/42/${JOB_B}` }, comment: null, inputs: {} },
  ];

  it('names the exact calls perform sends, below the url, without any request', () => {
    expect(requests.map((r) => actions.plan(r))).toEqual([
      [{ method: 'PUT', path: `${BUILD}/cancel` }],
      [{ method: 'PUT', path: `${BUILD}/rebuild` }],
      [{ method: 'GET', path: `${BUILD}?include_retried_jobs=true` }, { method: 'PUT', path: `${BUILD}/jobs/{jobId}/retry` }],
      [{ method: 'GET', path: `${BUILD}?include_retried_jobs=true` }, { method: 'PUT', path: `${BUILD}/jobs/${JOB_A}/retry` }],
      [{ method: 'POST', path: `/v2/organizations/${ORG}/pipelines/web/builds` }],
      [{ method: 'GET', path: `${BUILD}?include_retried_jobs=true` }, { method: 'PUT', path: `${BUILD}/jobs/{jobId}/unblock` }],
      [{ method: 'GET', path: `${BUILD}?include_retried_jobs=true` }, { method: 'PUT', path: `${BUILD}/jobs/${JOB_B}/unblock` }],
    ]);
    expect(sent).toEqual([]);
  });

  it('plans nothing for what Buildkite cannot do or ids it cannot parse', () => {
    expect(actions.plan({ kind: 'cancelJob', jobNativeId: `web/42/${JOB_A}`, force: false })).toEqual([]);
    expect(actions.plan({ kind: 'reject', target: { type: 'Pipeline', nativeId: 'web/42' }, comment: null, inputs: {} })).toEqual([]);
    expect(actions.plan({ kind: 'cancelPipeline', pipelineNativeId: 'web/abc', force: false })).toEqual([]);
    expect(BUILDKITE_SUPPORTED).toMatchObject({ cancelJob: false, reject: false, approve: true, retryJob: true });
  });
});

describe('buildkite actions: perform', () => {
  it('cancel: one PUT with the write token; the answered build becomes the outcome entities', async () => {
    const { actions, sent } = world(() => ({ status: 200, body: { number: 42, state: 'canceling' } }));
    const out = await actions.perform({ kind: 'cancelPipeline', pipelineNativeId: 'web/42', force: true }, signal);
    expect(sent).toEqual([{ method: 'PUT', path: `${BUILD}/cancel`, auth: `Bearer ${WRITE}`, body: undefined }]);
    expect(out).toEqual({ calls: [{ method: 'PUT', path: `${BUILD}/cancel`, status: 200 }], pipelineNativeId: 'web/42', entities: [{ type: 'Pipeline', nativeId: 'web/42' }] });
  });

  it('cancel of a finished build: Buildkite\'s 422 is ALREADY_FINISHED, quoting it, with the calls', async () => {
    const { actions } = world(() => ({ status: 422, body: { message: 'Build can\'t be canceled because it\'s finished' } }));
    const r = await refusal(actions.perform({ kind: 'cancelPipeline', pipelineNativeId: 'web/42', force: false }, signal));
    expect(r.reason).toBe('ALREADY_FINISHED');
    expect(r.backend).toBe('bk');
    expect(r.message).toContain("it's finished");
    expect(r.details).toMatchObject({ status: 422, method: 'PUT', path: `${BUILD}/cancel` });
  });

  it('cancel follows the build until the cancel shows, with the write token, within followMs', async () => {
    let reads = 0;
    const { actions, sent } = world((method) => {
      if (method === 'PUT') return { status: 200, body: { number: 42, state: 'running' } };
      reads++;
      return { status: 200, body: { number: 42, state: reads < 2 ? 'running' : 'canceled' } };
    }, { followMs: 5_000 });
    const out = await actions.perform({ kind: 'cancelPipeline', pipelineNativeId: 'web/42', force: false }, signal);
    expect(out.calls.map((c) => c.method)).toEqual(['PUT', 'GET', 'GET']);
    expect(sent.every((s) => s.auth === `Bearer ${WRITE}`)).toBe(true);
  });

  it('ids outside the configured pipelines are NOT_FOUND without a request', async () => {
    const { actions, sent } = world(() => ({ status: 200, body: {} }), { covers: (slug) => slug === 'other' });
    expect((await refusal(actions.perform({ kind: 'cancelPipeline', pipelineNativeId: 'web/42', force: false }, signal))).reason).toBe('NOT_FOUND');
    expect((await refusal(actions.perform({ kind: 'triggerPipeline', projectNativeId: 'web', ref: 'main', workflow: null, inputs: {} }, signal))).reason).toBe('NOT_FOUND');
    expect(sent).toEqual([]);
  });

  it('cancelJob and reject are NOT_SUPPORTED without a request, saying what Buildkite offers instead', async () => {
    const { actions, sent } = world(() => ({ status: 200, body: {} }));
    const cancelJob = await refusal(actions.perform({ kind: 'cancelJob', jobNativeId: `web/42/${JOB_A}`, force: false }, signal));
    expect(cancelJob.reason).toBe('NOT_SUPPORTED');
    expect(cancelJob.message).toMatch(/cannot cancel a single job.*cancelPipeline/);
    const reject = await refusal(actions.perform({ kind: 'reject', target: { type: 'Pipeline', nativeId: 'web/42' }, comment: 'no', inputs: {} }, signal));
    expect(reject.reason).toBe('NOT_SUPPORTED');
    expect(reject.message).toMatch(/no reject for a block step.*cancelPipeline/);
    expect(sent).toEqual([]);
  });

  it('rebuild names the new build from the answer', async () => {
    const { actions } = world(() => ({ status: 200, body: { number: 43, state: 'scheduled' } }));
    const out = await actions.perform({ kind: 'retryPipeline', pipelineNativeId: 'web/42', failedOnly: false }, signal);
    expect(out.pipelineNativeId).toBe('web/43');
  });

  it('failedOnly retries each latest failed, timed-out or canceled job, one PUT each', async () => {
    const jobs = [job(JOB_A), job(JOB_B, { state: 'passed' }), job(JOB_C, { state: 'timed_out' }), job('0190f3b4-5d1e-4c2a-9a8e-0f1d2c3b4a62', { retried: true }), { id: '0190f3b4-5d1e-4c2a-9a8e-0f1d2c3b4a63', type: 'waiter', state: 'canceled' }];
    const { actions, sent } = world((method) => (method === 'GET' ? { status: 200, body: { number: 42, state: 'failed', jobs } } : { status: 200, body: {} }));
    const out = await actions.perform({ kind: 'retryPipeline', pipelineNativeId: 'web/42', failedOnly: true }, signal);
    expect(sent.filter((s) => s.method === 'PUT').map((s) => s.path)).toEqual([`${BUILD}/jobs/${JOB_A}/retry`, `${BUILD}/jobs/${JOB_C}/retry`]);
    expect(out.pipelineNativeId).toBe('web/42');
  });

  it('failedOnly with nothing failed is NOT_RETRYABLE before any write', async () => {
    const { actions, sent } = world(() => ({ status: 200, body: { number: 42, state: 'passed', jobs: [job(JOB_A, { state: 'passed' })] } }));
    const r = await refusal(actions.perform({ kind: 'retryPipeline', pipelineNativeId: 'web/42', failedOnly: true }, signal));
    expect(r.reason).toBe('NOT_RETRYABLE');
    expect(r.details.calls).toEqual([{ method: 'GET', path: `${BUILD}?include_retried_jobs=true`, status: 200 }]);
    expect(sent.map((s) => s.method)).toEqual(['GET']);
  });

  it('retryJob returns the new job; a job retried already is refused naming its newer attempt, without a write', async () => {
    const build = { number: 42, state: 'failed', jobs: [job(JOB_A), job(JOB_B, { retried: true, retried_in_job_id: JOB_C })] };
    const { actions, sent } = world((method) => (method === 'GET' ? { status: 200, body: build } : { status: 200, body: { id: JOB_C, state: 'scheduled' } }));
    const out = await actions.perform({ kind: 'retryJob', jobNativeId: `web/42/${JOB_A}` }, signal);
    expect(out).toMatchObject({ pipelineNativeId: 'web/42', jobNativeId: `web/42/${JOB_C}` });
    expect(sent.map((s) => `${s.method} ${s.path}`)).toEqual([`GET ${BUILD}?include_retried_jobs=true`, `PUT ${BUILD}/jobs/${JOB_A}/retry`]);
    const again = await refusal(actions.perform({ kind: 'retryJob', jobNativeId: `web/42/${JOB_B}` }, signal));
    expect(again.reason).toBe('NOT_RETRYABLE');
    expect(again.message).toContain('retry its newest attempt');
    expect(sent.filter((s) => s.method === 'PUT')).toHaveLength(1);
  });

  it('retryJob of a running job or of a canceled build is NOT_RETRYABLE before a write; Buildkite\'s 422 too', async () => {
    const running = world(() => ({ status: 200, body: { number: 42, state: 'running', jobs: [job(JOB_A, { state: 'running' })] } }));
    expect((await refusal(running.actions.perform({ kind: 'retryJob', jobNativeId: `web/42/${JOB_A}` }, signal))).reason).toBe('NOT_RETRYABLE');
    const canceled = world(() => ({ status: 200, body: { number: 42, state: 'canceled', jobs: [job(JOB_A, { state: 'canceled' })] } }));
    expect((await refusal(canceled.actions.perform({ kind: 'retryJob', jobNativeId: `web/42/${JOB_A}` }, signal))).reason).toBe('NOT_RETRYABLE');
    expect([...running.sent, ...canceled.sent].map((s) => s.method)).toEqual(['GET', 'GET']);
    const passed = world((m) => (m === 'GET' ? { status: 200, body: { number: 42, state: 'passed', jobs: [job(JOB_A, { state: 'passed' })] } } : { status: 422, body: { message: 'Only failed jobs can be retried' } }));
    const r = await refusal(passed.actions.perform({ kind: 'retryJob', jobNativeId: `web/42/${JOB_A}` }, signal));
    expect(r.reason).toBe('NOT_RETRYABLE');
    expect(r.details.calls?.map((c) => c.status)).toEqual([200, 422]);
  });

  it('approve unblocks the first blocked block step with its fields checked, values as strings', async () => {
    const block = { id: JOB_B, type: 'manual', state: 'blocked', fields: [{ text: 'Release', key: 'release' }, { select: 'Region', key: 'region', options: [{ label: 'EU', value: 'eu' }, { label: 'US', value: 'us' }] }, { text: 'Note', key: 'note', required: false }] };
    const build = { number: 42, state: 'passed', blocked: true, jobs: [job(JOB_A, { state: 'passed' }), block] };
    const { actions, sent } = world((method) => (method === 'GET' ? { status: 200, body: build } : { status: 200, body: { ...block, state: 'unblocked' } }));
    const out = await actions.perform({ kind: 'approve', target: { type: 'Pipeline', nativeId: 'web/42' }, comment: 'ship', inputs: { release: 1.2, region: 'eu' } }, signal);
    expect(sent.at(-1)).toEqual({ method: 'PUT', path: `${BUILD}/jobs/${JOB_B}/unblock`, auth: `Bearer ${WRITE}`, body: { fields: { release: '1.2', region: 'eu' } } });
    expect(out).toMatchObject({ pipelineNativeId: 'web/42', jobNativeId: `web/42/${JOB_B}` });
    const bad = await refusal(actions.perform({ kind: 'approve', target: { type: 'Pipeline', nativeId: 'web/42' }, comment: null, inputs: { release: 'x', region: 'mars' } }, signal));
    expect(bad).toMatchObject({ reason: 'INVALID_INPUT', details: { input: 'region' } });
    const missing = await refusal(actions.perform({ kind: 'approve', target: { type: 'Job', nativeId: `web/42/${JOB_B}` }, comment: null, inputs: { region: 'us' } }, signal));
    expect(missing).toMatchObject({ reason: 'INVALID_INPUT', details: { input: 'release' } });
    expect(sent.filter((s) => s.method === 'PUT')).toHaveLength(1);
  });

  it('approve follows the build only while the answer still shows the step blocked', async () => {
    const block = { id: JOB_B, type: 'manual', state: 'blocked' };
    let puts = 0;
    const run = (answerState: string) => world((method) => {
      if (method === 'PUT') {
        puts++;
        return { status: 200, body: { ...block, state: answerState } };
      }
      return { status: 200, body: { number: 42, state: puts > 0 ? 'running' : 'passed', blocked: puts === 0, jobs: [{ ...block, state: puts > 0 ? 'unblocked' : 'blocked' }] } };
    }, { followMs: 5_000 });
    const released = run('unblocked');
    await released.actions.perform({ kind: 'approve', target: { type: 'Pipeline', nativeId: 'web/42' }, comment: null, inputs: {} }, signal);
    expect(released.sent.map((s) => s.method)).toEqual(['GET', 'PUT']);
    puts = 0;
    const slow = run('blocked');
    const out = await slow.actions.perform({ kind: 'approve', target: { type: 'Pipeline', nativeId: 'web/42' }, comment: null, inputs: {} }, signal);
    expect(slow.sent.map((s) => s.method)).toEqual(['GET', 'PUT', 'GET']);
    expect(out.entities).toEqual([{ type: 'Pipeline', nativeId: 'web/42' }]);
  });

  it('approve of a build at no block step, or of a job that is not one, is NOT_WAITING without a write', async () => {
    const { actions, sent } = world(() => ({ status: 200, body: { number: 42, state: 'running', jobs: [job(JOB_A, { state: 'running' }), { id: JOB_B, type: 'manual', state: 'unblocked' }] } }));
    expect((await refusal(actions.perform({ kind: 'approve', target: { type: 'Pipeline', nativeId: 'web/42' }, comment: null, inputs: {} }, signal))).reason).toBe('NOT_WAITING');
    expect((await refusal(actions.perform({ kind: 'approve', target: { type: 'Job', nativeId: `web/42/${JOB_A}` }, comment: null, inputs: {} }, signal))).reason).toBe('NOT_WAITING');
    expect((await refusal(actions.perform({ kind: 'approve', target: { type: 'Job', nativeId: `web/42/${JOB_B}` }, comment: null, inputs: {} }, signal))).reason).toBe('NOT_WAITING');
    expect(sent.every((s) => s.method === 'GET')).toBe(true);
  });

  it('trigger posts branch, commit, message, env and meta_data; names the new build', async () => {
    const { actions, sent } = world(() => ({ status: 201, body: { number: 7, state: 'scheduled' } }));
    const out = await actions.perform({ kind: 'triggerPipeline', projectNativeId: 'web', ref: 'feature/x', workflow: null, inputs: { commit: 'abc123', DEPLOY: true, 'meta_data.release': 'r1' } }, signal);
    expect(sent).toEqual([{
      method: 'POST', path: `/v2/organizations/${ORG}/pipelines/web/builds`, auth: `Bearer ${WRITE}`,
      body: { commit: 'abc123', branch: 'feature/x', message: DEFAULT_MESSAGE, env: { DEPLOY: 'true' }, meta_data: { release: 'r1' } },
    }]);
    expect(out.pipelineNativeId).toBe('web/7');
  });

  it('transport answers stay UpstreamErrors: 429 with its wait, 5xx unavailable; 403 is UPSTREAM_FORBIDDEN naming the scope', async () => {
    const limited = world(() => ({ status: 429, body: { message: 'slow down' }, headers: { 'ratelimit-reset': '17' } }));
    const e429 = await limited.actions.perform({ kind: 'cancelPipeline', pipelineNativeId: 'web/42', force: false }, signal).catch((e: unknown) => e);
    expect(e429).toBeInstanceOf(UpstreamError);
    expect(e429).toMatchObject({ code: 'UPSTREAM_RATE_LIMITED', details: { retryAfterMs: 17_000 } });
    const down = world(() => ({ status: 502 }));
    expect(await down.actions.perform({ kind: 'cancelPipeline', pipelineNativeId: 'web/42', force: false }, signal).catch((e: unknown) => e)).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    const forbidden = world(() => ({ status: 403, body: { message: 'Forbidden' } }));
    const r = await refusal(forbidden.actions.perform({ kind: 'cancelPipeline', pipelineNativeId: 'web/42', force: false }, signal));
    expect(r.reason).toBe('UPSTREAM_FORBIDDEN');
    expect(r.message).toContain('write_builds');
    expect(r.message).not.toContain(WRITE);
  });

  it('a redirect is not followed (the write token would go along): one request, an UpstreamError', async () => {
    const { actions, sent } = world(() => ({ status: 302, headers: { location: 'https://elsewhere.test/x' } }));
    expect(await actions.perform({ kind: 'cancelPipeline', pipelineNativeId: 'web/42', force: false }, signal).catch((e: unknown) => e)).toBeInstanceOf(UpstreamError);
    expect(sent).toHaveLength(1);
  });
});

describe('buildkite actions: pure parts', () => {
  it('refusalFor maps Buildkite\'s statuses per action', () => {
    expect(refusalFor('cancelPipeline', 422, 'x').reason).toBe('ALREADY_FINISHED');
    expect(refusalFor('retryJob', 422, 'x').reason).toBe('NOT_RETRYABLE');
    expect(refusalFor('approve', 400, 'This job type cannot be unblocked').reason).toBe('NOT_WAITING');
    expect(refusalFor('approve', 422, 'Field release is required')).toEqual({ reason: 'INVALID_INPUT', input: 'release' });
    expect(refusalFor('triggerPipeline', 422, 'Commit can\'t be blank')).toEqual({ reason: 'INVALID_INPUT', input: 'commit' });
    expect(refusalFor('triggerPipeline', 404, 'No pipeline found').reason).toBe('NOT_FOUND');
    expect(refusalFor('retryPipeline', 409, 'x').reason).toBe('REFUSED');
  });

  it('createBuildBody sorts inputs into commit, message, meta_data and env; refuses what fits none', () => {
    expect(createBuildBody('main', {})).toEqual({ commit: 'HEAD', branch: 'main', message: DEFAULT_MESSAGE, env: {}, meta_data: {} });
    expect(createBuildBody('main', { message: 'hi', N: 3 })).toMatchObject({ message: 'hi', env: { N: '3' } });
    expect(createBuildBody('main', { 'not a name': 'x' })).toMatchObject({ input: 'not a name' });
    expect(createBuildBody('main', { commit: ' ' })).toMatchObject({ input: 'commit' });
    expect(createBuildBody('', {})).toMatchObject({ input: 'ref' });
  });

  it('checkFields: unknown, required (default true), defaults, select options, multiple', () => {
    const fields = blockFields({ fields: [{ text: 'A', key: 'a' }, { text: 'B', key: 'b', default: 'x' }, { select: 'C', key: 'c', multiple: true, required: false, options: [{ value: 'p' }, { value: 'q' }] }] })!;
    expect(checkFields(fields, { a: '1' })).toBeNull();
    expect(checkFields(fields, {})).toMatchObject({ input: 'a' });
    expect(checkFields(fields, { a: '1', z: '1' })).toMatchObject({ input: 'z' });
    expect(checkFields(fields, { a: '1', c: 'p,q' })).toBeNull();
    expect(checkFields(fields, { a: '1', c: 'p,r' })).toMatchObject({ input: 'c' });
    expect(blockFields({ type: 'manual' })).toBeNull();
    // Submitted values (a record) are not definitions; the pipeline's step of the same key is.
    expect(blockFields({ type: 'manual', step_key: 'ship', fields: { notes: 'x' } })).toBeNull();
    const build = { pipeline: { steps: [{ type: 'manual', key: 'ship', fields: [{ text: 'Notes', key: 'notes' }] }] } };
    expect(blockFields({ type: 'manual', step_key: 'ship', fields: { notes: 'x' } }, build)?.map((f) => f.key)).toEqual(['notes']);
  });
});
