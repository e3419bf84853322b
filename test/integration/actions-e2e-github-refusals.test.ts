/**
 * Issue 15 item 6 for GitHub through the gateway: the re-run limits (30 days, 50 re-runs) and
 * the cancel of a completed run come back as typed payload errors naming the backend, and each
 * is in the audit log with its outcome and the calls sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAYLOAD } from '../helpers/actions-stack.ts';
import { GITHUB_WRITE_TOKEN, ghId, startGithubActionsStack, type GithubActionsStack } from '../helpers/github-actions-stack.ts';

const REPO = 'octo-org/api';
const RUNS = `/repos/${REPO}/actions/runs`;
const DAY_MS = 86_400_000;

interface Payload {
  errors: { code: string; message: string; backend: string | null; input: string | null; upstreamStatus: number | null }[];
  upstream: { backend: { name: string }; calls: { method: string; path: string; status: number | null }[] } | null;
  pipeline: { id: string; status: string; attempt: number } | null;
}

describe('GitHub refusals through the gateway: typed payload errors, audited', () => {
  let stack: GithubActionsStack;
  /** The simulator's clock offset: a run created while it is negative is that old. */
  let simSkewMs = 0;
  beforeAll(async () => {
    stack = await startGithubActionsStack({ simNow: () => new Date(Date.now() + simSkewMs) });
  }, 30_000);
  afterAll(() => stack?.close());

  async function act(name: 'cancelPipeline' | 'retryPipeline', runId: number): Promise<Payload> {
    const res = await stack.gql<Record<string, Payload>>(`mutation($id: ID!) { ${name}(input: { id: $id }) { ${PAYLOAD} pipeline { id status attempt } } }`, { id: ghId('Pipeline', `${REPO}/runs/${runId}`) });
    expect(res.errors).toBeUndefined();
    return res.data![name]!;
  }
  async function finishedRun(): Promise<number> {
    const { runId } = await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'build', labels: ['self-hosted'] }] });
    await stack.sim.runUntilIdle();
    return runId;
  }
  const lastAudited = async (runId: number) => (await stack.auditedActions()).filter((r) => (r.target as { nativeId: string }).nativeId === `${REPO}/runs/${runId}`).at(-1);
  const rerunPosts = (runId: number) => stack.sim.requests.filter((r) => r.method === 'POST' && r.path.startsWith(`${RUNS}/${runId}/rerun`));

  it('cancel of a completed run: GitHub answers 409 → ALREADY_FINISHED with the run as the gateway sees it', async () => {
    const runId = await finishedRun();
    const out = await act('cancelPipeline', runId);
    const call = { method: 'POST', path: `${RUNS}/${runId}/cancel`, status: 409 };
    expect(out.errors).toEqual([{ code: 'ALREADY_FINISHED', backend: 'gh', input: null, upstreamStatus: 409, message: expect.stringContaining('Cannot cancel a workflow run that is completed') }]);
    expect(out.upstream).toEqual({ backend: { name: 'gh' }, calls: [call] });
    expect(out.pipeline).toMatchObject({ status: 'SUCCESS', attempt: 1 });
    expect(await lastAudited(runId)).toMatchObject({
      action: 'cancelPipeline', outcome: 'refused', errorCode: 'ALREADY_FINISHED', backend: 'gh', identity: { id: 'key:operator' }, calls: [call],
    });
  });

  it('re-run of a run older than 30 days → RETRY_LIMIT, without asking GitHub to re-run', async () => {
    simSkewMs = -31 * DAY_MS;
    let runId: number;
    try {
      runId = await finishedRun();
    } finally {
      simSkewMs = 0;
    }
    const out = await act('retryPipeline', runId);
    expect(out.errors).toEqual([{ code: 'RETRY_LIMIT', backend: 'gh', input: null, upstreamStatus: null, message: expect.stringContaining('30 days') }]);
    expect(rerunPosts(runId)).toEqual([]);
    // The read that showed the limit is in the payload and the audit record: the only request sent.
    const readRun = { method: 'GET', path: `/repos/${REPO}/actions/runs/${runId}`, status: 200 };
    expect(out.upstream?.calls).toEqual([readRun]);
    expect(await lastAudited(runId)).toMatchObject({ action: 'retryPipeline', outcome: 'refused', errorCode: 'RETRY_LIMIT', backend: 'gh', identity: { id: 'key:operator' }, calls: [readRun] });
  });

  it('re-run of a run re-run 50 times → RETRY_LIMIT, without asking (GitHub would accept it and fail the attempt)', async () => {
    const runId = await finishedRun();
    for (let i = 0; i < 50; i++) {
      const res = await fetch(`${stack.sim.url}${RUNS}/${runId}/rerun`, { method: 'POST', headers: { authorization: `Bearer ${GITHUB_WRITE_TOKEN}` } });
      expect(res.status).toBe(201);
      await stack.sim.runUntilIdle();
    }
    const posted = rerunPosts(runId).length;
    const out = await act('retryPipeline', runId);
    expect(out.errors).toEqual([{ code: 'RETRY_LIMIT', backend: 'gh', input: null, upstreamStatus: null, message: expect.stringContaining('at most 50 re-runs') }]);
    expect(rerunPosts(runId)).toHaveLength(posted);
    // The read that showed the limit is in the payload and the audit record: the only request sent.
    const readRun = { method: 'GET', path: `/repos/${REPO}/actions/runs/${runId}`, status: 200 };
    expect(out.upstream?.calls).toEqual([readRun]);
    expect(await lastAudited(runId)).toMatchObject({ action: 'retryPipeline', outcome: 'refused', errorCode: 'RETRY_LIMIT', backend: 'gh', identity: { id: 'key:operator' }, calls: [readRun] });
  }, 30_000);
});
