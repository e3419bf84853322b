import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../../src/audit/verify.ts';
import { toGlobalId } from '../../src/ids.ts';
import { PAYLOAD } from '../helpers/actions-stack.ts';
import { startJenkinsActionsStack, WRITER, type JenkinsActionsStack } from '../helpers/jenkins-actions-stack.ts';
import { collect, waitFor } from '../helpers/stack.ts';

/**
 * Issue 15 item 6 for Jenkins through the real gateway: the upstream's refusals (an input's
 * submitter list, CSRF crumbs) as typed payload errors, each in the audit file, and a crumb that
 * Jenkins demands fetched by the adapter so the action still succeeds for the subscriber.
 */
interface Payload {
  errors: { code: string; message: string; backend: string | null; input: string | null; upstreamStatus: number | null }[];
  upstream: { backend: { name: string }; calls: { method: string; path: string; status: number | null }[] } | null;
  pipeline: { id: string; status: string } | null;
}
const CANCEL = `mutation($id: ID!) { cancelPipeline(input: { id: $id }) { ${PAYLOAD} pipeline { id status } } }`;
const APPROVE = `mutation($id: ID!) { approve(input: { id: $id }) { ${PAYLOAD} pipeline { id status } } }`;
const SUB = 'subscription { pipelineUpdated(filter: { backends: ["jk"] }) { source pipeline { id status } } }';
const GATE_JOB = 'platform/infra/terraform';
const pipelineId = (nativeId: string) => toGlobalId('Pipeline', 'jk', nativeId);
const OPS = { ops: [{ backends: ['jk'], actions: ['cancel', 'approve'] }] };

async function mutate(stack: JenkinsActionsStack, query: string, id: string, field: string): Promise<Payload> {
  const res = await stack.gql<Record<string, Payload>>(stack.keys.ops!, query, { id });
  expect(res.errors).toBeUndefined();
  return res.data![field]!;
}

async function runningBuild(stack: JenkinsActionsStack, job: string): Promise<number> {
  await stack.sim.triggerBuild({ job });
  await stack.sim.step();
  const b = stack.sim.world.builds(job)[0]!;
  expect(b.building).toBe(true);
  return b.number;
}

describe('jenkins refusals through the gateway: input submitter list', () => {
  let stack: JenkinsActionsStack;
  beforeAll(async () => {
    stack = await startJenkinsActionsStack({ keys: OPS });
  });
  afterAll(() => stack?.close());

  it('answers SUBMITTER_NOT_ALLOWED (Jenkins 400) as a typed error, audited, the build still WAITING', async () => {
    await stack.sim.triggerBuild({ job: GATE_JOB, stages: [{ name: 'Plan' }, { name: 'Approve', input: { message: 'Apply?', submitter: 'alice,release-managers' } }, { name: 'Apply' }] });
    await stack.sim.runUntilIdle();
    const b = stack.sim.world.builds(GATE_JOB)[0]!;
    const nativeId = `${GATE_JOB}#${b.number}`;
    await stack.gateway.scheduler.pollNow('jk');
    const p = await mutate(stack, APPROVE, pipelineId(nativeId), 'approve');
    expect(p.errors).toEqual([{ code: 'SUBMITTER_NOT_ALLOWED', backend: 'jk', upstreamStatus: 400, input: null, message: expect.stringContaining('You need to be alice,release-managers to submit this.') }]);
    const submit = { method: 'POST', path: expect.stringMatching(new RegExp(`^/job/platform/job/infra/job/terraform/${b.number}/input/[^/]+/proceedEmpty$`)), status: 400 };
    // Every request the action sent, the refused one last, in the payload and in the audit record.
    const calls = [{ method: 'GET', path: `/job/platform/job/infra/job/terraform/${b.number}/wfapi/pendingInputActions`, status: 200 }, submit];
    expect(p.upstream).toEqual({ backend: { name: 'jk' }, calls });
    expect(p.pipeline).toMatchObject({ id: pipelineId(nativeId), status: 'WAITING' });
    expect(b.stages.find((s) => s.name === 'Approve')).toMatchObject({ status: 'PAUSED_PENDING_INPUT', inputAnswer: null });
    expect((await stack.actionAudit()).at(-1)).toMatchObject({
      action: 'approve', outcome: 'refused', errorCode: 'SUBMITTER_NOT_ALLOWED', backend: 'jk', identity: { id: 'key:ops' },
      target: { id: pipelineId(nativeId), nativeId }, calls,
    });
  });
});

describe('jenkins refusals through the gateway: CSRF crumbs (Jenkins demands one even with an API token)', () => {
  let stack: JenkinsActionsStack;
  beforeAll(async () => {
    stack = await startJenkinsActionsStack({ keys: OPS, sim: { requireCrumb: 'always' } });
  });
  afterAll(() => stack?.close());

  it('fetches a crumb when the POST is refused for one, retries, and the subscriber sees the cancel', async () => {
    const n = await runningBuild(stack, 'team-a/service');
    const id = pipelineId(`team-a/service#${n}`);
    const client = stack.wsAs(stack.keys.ops!);
    const sub = collect<{ pipelineUpdated: { pipeline: { id: string; status: string } } }>(client, SUB, undefined, (items) => items.some((e) => e.pipelineUpdated.pipeline.id === id && e.pipelineUpdated.pipeline.status === 'CANCELED'));
    await waitFor(() => stack.gateway.subscriptionCount === 1, 5000, 'the subscription');
    const p = await mutate(stack, CANCEL, id, 'cancelPipeline');
    expect(p.errors).toEqual([]);
    const lines = [
      `GET /job/team-a/job/service/${n}/api/json 200`, `POST /job/team-a/job/service/${n}/stop 403`,
      'GET /crumbIssuer/api/json 200', `POST /job/team-a/job/service/${n}/stop 302`,
    ];
    expect(p.upstream!.calls.map((c) => `${c.method} ${c.path.split('?')[0]} ${c.status}`)).toEqual(lines);
    expect(p.pipeline).toMatchObject({ id, status: 'CANCELED' });
    expect((await sub.done).at(-1)!.pipelineUpdated.pipeline).toEqual({ id, status: 'CANCELED' });
    await client.dispose();
    // Only the write account fetched the crumb, and the retried POST carried it.
    expect(stack.sim.authLog.filter((r) => r.path.startsWith('/crumbIssuer')).map((r) => r.user)).toEqual([WRITER.name]);
    expect(stack.sim.authLog.filter((r) => r.method === 'POST').map((r) => r.crumb)).toEqual([false, true]);
    expect((await stack.actionAudit()).at(-1)).toMatchObject({ action: 'cancelPipeline', outcome: 'ok', errorCode: null, calls: p.upstream!.calls });
  });

  it('answers CRUMB_REJECTED when Jenkins refuses even a fresh crumb, audited, the build still running', async () => {
    const n = await runningBuild(stack, 'team-a/service');
    const id = pipelineId(`team-a/service#${n}`);
    // No sticky sessions: every crumb is bound to a session the next request does not find.
    stack.sim.setForgetSessions(true);
    const crumbFetches = stack.sim.requests.filter((r) => r.path.startsWith('/crumbIssuer')).length;
    const p = await mutate(stack, CANCEL, id, 'cancelPipeline');
    const stop = { method: 'POST', path: `/job/team-a/job/service/${n}/stop`, status: 403 };
    // The cached crumb refused, a fresh one fetched, refused again: all four requests are shown and audited.
    const calls = [
      { method: 'GET', path: expect.stringMatching(new RegExp(`^/job/team-a/job/service/${n}/api/json\\?`)), status: 200 }, stop,
      { method: 'GET', path: '/crumbIssuer/api/json', status: 200 }, stop,
    ];
    expect(p.errors).toEqual([{ code: 'CRUMB_REJECTED', backend: 'jk', upstreamStatus: 403, input: null, message: expect.stringContaining('No valid crumb was included in the request') }]);
    expect(p.upstream!.calls).toEqual(calls);
    expect(p.pipeline).toMatchObject({ id, status: 'RUNNING' });
    // One fresh crumb was tried: the cached one, a new fetch, one retry, then the refusal.
    expect(stack.sim.requests.filter((r) => r.path.startsWith('/crumbIssuer')).length).toBe(crumbFetches + 1);
    expect(stack.sim.world.builds('team-a/service')[0]).toMatchObject({ number: n, building: true });
    const records = await stack.actionAudit();
    expect(records.at(-1)).toMatchObject({ action: 'cancelPipeline', outcome: 'refused', errorCode: 'CRUMB_REJECTED', backend: 'jk', target: { nativeId: `team-a/service#${n}` }, calls });
    stack.sim.setForgetSessions(false);
    expect((await verifyAuditLog(stack.auditFile)).ok).toBe(true);
  });
});
