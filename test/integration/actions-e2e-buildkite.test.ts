import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuildkiteSimulator, type BuildkiteSimulator } from '../../adapters/buildkite/simulator/index.ts';
import { toGlobalId } from '../../src/ids.ts';
import { PAYLOAD } from '../helpers/actions-stack.ts';
import { startGatewayStack, type GatewayStack } from '../helpers/gateway-stack.ts';

/**
 * Buildkite actions through the real gateway on loopback over the Buildkite simulator, with two
 * scoped tokens as an operator makes them: every write (and the build an action reads first) with
 * the write token, every read with the read token; typed refusals for what Buildkite cannot do or
 * refuses; block step fields checked before the unblock.
 */
const READ = 'bk-e2e-read-token';
const WRITE = 'bk-e2e-write-token';
const B = 'bk';

interface Payload {
  dryRun: boolean;
  errors: { code: string; message: string; backend: string | null; input: string | null; upstreamStatus: number | null }[];
  upstream: { backend: { name: string }; calls: { method: string; path: string; status: number | null }[] } | null;
  pipeline?: { id: string; number: number | null; status: string } | null;
  job?: { id: string; status: string } | null;
}

const VIEW = 'pipeline { id number status }';
const CANCEL = `mutation($id: ID!) { cancelPipeline(input: { id: $id }) { ${PAYLOAD} ${VIEW} } }`;
const CANCEL_JOB = `mutation($id: ID!) { cancelJob(input: { id: $id }) { ${PAYLOAD} } }`;
const RETRY = `mutation($id: ID!, $failedOnly: Boolean) { retryPipeline(input: { id: $id, failedOnly: $failedOnly }) { ${PAYLOAD} ${VIEW} } }`;
const RETRY_JOB = `mutation($id: ID!) { retryJob(input: { id: $id }) { ${PAYLOAD} job { id status } } }`;
const TRIGGER = `mutation($p: ID!, $inputs: [ActionInputEntry!], $dry: Boolean) { triggerPipeline(input: { project: $p, ref: "main", inputs: $inputs, dryRun: $dry }) { ${PAYLOAD} ${VIEW} } }`;
const APPROVE = `mutation($id: ID!, $inputs: [ActionInputEntry!]) { approve(input: { id: $id, comment: "ship it", inputs: $inputs }) { ${PAYLOAD} ${VIEW} job { id status } } }`;
const REJECT = `mutation($id: ID!) { reject(input: { id: $id, comment: "no" }) { ${PAYLOAD} } }`;

describe('buildkite actions end to end: gateway, simulator, scoped tokens', () => {
  let sim: BuildkiteSimulator;
  let stack: GatewayStack;

  beforeAll(async () => {
    sim = await createBuildkiteSimulator({
      seed: 41, history: 0, rateLimit: { limit: 100_000, windowSeconds: 60 },
      tokens: [
        { token: READ, scopes: ['read_builds', 'read_pipelines', 'read_agents', 'read_build_logs'] },
        { token: WRITE, scopes: ['write_builds', 'read_builds'] },
      ],
    });
    stack = await startGatewayStack({
      freshnessSeconds: 0,
      auth: { mode: 'open', anonymousActions: ['*'] },
      backends: [{ name: B, provider: 'buildkite', url: sim.url, organization: sim.organization, token: { value: READ }, writeToken: { value: WRITE }, requestsPerMinute: 10_000, actionFollowMs: 0 }],
    }, { onClose: () => sim.close() });
  }, 30_000);
  afterAll(() => stack?.close());

  async function mutate(query: string, variables: Record<string, unknown>, field: string): Promise<Payload> {
    const res = await stack.query<Record<string, Payload>>(query, variables);
    expect(res.errors).toBeUndefined();
    return res.data![field]!;
  }
  const pipelineId = (slug: string, n: number) => toGlobalId('Pipeline', B, `${slug}/${n}`);
  const jobId = (slug: string, n: number, id: string) => toGlobalId('Job', B, `${slug}/${n}/${id}`);
  /** Every request the simulator received since `from`, as `token METHOD path`. */
  const since = (from: number) => sim.tokenLog.slice(from).map((r) => `${r.token === WRITE ? 'write' : r.token === READ ? 'read' : 'other'} ${r.method} ${r.path}`);
  const calls = (p: Payload) => p.upstream!.calls.map((c) => `write ${c.method} ${c.path}`);

  async function runningBuild(slug: string) {
    const build = sim.triggerBuild({ pipeline: slug, branch: 'main' });
    for (let i = 0; i < 10 && build.state !== 'running'; i++) await sim.step();
    expect(build.state).toBe('running');
    return build;
  }

  it('cancelPipeline: one PUT with the write token; the payload shows the build canceling, read with the read token', async () => {
    const build = await runningBuild('web');
    const from = sim.tokenLog.length;
    const p = await mutate(CANCEL, { id: pipelineId('web', build.number) }, 'cancelPipeline');
    expect(p.errors).toEqual([]);
    expect(p.upstream!.calls).toEqual([{ method: 'PUT', path: `/v2/organizations/acme/pipelines/web/builds/${build.number}/cancel`, status: 200 }]);
    expect(['CANCELING', 'CANCELED']).toContain(p.pipeline!.status);
    const sent = since(from);
    expect(sent.filter((s) => s.startsWith('write '))).toEqual(calls(p));
    expect(sent.filter((s) => !s.startsWith('write ')).every((s) => s.startsWith('read GET '))).toBe(true);
    // Again, now that it is no longer running: Buildkite's 422.
    const again = await mutate(CANCEL, { id: pipelineId('web', build.number) }, 'cancelPipeline');
    await sim.runUntilIdle();
    const third = await mutate(CANCEL, { id: pipelineId('web', build.number) }, 'cancelPipeline');
    expect([again, third].map((x) => x.errors[0]?.code ?? 'none')).toContain('ALREADY_FINISHED');
    expect(third.errors).toEqual([expect.objectContaining({ code: 'ALREADY_FINISHED', backend: B, upstreamStatus: 422 })]);
  });

  it('retryPipeline rebuilds into a new build the payload names; failedOnly retries the failed job in place', async () => {
    const failed = sim.triggerBuild({ pipeline: 'api', branch: 'main', outcomes: { test: 'failed' } });
    await sim.runUntilIdle();
    expect(failed.state).toBe('failed');
    const p = await mutate(RETRY, { id: pipelineId('api', failed.number) }, 'retryPipeline');
    expect(p.errors).toEqual([]);
    const rebuilt = sim.builds('api')[0]!;
    expect(rebuilt.rebuiltFrom?.number).toBe(failed.number);
    expect(p.pipeline).toMatchObject({ id: pipelineId('api', rebuilt.number), number: rebuilt.number });
    const test = failed.jobs.find((j) => j.step.key === 'test' && !j.retried)!;
    const q = await mutate(RETRY, { id: pipelineId('api', failed.number), failedOnly: true }, 'retryPipeline');
    expect(q.errors).toEqual([]);
    expect(q.upstream!.calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      `GET /v2/organizations/acme/pipelines/api/builds/${failed.number}?include_retried_jobs=true 200`,
      `PUT /v2/organizations/acme/pipelines/api/builds/${failed.number}/jobs/${test.id}/retry 200`,
    ]);
    expect(sim.job(test.id).retried).toBe(true);
  });

  it('retryJob names the new job; the retried one cannot be retried again (NOT_RETRYABLE, no write)', async () => {
    const build = sim.triggerBuild({ pipeline: 'docs', branch: 'main', outcomes: { publish: 'failed' } });
    await sim.runUntilIdle();
    const job = build.jobs.find((j) => j.type === 'script')!;
    expect(job.state).toBe('failed');
    const p = await mutate(RETRY_JOB, { id: jobId('docs', build.number, job.id) }, 'retryJob');
    expect(p.errors).toEqual([]);
    const newId = sim.job(job.id).retriedInJobId!;
    expect(p.job!.id).toBe(jobId('docs', build.number, newId));
    const writes = sim.tokenLog.filter((r) => r.method !== 'GET').length;
    const again = await mutate(RETRY_JOB, { id: jobId('docs', build.number, job.id) }, 'retryJob');
    expect(again.errors).toEqual([expect.objectContaining({ code: 'NOT_RETRYABLE' })]);
    expect(sim.tokenLog.filter((r) => r.method !== 'GET').length).toBe(writes);
  });

  it('triggerPipeline: env, commit and message reach the build; a dry run writes nothing', async () => {
    const project = toGlobalId('Project', B, 'docs');
    const inputs = [{ name: 'DEPLOY', value: true }, { name: 'message', value: 'from the gateway' }, { name: 'meta_data.release', value: 'r7' }];
    const writes = () => sim.tokenLog.filter((r) => r.method !== 'GET').length;
    const before = writes();
    const dry = await mutate(TRIGGER, { p: project, inputs, dry: true }, 'triggerPipeline');
    expect(dry).toMatchObject({ dryRun: true, errors: [] });
    expect(dry.upstream!.calls).toEqual([{ method: 'POST', path: '/v2/organizations/acme/pipelines/docs/builds', status: null }]);
    expect(writes()).toBe(before);
    const p = await mutate(TRIGGER, { p: project, inputs }, 'triggerPipeline');
    expect(p.errors).toEqual([]);
    const made = sim.builds('docs')[0]!;
    expect(p.pipeline).toMatchObject({ id: pipelineId('docs', made.number) });
    expect(made).toMatchObject({ branch: 'main', message: 'from the gateway', env: { DEPLOY: 'true' }, metaData: { release: 'r7' }, source: 'api' });
    const bad = await mutate(TRIGGER, { p: project, inputs: [{ name: 'not a name', value: 'x' }] }, 'triggerPipeline');
    expect(bad.errors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', input: 'not a name' })]);
    expect(writes()).toBe(before + 1);
  });

  it('approve unblocks the block step with its fields; a required field missing is INVALID_INPUT before any write', async () => {
    const build = sim.triggerBuild({ pipeline: 'ios', branch: 'main' });
    await sim.runUntilIdle();
    expect(build.blocked).toBe(true);
    const block = build.jobs.find((j) => j.type === 'manual')!;
    const writes = () => sim.tokenLog.filter((r) => r.method !== 'GET').length;
    const before = writes();
    const missing = await mutate(APPROVE, { id: pipelineId('ios', build.number), inputs: [] }, 'approve');
    expect(missing.errors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', input: 'notes', backend: B })]);
    const unknown = await mutate(APPROVE, { id: pipelineId('ios', build.number), inputs: [{ name: 'notes', value: 'x' }, { name: 'nope', value: 'y' }] }, 'approve');
    expect(unknown.errors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', input: 'nope' })]);
    expect(writes()).toBe(before);
    const p = await mutate(APPROVE, { id: pipelineId('ios', build.number), inputs: [{ name: 'notes', value: 'Fixes the login crash' }] }, 'approve');
    expect(p.errors).toEqual([]);
    expect(p.upstream!.calls.at(-1)).toEqual({ method: 'PUT', path: `/v2/organizations/acme/pipelines/ios/builds/${build.number}/jobs/${block.id}/unblock`, status: 200 });
    expect(sim.job(block.id)).toMatchObject({ state: 'unblocked', unblockFields: { notes: 'Fixes the login crash' } });
    expect(p.job!.id).toBe(jobId('ios', build.number, block.id));
    const twice = await mutate(APPROVE, { id: pipelineId('ios', build.number), inputs: [{ name: 'notes', value: 'again' }] }, 'approve');
    expect(twice.errors).toEqual([expect.objectContaining({ code: 'NOT_WAITING' })]);
  });

  it('reject and cancelJob are NOT_SUPPORTED, saying what Buildkite offers instead, with no request', async () => {
    const build = await runningBuild('docs');
    const from = sim.tokenLog.length;
    const r = await mutate(REJECT, { id: pipelineId('docs', build.number) }, 'reject');
    expect(r.errors).toEqual([expect.objectContaining({ code: 'NOT_SUPPORTED', backend: B })]);
    const job = build.jobs.find((j) => j.type === 'script')!;
    const c = await mutate(CANCEL_JOB, { id: jobId('docs', build.number, job.id) }, 'cancelJob');
    expect(c.errors).toEqual([expect.objectContaining({ code: 'NOT_SUPPORTED', backend: B })]);
    expect(since(from).filter((s) => !s.startsWith('read GET'))).toEqual([]);
  });
});
