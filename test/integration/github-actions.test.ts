/**
 * GitHub actions (issue 15) at adapter level against the simulator on loopback: each action's
 * effect as the adapter's own batch reads see it, GitHub's refusals as typed reasons, and the
 * write token carried by action requests only (the simulator's credential log).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import githubAdapterFactory from '../../adapters/github/index.ts';
import { RUN_ID_PLACEHOLDER } from '../../adapters/github/actions-plan.ts';
import { formatJobId, formatPipelineId } from '../../adapters/github/native-ids.ts';
import { createGithubSimulator, type GithubSimulator } from '../../adapters/github/simulator/index.ts';
import type { ActionCall, ActionRequest, BackendActions, BackendAdapter } from '../../src/adapter-contract.ts';
import { ActionRefusedError, type ActionRefusal } from '../../src/errors.ts';
import type { JobModel, PipelineModel } from '../../src/model.ts';
import { contractContext } from '../contract/adapter-context.ts';

const READ = 'ghp_read_token_for_tests_000';
const WRITE = 'ghp_write_token_for_tests_111';
const REPO = 'octo-org/api';
const signal = new AbortController().signal;

let nowMs = Date.parse('2026-11-20T12:00:00.000Z');
const now = () => new Date(nowMs);

let sim: GithubSimulator;
let adapter: BackendAdapter;
let actions: BackendActions;

function makeAdapter(extra: Record<string, unknown> = {}): BackendAdapter {
  const config = githubAdapterFactory.configSchema.parse({ url: sim.url, token: { value: READ }, repositories: [REPO], ...extra });
  return githubAdapterFactory.create(config, contractContext('gh', now));
}

beforeAll(async () => {
  sim = createGithubSimulator({ token: READ, writeToken: WRITE, seed: 15, repositories: ['api'], history: 0, now });
  await sim.start();
  adapter = makeAdapter({ writeToken: { value: WRITE } });
  actions = adapter.actions!;
}, 30_000);

afterAll(async () => {
  await adapter?.dispose();
  await sim?.stop();
});

beforeEach(() => sim.resetRequests());

const pipelineId = (runId: number) => formatPipelineId(REPO, runId);

async function pipeline(runId: number): Promise<PipelineModel> {
  const [p] = await adapter.batch.pipelines([pipelineId(runId)]);
  if (!p || p instanceof Error) throw new Error(`pipeline ${runId}: ${String(p)}`);
  return p;
}

async function jobs(runId: number): Promise<JobModel[]> {
  const [j] = await adapter.batch.jobsOfPipelines([pipelineId(runId)]);
  if (j instanceof Error) throw j;
  return [...j!].sort((a, b) => a.name.localeCompare(b.name));
}

async function refusal(p: Promise<unknown>): Promise<ActionRefusedError> {
  const error = await p.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ActionRefusedError);
  return error as ActionRefusedError;
}

async function expectRefused(p: Promise<unknown>, reason: ActionRefusal, backend = 'gh'): Promise<ActionRefusedError> {
  const e = await refusal(p);
  expect(e.reason, e.message).toBe(reason);
  expect(e.backend).toBe(backend);
  return e;
}

const posts = () => sim.requests.filter((r) => r.method === 'POST');

/** A finished run: `flaky` fails, `ok` passes. */
async function finishedRun(): Promise<number> {
  const { runId } = await sim.triggerRun({
    repo: 'api', jobs: [{ name: 'ok', labels: ['self-hosted'] }, { name: 'flaky', labels: ['self-hosted'], outcome: 'failure' }],
  });
  await sim.runUntilIdle();
  return runId;
}

describe('GitHub actions: configuration', () => {
  it('has actions only with a writeToken, and supports every kind', () => {
    const readOnly = makeAdapter();
    expect(readOnly.actions).toBeUndefined();
    expect(Object.values(actions.supported).every(Boolean)).toBe(true);
    void readOnly.dispose();
  });
});

describe('GitHub actions: cancel', () => {
  it('cancel: accepted (202), then the run and its unfinished jobs complete as cancelled', async () => {
    const { runId } = await sim.triggerRun({ repo: 'api', jobs: [{ name: 'a', labels: ['self-hosted'] }, { name: 'b', labels: ['self-hosted'] }] });
    await sim.step(); // job a starts
    const out = await actions.perform({ kind: 'cancelPipeline', pipelineNativeId: pipelineId(runId), force: false }, signal);
    expect(out.calls).toEqual([{ method: 'POST', path: `/repos/${REPO}/actions/runs/${runId}/cancel`, status: 202 }]);
    expect(out.pipelineNativeId).toBe(pipelineId(runId));
    expect((await pipeline(runId)).status).toBe('RUNNING'); // GitHub cancels asynchronously
    await sim.step();
    expect((await pipeline(runId)).status).toBe('CANCELED');
    expect((await jobs(runId)).map((j) => j.status)).toEqual(['CANCELED', 'CANCELED']);
  });

  it('force-cancel uses /force-cancel', async () => {
    const { runId } = await sim.triggerRun({ repo: 'api', jobs: [{ name: 'a', labels: ['self-hosted'] }] });
    const out = await actions.perform({ kind: 'cancelPipeline', pipelineNativeId: pipelineId(runId), force: true }, signal);
    expect(out.calls.map((c) => c.path)).toEqual([`/repos/${REPO}/actions/runs/${runId}/force-cancel`]);
    await sim.runUntilIdle();
    expect((await pipeline(runId)).status).toBe('CANCELED');
  });

  it('cancelJob cancels the job\'s run (GitHub has no per-job cancel)', async () => {
    const { runId, jobIds } = await sim.triggerRun({ repo: 'api', jobs: [{ name: 'a', labels: ['self-hosted'] }, { name: 'b', labels: ['self-hosted'] }] });
    const jobId = formatJobId(REPO, jobIds[0]!);
    const out = await actions.perform({ kind: 'cancelJob', jobNativeId: jobId, force: false }, signal);
    expect(out.calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      `GET /repos/${REPO}/actions/jobs/${jobIds[0]} 200`, `POST /repos/${REPO}/actions/runs/${runId}/cancel 202`,
    ]);
    expect(out).toMatchObject({ pipelineNativeId: pipelineId(runId), jobNativeId: jobId });
    await sim.runUntilIdle();
    expect((await jobs(runId)).map((j) => j.status)).toEqual(['CANCELED', 'CANCELED']);
  });

  it('cancel of a completed run: 409 → ALREADY_FINISHED; of an unknown run: 404 → NOT_FOUND', async () => {
    const runId = await finishedRun();
    const e = await expectRefused(actions.perform({ kind: 'cancelPipeline', pipelineNativeId: pipelineId(runId), force: false }, signal), 'ALREADY_FINISHED');
    expect(e.details.status).toBe(409);
    expect(e.message).toContain('Cannot cancel a workflow run that is completed');
    await expectRefused(actions.perform({ kind: 'cancelPipeline', pipelineNativeId: pipelineId(999_999_999), force: false }, signal), 'NOT_FOUND');
  });
});

describe('GitHub actions: re-run', () => {
  it('failed jobs only: a new attempt of the same run re-runs only the failed job and keeps the passed one', async () => {
    const runId = await finishedRun();
    expect((await pipeline(runId)).status).toBe('FAILURE');
    const out = await actions.perform({ kind: 'retryPipeline', pipelineNativeId: pipelineId(runId), failedOnly: true }, signal);
    expect(out.calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      `GET /repos/${REPO}/actions/runs/${runId} 200`, `POST /repos/${REPO}/actions/runs/${runId}/rerun-failed-jobs 201`,
    ]);
    const p = await pipeline(runId);
    expect({ attempt: p.attempt, status: p.status }).toEqual({ attempt: 2, status: 'QUEUED' });
    expect((await jobs(runId)).map((j) => [j.name, j.attempt, j.status])).toEqual([['flaky', 2, 'QUEUED'], ['ok', 2, 'SUCCESS']]);
    await sim.runUntilIdle();
    expect((await pipeline(runId)).status).toBe('SUCCESS');
    const [all] = await adapter.batch.jobAttemptsOfPipelines!([pipelineId(runId)]);
    expect((all as JobModel[]).filter((j) => j.attempt === 1).map((j) => [j.name, j.status]).sort()).toEqual([['flaky', 'FAILURE'], ['ok', 'SUCCESS']]);
  });

  it('every job: all jobs of the attempt run again', async () => {
    const runId = await finishedRun();
    await actions.perform({ kind: 'retryPipeline', pipelineNativeId: pipelineId(runId), failedOnly: false }, signal);
    expect((await jobs(runId)).map((j) => [j.name, j.attempt, j.status])).toEqual([['flaky', 2, 'QUEUED'], ['ok', 2, 'QUEUED']]);
  });

  it('one job: a new attempt re-running that job', async () => {
    const runId = await finishedRun();
    const flaky = sim.world.jobs(runId).find((j) => j.name === 'flaky')!;
    const out = await actions.perform({ kind: 'retryJob', jobNativeId: formatJobId(REPO, flaky.id) }, signal);
    expect(out.calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      `GET /repos/${REPO}/actions/jobs/${flaky.id} 200`, `GET /repos/${REPO}/actions/runs/${runId} 200`, `POST /repos/${REPO}/actions/jobs/${flaky.id}/rerun 201`,
    ]);
    expect(out.pipelineNativeId).toBe(pipelineId(runId));
    expect((await jobs(runId)).map((j) => [j.name, j.attempt, j.status])).toEqual([['flaky', 2, 'QUEUED'], ['ok', 2, 'SUCCESS']]);
  });

  it('a re-run sends no webhook (issue 15), while a later run does (the barrier)', async () => {
    const sink: string[] = [];
    const http = await import('node:http');
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        sink.push(body);
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    sim.setWebhook({ url: `http://127.0.0.1:${port}/`, secret: 's' });
    try {
      const runId = await finishedRun();
      const before = sink.length;
      expect(before).toBeGreaterThan(0);
      await actions.perform({ kind: 'retryPipeline', pipelineNativeId: pipelineId(runId), failedOnly: true }, signal);
      await sim.runUntilIdle();
      const barrier = await sim.triggerRun({ repo: 'api', jobs: [{ name: 'sentinel', labels: ['self-hosted'] }] });
      const after = sink.slice(before).map((b) => JSON.parse(b) as { workflow_run?: { id: number }; workflow_job?: { run_id: number } });
      expect(after.some((b) => b.workflow_run?.id === barrier.runId)).toBe(true);
      expect(after.filter((b) => b.workflow_run?.id === runId || b.workflow_job?.run_id === runId)).toEqual([]);
      // A cancel, unlike a re-run, sends the usual completed webhooks.
      await actions.perform({ kind: 'cancelPipeline', pipelineNativeId: pipelineId(barrier.runId), force: false }, signal);
      await sim.step();
      const cancelled = sink.map((b) => JSON.parse(b) as { action: string; workflow_run?: { id: number; conclusion: string } });
      expect(cancelled.some((b) => b.action === 'completed' && b.workflow_run?.id === barrier.runId && b.workflow_run.conclusion === 'cancelled')).toBe(true);
    } finally {
      sim.setWebhook(null);
      await new Promise((r) => server.close(r));
    }
  });

  it('the poll follows a re-run run off its first page until it finishes (no webhook will tell): retryPipeline and retryJob', async () => {
    const viaRun = await finishedRun();
    const viaJob = await finishedRun();
    for (let i = 0; i < 20; i++) await sim.triggerRun({ repo: 'api', jobs: [{ name: `n${i}`, labels: ['self-hosted'] }] });
    await sim.runUntilIdle();
    await adapter.poll!(signal); // the first page no longer lists either run
    await actions.perform({ kind: 'retryPipeline', pipelineNativeId: pipelineId(viaRun), failedOnly: true }, signal);
    const flaky = sim.world.jobs(viaJob).find((j) => j.name === 'flaky')!;
    await actions.perform({ kind: 'retryJob', jobNativeId: formatJobId(REPO, flaky.id) }, signal);
    await sim.runUntilIdle();
    const polled = (await adapter.poll!(signal)).entities.filter((e): e is PipelineModel => e.type === 'Pipeline');
    for (const runId of [viaRun, viaJob]) expect(polled.find((p) => p.nativeId === pipelineId(runId))).toMatchObject({ attempt: 2, status: 'SUCCESS' });
    // Finished: no longer read directly.
    sim.resetRequests();
    await adapter.poll!(signal);
    expect(sim.requests.filter((r) => r.path.startsWith(`/repos/${REPO}/actions/runs/${viaRun}`) || r.path.startsWith(`/repos/${REPO}/actions/runs/${viaJob}`))).toEqual([]);
  });

  it('re-run of a running run: 403 "already running" → NOT_RETRYABLE', async () => {
    const { runId } = await sim.triggerRun({ repo: 'api', jobs: [{ name: 'a', labels: ['self-hosted'] }] });
    const e = await expectRefused(actions.perform({ kind: 'retryPipeline', pipelineNativeId: pipelineId(runId), failedOnly: false }, signal), 'NOT_RETRYABLE');
    expect(e.details.status).toBe(403);
    await sim.runUntilIdle();
  });

  it('older than 30 days → RETRY_LIMIT without asking GitHub; GitHub itself refuses it too (403)', async () => {
    const runId = await finishedRun();
    const saved = nowMs;
    nowMs += 31 * 86_400_000;
    try {
      sim.resetRequests();
      const e = await expectRefused(actions.perform({ kind: 'retryPipeline', pipelineNativeId: pipelineId(runId), failedOnly: false }, signal), 'RETRY_LIMIT');
      expect(e.message).toContain('30 days');
      expect(posts()).toEqual([]);
      const direct = await fetch(`${sim.url}/repos/${REPO}/actions/runs/${runId}/rerun`, { method: 'POST', headers: { authorization: `Bearer ${WRITE}` } });
      expect(direct.status).toBe(403);
      expect(((await direct.json()) as { message: string }).message).toMatch(/over a month ago/);
    } finally {
      nowMs = saved;
    }
  });

  it('beyond 50 re-runs → RETRY_LIMIT without asking; GitHub would accept and fail the attempt at once', async () => {
    const runId = await finishedRun();
    for (let i = 0; i < 50; i++) {
      await actions.perform({ kind: 'retryPipeline', pipelineNativeId: pipelineId(runId), failedOnly: false }, signal);
      await sim.runUntilIdle();
    }
    expect((await pipeline(runId)).attempt).toBe(51);
    sim.resetRequests();
    await expectRefused(actions.perform({ kind: 'retryPipeline', pipelineNativeId: pipelineId(runId), failedOnly: false }, signal), 'RETRY_LIMIT');
    expect(posts()).toEqual([]);
    const direct = await fetch(`${sim.url}/repos/${REPO}/actions/runs/${runId}/rerun`, { method: 'POST', headers: { authorization: `Bearer ${WRITE}` } });
    expect(direct.status).toBe(201);
    expect(await pipeline(runId)).toMatchObject({ attempt: 52, status: 'FAILURE' });
  }, 30_000);
});

describe('GitHub actions: trigger (workflow_dispatch)', () => {
  it('dispatches with inputs sent as strings; the new run (named by return_run_details) is a workflow_dispatch on the ref, its title carrying the inputs', async () => {
    const request: ActionRequest = {
      kind: 'triggerPipeline', projectNativeId: REPO, ref: 'main', workflow: 'deploy.yml',
      inputs: { environment: 'staging', version: '1.2.3', dry_run: true, replicas: 3 },
    };
    const out = await actions.perform(request, signal);
    expect(out.calls).toEqual([{ method: 'POST', path: `/repos/${REPO}/actions/workflows/deploy.yml/dispatches`, status: 200 }]);
    expect(out.pipelineNativeId).toMatch(/^octo-org\/api\/runs\/\d+$/);
    const runId = Number(out.pipelineNativeId!.split('/').pop());
    // The run's display_title (run-name) is where GitHub shows the inputs: the model's title.
    expect(await pipeline(runId)).toMatchObject({ event: 'workflow_dispatch', branch: 'main', ref: 'refs/heads/main', name: 'Deploy', title: 'Deploy 1.2.3 to staging', attempt: 1 });
    // return_run_details absent: GitHub answers 204 and names no run.
    const plain = await fetch(`${sim.url}/repos/${REPO}/actions/workflows/nightly.yml/dispatches`, {
      method: 'POST', headers: { authorization: `Bearer ${WRITE}` }, body: JSON.stringify({ ref: 'main' }),
    });
    expect(plain.status).toBe(204);
    const nightly = sim.world.runs('api')[0]!;
    const title = await fetch(`${sim.url}/repos/${REPO}/actions/runs/${nightly.id}`, { headers: { authorization: `Bearer ${READ}` } });
    expect(((await title.json()) as { display_title: string; event: string })).toMatchObject({ display_title: 'Nightly', event: 'workflow_dispatch' });
  });

  it('a GitHub without return_run_details (older GHES): asked again without it, the new run is not named (the core looks for it)', async () => {
    const legacy = createGithubSimulator({ token: READ, writeToken: WRITE, seed: 16, repositories: ['api'], history: 0, now, legacyDispatch: true });
    await legacy.start();
    const ghes = githubAdapterFactory.create(
      githubAdapterFactory.configSchema.parse({ url: legacy.url, token: { value: READ }, writeToken: { value: WRITE }, repositories: [REPO] }), contractContext('gh', now),
    );
    try {
      const out = await ghes.actions!.perform({ kind: 'triggerPipeline', projectNativeId: REPO, ref: 'main', workflow: 'nightly.yml', inputs: {} }, signal);
      const path = `/repos/${REPO}/actions/workflows/nightly.yml/dispatches`;
      expect(out).toEqual({ calls: [{ method: 'POST', path, status: 422 }, { method: 'POST', path, status: 204 }], pipelineNativeId: null });
      expect(legacy.world.runs('api').map((r) => r.event)).toEqual(['workflow_dispatch']);
    } finally {
      await ghes.dispose();
      await legacy.stop();
    }
  });

  it('refusals: unknown ref → UNKNOWN_REF, undeclared or invalid input → INVALID_INPUT naming it, no dispatch trigger → NOT_SUPPORTED', async () => {
    const base = { kind: 'triggerPipeline' as const, projectNativeId: REPO, workflow: 'deploy.yml' };
    const ok = { environment: 'staging', version: '1' };
    const ref = await expectRefused(actions.perform({ ...base, ref: 'no-such-branch', inputs: ok }, signal), 'UNKNOWN_REF');
    expect(ref.details.status).toBe(422);
    expect(ref.message).toContain('No ref found for: no-such-branch');
    expect((await expectRefused(actions.perform({ ...base, ref: 'main', inputs: { ...ok, colour: 'red' } }, signal), 'INVALID_INPUT')).details.input).toBe('colour');
    expect((await expectRefused(actions.perform({ ...base, ref: 'main', inputs: { environment: 'mars', version: '1' } }, signal), 'INVALID_INPUT')).details.input).toBe('environment');
    expect((await expectRefused(actions.perform({ ...base, ref: 'main', inputs: { environment: 'staging' } }, signal), 'INVALID_INPUT')).details.input).toBe('version');
    await expectRefused(actions.perform({ ...base, workflow: 'ci.yml', ref: 'main', inputs: {} }, signal), 'NOT_SUPPORTED');
  });

  it('without a workflow: INVALID_INPUT naming `workflow`, before any request', async () => {
    sim.resetRequests();
    const e = await expectRefused(actions.perform({ kind: 'triggerPipeline', projectNativeId: REPO, ref: 'main', workflow: null, inputs: {} }, signal), 'INVALID_INPUT');
    expect(e.details.input).toBe('workflow');
    expect(() => actions.plan({ kind: 'triggerPipeline', projectNativeId: REPO, ref: 'main', workflow: null, inputs: {} })).toThrow(ActionRefusedError);
    expect(sim.requests).toEqual([]);
  });

  it('declaredInputs reads the workflow file (contents API, read token) and parses its dispatch inputs', async () => {
    sim.resetRequests();
    const declared = await actions.declaredInputs!({ projectNativeId: REPO, ref: 'main', workflow: 'deploy.yml' }, signal);
    expect(declared).toEqual([
      { name: 'environment', type: 'choice', required: true, options: ['staging', 'production'], defaultValue: 'staging', description: 'Where to deploy' },
      { name: 'version', type: 'string', required: true, defaultValue: null, description: 'Release to deploy' },
      { name: 'dry_run', type: 'boolean', required: false, defaultValue: false, description: 'Plan only' },
      { name: 'replicas', type: 'number', required: false, defaultValue: 2, description: 'How many instances' },
    ]);
    expect(sim.requests.map((r) => r.path)).toEqual([`/repos/${REPO}/contents/.github/workflows/deploy.yml?ref=main`]);
    const workflowResource = await fetch(`${sim.url}/repos/${REPO}/actions/workflows/deploy.yml`, { headers: { authorization: `Bearer ${READ}` } });
    const wfId = ((await workflowResource.json()) as { id: number }).id;
    expect(await actions.declaredInputs!({ projectNativeId: REPO, ref: 'main', workflow: String(wfId) }, signal)).toEqual(declared);
    expect(await actions.declaredInputs!({ projectNativeId: REPO, ref: 'main', workflow: 'nightly.yml' }, signal)).toEqual([]);
    expect(await actions.declaredInputs!({ projectNativeId: REPO, ref: 'main', workflow: 'missing.yml' }, signal)).toBeNull();
    expect(await actions.declaredInputs!({ projectNativeId: REPO, ref: 'no-such-ref', workflow: 'deploy.yml' }, signal)).toBeNull();
    expect(await actions.declaredInputs!({ projectNativeId: REPO, ref: 'main', workflow: null }, signal)).toBeNull();
  });
});

describe('GitHub actions: deployment reviews', () => {
  async function waitingDeploy(): Promise<number> {
    const out = await actions.perform({
      kind: 'triggerPipeline', projectNativeId: REPO, ref: 'main', workflow: 'deploy.yml', inputs: { environment: 'production', version: '9.9.9' },
    }, signal);
    const runId = Number(out.pipelineNativeId!.split('/').pop());
    expect(await pipeline(runId)).toMatchObject({ status: 'WAITING', waitReason: 'APPROVAL' });
    return runId;
  }

  it('approve: reads the pending deployments, approves their environments, the run proceeds (RUNNING) and succeeds', async () => {
    const runId = await waitingDeploy();
    const out = await actions.perform({ kind: 'approve', target: { type: 'Pipeline', nativeId: pipelineId(runId) }, comment: 'ship it', inputs: {} }, signal);
    const path = `/repos/${REPO}/actions/runs/${runId}/pending_deployments`;
    expect(out.calls).toEqual([{ method: 'GET', path, status: 200 }, { method: 'POST', path, status: 200 }]);
    expect((await pipeline(runId)).status).toBe('RUNNING');
    await sim.runUntilIdle();
    expect((await pipeline(runId)).status).toBe('SUCCESS');
  });

  it('reject: the run fails (GitHub: "If a job is rejected, the workflow will fail")', async () => {
    const runId = await waitingDeploy();
    await actions.perform({ kind: 'reject', target: { type: 'Pipeline', nativeId: pipelineId(runId) }, comment: null, inputs: {} }, signal);
    expect((await pipeline(runId)).status).toBe('FAILURE');
    expect((await jobs(runId)).map((j) => j.status)).toEqual(['FAILURE']);
  });

  it('nothing pending → NOT_WAITING without a review request; a Job target → NOT_SUPPORTED', async () => {
    const runId = await finishedRun();
    sim.resetRequests();
    await expectRefused(actions.perform({ kind: 'approve', target: { type: 'Pipeline', nativeId: pipelineId(runId) }, comment: null, inputs: {} }, signal), 'NOT_WAITING');
    expect(posts()).toEqual([]);
    await expectRefused(actions.perform({ kind: 'approve', target: { type: 'Job', nativeId: formatJobId(REPO, 1) }, comment: null, inputs: {} }, signal), 'NOT_SUPPORTED');
  });
});

describe('GitHub actions: credentials and plans', () => {
  it('action requests carry only the write token, reads only the read token', async () => {
    sim.resetRequests();
    const runId = await finishedRun();
    await adapter.batch.pipelines([pipelineId(runId)]);
    await actions.perform({ kind: 'retryPipeline', pipelineNativeId: pipelineId(runId), failedOnly: true }, signal);
    await adapter.batch.jobsOfPipelines([pipelineId(runId)]);
    await actions.declaredInputs!({ projectNativeId: REPO, ref: 'main', workflow: 'deploy.yml' }, signal);
    const log = sim.credentials.map((c) => `${c.credential} ${c.method} ${c.path}`);
    expect(log).toEqual([
      `read GET /repos/${REPO}/actions/runs/${runId}`,
      `write GET /repos/${REPO}/actions/runs/${runId}`,
      `write POST /repos/${REPO}/actions/runs/${runId}/rerun-failed-jobs`,
      `read GET /repos/${REPO}/actions/runs/${runId}/jobs?per_page=100&page=1`,
      `read GET /repos/${REPO}/contents/.github/workflows/deploy.yml?ref=main`,
    ]);
  });

  it('a write token without actions:write (here: the read token) → 403 "Resource not accessible by integration" → UPSTREAM_FORBIDDEN', async () => {
    const misconfigured = makeAdapter({ writeToken: { value: READ } });
    try {
      const { runId } = await sim.triggerRun({ repo: 'api', jobs: [{ name: 'a', labels: ['self-hosted'] }] });
      const e = await expectRefused(misconfigured.actions!.perform({ kind: 'cancelPipeline', pipelineNativeId: pipelineId(runId), force: false }, signal), 'UPSTREAM_FORBIDDEN');
      expect(e.details.status).toBe(403);
      expect(e.message).toContain('Resource not accessible by integration');
      expect(e.message).not.toContain(READ);
      await sim.runUntilIdle();
    } finally {
      await misconfigured.dispose();
    }
  });

  it('5xx and rate limits stay UpstreamError (not refusals)', async () => {
    const { runId } = await sim.triggerRun({ repo: 'api', jobs: [{ name: 'a', labels: ['self-hosted'] }] });
    const cancel = () => actions.perform({ kind: 'cancelPipeline', pipelineNativeId: pipelineId(runId), force: false }, signal).then(() => null, (e: unknown) => e);
    try {
      sim.setFault({ status: 503, match: /\/cancel$/ });
      expect(await cancel()).toMatchObject({ name: 'UpstreamError', code: 'UPSTREAM_UNAVAILABLE', details: { status: 503 } });
      sim.setFault({ status: 403, match: /\/cancel$/, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(nowMs / 1000) + 60) } });
      expect(await cancel()).toMatchObject({ name: 'UpstreamError', code: 'UPSTREAM_RATE_LIMITED' });
    } finally {
      sim.setFault(null);
    }
    await sim.runUntilIdle();
  });

  it('plan() lists the calls perform() sends on the happy path (the job\'s run id as {run_id})', async () => {
    const strip = (calls: readonly ActionCall[]) => calls.map(({ method, path }) => ({ method, path }));
    const check = async (request: ActionRequest, runId?: number) => {
      const planned = actions.plan(request);
      const sent = strip((await actions.perform(request, signal)).calls);
      expect(sent).toEqual(planned.map((c) => ({ ...c, path: runId === undefined ? c.path : c.path.replace(RUN_ID_PLACEHOLDER, String(runId)) })));
      expect(planned.every((c) => c.status === undefined)).toBe(true);
    };
    const running = await sim.triggerRun({ repo: 'api', jobs: [{ name: 'a', labels: ['self-hosted'] }] });
    await check({ kind: 'cancelPipeline', pipelineNativeId: pipelineId(running.runId), force: false });
    await sim.runUntilIdle();
    const running2 = await sim.triggerRun({ repo: 'api', jobs: [{ name: 'a', labels: ['self-hosted'] }] });
    await check({ kind: 'cancelJob', jobNativeId: formatJobId(REPO, running2.jobIds[0]!), force: true }, running2.runId);
    await sim.runUntilIdle();
    const runId = await finishedRun();
    await check({ kind: 'retryPipeline', pipelineNativeId: pipelineId(runId), failedOnly: true });
    await sim.runUntilIdle();
    const flaky = sim.world.jobs(runId).filter((j) => j.name === 'ok').pop()!;
    await check({ kind: 'retryJob', jobNativeId: formatJobId(REPO, flaky.id) }, runId);
    await sim.runUntilIdle();
    await check({ kind: 'triggerPipeline', projectNativeId: REPO, ref: 'main', workflow: 'nightly.yml', inputs: {} });
    const out = await actions.perform({ kind: 'triggerPipeline', projectNativeId: REPO, ref: 'main', workflow: 'deploy.yml', inputs: { environment: 'production', version: '1' } }, signal);
    await check({ kind: 'approve', target: { type: 'Pipeline', nativeId: out.pipelineNativeId! }, comment: 'ok', inputs: {} });
    await sim.runUntilIdle();
  });
});

describe('GitHub actions: demo mode', () => {
  it('the demo configures a write token its simulator accepts for actions (and refuses the read token for)', async () => {
    const { createGithubDemo } = await import('../../adapters/github/demo.ts');
    const demo = await createGithubDemo({ seed: 3 });
    const demoAdapter = githubAdapterFactory.create(githubAdapterFactory.configSchema.parse(demo.options), contractContext('demo'));
    try {
      expect(demo.options.writeToken).not.toEqual(demo.options.token);
      const [run] = await demoAdapter.listPipelines({ limit: 1 });
      const out = await demoAdapter.actions!.perform({ kind: 'retryPipeline', pipelineNativeId: run!.nativeId, failedOnly: false }, signal);
      expect(out.calls.at(-1)?.status).toBe(201);
      const readOnly = githubAdapterFactory.create(
        githubAdapterFactory.configSchema.parse({ ...demo.options, writeToken: demo.options.token }), contractContext('demo-ro'),
      );
      try {
        await expectRefused(readOnly.actions!.perform({ kind: 'cancelPipeline', pipelineNativeId: run!.nativeId, force: false }, signal), 'UPSTREAM_FORBIDDEN', 'demo-ro');
      } finally {
        await readOnly.dispose();
      }
    } finally {
      await demoAdapter.dispose();
      await demo.stop();
    }
  });
});
