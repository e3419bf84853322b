import type { Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/ids.ts';
import { PAYLOAD } from '../helpers/actions-stack.ts';
import { startJenkinsActionsStack, WRITER, type JenkinsActionsStack } from '../helpers/jenkins-actions-stack.ts';
import { collect, waitFor } from '../helpers/stack.ts';

/**
 * Issue 15 "Done when", Jenkins: every action through the real gateway on loopback, over the
 * Jenkins simulator with Notification-plugin pushes, by an API key whose grant lists the actions,
 * each outcome seen by a graphql-ws `pipelineUpdated` subscriber, and each payload carrying the
 * pipeline as the gateway sees it and the upstream calls with their statuses.
 */
interface PipelineView { id: string; number: number | null; status: string; native: { status: string | null; conclusion: string | null }; inputs: { name: string; value: string }[] | null }
interface Event { pipelineUpdated: { source: string; pipeline: PipelineView } }
interface Payload {
  errors: { code: string; message: string; backend: string | null; input: string | null; upstreamStatus: number | null }[];
  upstream: { backend: { name: string }; calls: { method: string; path: string; status: number | null }[] } | null;
  pipeline: PipelineView | null;
}

const VIEW = 'id number status native { status conclusion } inputs { name value }';
const SUB = `subscription { pipelineUpdated(filter: { backends: ["jk"] }) { source pipeline { ${VIEW} } } }`;
const CANCEL = `mutation($id: ID!) { cancelPipeline(input: { id: $id }) { ${PAYLOAD} pipeline { ${VIEW} } } }`;
const RETRY = `mutation($id: ID!) { retryPipeline(input: { id: $id }) { ${PAYLOAD} pipeline { ${VIEW} } } }`;
const TRIGGER = `mutation($p: ID!, $inputs: [ActionInputEntry!]) { triggerPipeline(input: { project: $p, ref: "main", inputs: $inputs }) { ${PAYLOAD} pipeline { ${VIEW} } } }`;
const APPROVE = `mutation($id: ID!, $inputs: [ActionInputEntry!]) { approve(input: { id: $id, comment: "ship it", inputs: $inputs }) { ${PAYLOAD} pipeline { ${VIEW} } } }`;
const REJECT = `mutation($id: ID!) { reject(input: { id: $id, comment: "not today" }) { ${PAYLOAD} pipeline { ${VIEW} } } }`;

const pipelineId = (nativeId: string) => toGlobalId('Pipeline', 'jk', nativeId);
const GATE_JOB = 'platform/infra/terraform';
const INPUTS = [{ name: 'DEPLOY_ENV', value: 'production' }, { name: 'RUN_E2E', value: true }, { name: 'VERSION', value: '1.4.2' }];
/** How Jenkins reports them back (ParametersAction values as strings). */
const AS_STRINGS = [{ name: 'DEPLOY_ENV', value: 'production' }, { name: 'RUN_E2E', value: 'true' }, { name: 'VERSION', value: '1.4.2' }];

describe('jenkins actions end to end: gateway, simulator, pushes, subscriber', () => {
  let stack: JenkinsActionsStack;
  let key: string;

  beforeAll(async () => {
    stack = await startJenkinsActionsStack({ keys: { ops: [{ backends: ['jk'], actions: ['cancel', 'retry', 'trigger', 'approve'] }] } });
    key = stack.keys.ops!;
  });
  afterAll(() => stack?.close());

  /** A pipelineUpdated subscriber (live before it returns) that collects until `until`. */
  async function subscribe(until: (events: PipelineView[]) => boolean) {
    const client = stack.wsAs(key);
    live.push(client);
    const sub = collect<Event>(client, SUB, undefined, (items) => until(items.map((e) => e.pipelineUpdated.pipeline)));
    // A failed test's collector must not reject later, in another test.
    sub.done.catch(() => undefined);
    await waitFor(() => stack.gateway.subscriptionCount === 1, 5000, 'the subscription');
    return {
      seen: () => sub.items.map((e) => e.pipelineUpdated.pipeline),
      done: async () => (await sub.done).map((e) => e.pipelineUpdated.pipeline),
    };
  }
  // Each test ends its subscriber, so the next one counts only its own.
  const live: Client[] = [];
  afterEach(async () => {
    await Promise.all(live.splice(0).map((c) => c.dispose()));
    await waitFor(() => stack.gateway.subscriptionCount === 0, 5000, 'the subscriptions to end');
  });
  const statusesOf = (events: PipelineView[], id: string) => events.filter((p) => p.id === id).map((p) => p.status);

  async function mutate(query: string, variables: Record<string, unknown>, field: string): Promise<Payload> {
    const res = await stack.gql<Record<string, Payload>>(key, query, variables);
    expect(res.errors).toBeUndefined();
    return res.data![field]!;
  }

  /** The requests the write account sent since `from`, as `METHOD path` (the payload's calls must be exactly these). */
  const writeAccountRequests = (from: number) => stack.sim.authLog.slice(from).filter((r) => r.user === WRITER.name).map((r) => `${r.method} ${r.path}`);
  const callLines = (p: Payload) => p.upstream!.calls.map((c) => `${c.method} ${c.path}`);

  /** Steps the simulator until the queue item `queueId` of `job` has started its build (other queued work may go first). */
  async function buildOf(job: string, queueId: number) {
    for (let i = 0; i < 20; i++) {
      const b = stack.sim.world.builds(job).find((x) => x.queueId === queueId);
      if (b) return b;
      await stack.sim.step();
    }
    throw new Error(`queue item ${queueId} of ${job} never started`);
  }
  const queueIdOf = (globalId: string) => Number(/#queue-(\d+)$/.exec(Buffer.from(globalId, 'base64url').toString())?.[1]);

  async function runningBuild(job: string): Promise<number> {
    const { queueId } = await stack.sim.triggerBuild({ job });
    const b = await buildOf(job, queueId);
    expect(b.building).toBe(true);
    return b.number;
  }

  /** A build of the gate job paused at its `input` step, seen WAITING by the gateway (the poll reads the stage view). */
  async function pausedBuild(submitter?: string): Promise<string> {
    await stack.sim.triggerBuild({
      job: GATE_JOB,
      stages: [
        { name: 'Plan' },
        { name: 'Approve', input: { message: 'Apply the plan?', ok: 'Apply', ...(submitter ? { submitter } : {}), parameters: [{ name: 'REGION', type: 'choice', choices: ['eu', 'us'] }] } },
        { name: 'Apply' },
      ],
    });
    await stack.sim.runUntilIdle();
    const b = stack.sim.world.builds(GATE_JOB)[0]!;
    expect(b.stages.some((s) => s.status === 'PAUSED_PENDING_INPUT')).toBe(true);
    await stack.gateway.scheduler.pollNow('jk');
    return `${GATE_JOB}#${b.number}`;
  }

  it('cancelPipeline of a running build: the payload and the subscriber show CANCELED (ABORTED)', async () => {
    const n = await runningBuild('team-a/service');
    const id = pipelineId(`team-a/service#${n}`);
    const sub = await subscribe((events) => statusesOf(events, id).includes('CANCELED'));
    const from = stack.sim.authLog.length;
    const p = await mutate(CANCEL, { id }, 'cancelPipeline');
    expect(p.errors).toEqual([]);
    expect(p.pipeline).toMatchObject({ id, status: 'CANCELED', native: { conclusion: 'ABORTED' } });
    expect(p.upstream!.backend.name).toBe('jk');
    expect(p.upstream!.calls.map((c) => [c.method, c.path.split('?')[0], c.status])).toEqual([
      ['GET', `/job/team-a/job/service/${n}/api/json`, 200], ['POST', `/job/team-a/job/service/${n}/stop`, 302],
    ]);
    expect(callLines(p)).toEqual(writeAccountRequests(from));
    expect((await sub.done()).filter((e) => e.id === id).at(-1)).toMatchObject({ status: 'CANCELED', native: { conclusion: 'ABORTED' } });
    expect(stack.sim.world.builds('team-a/service')[0]).toMatchObject({ number: n, building: false, result: 'ABORTED' });
  });

  it('cancelPipeline of a queued item: the stand-in is cancelled and never becomes a build', async () => {
    const { queueId } = await stack.sim.triggerBuild({ job: 'team-a/lint' });
    const id = pipelineId(`team-a/lint#queue-${queueId}`);
    const sub = await subscribe((events) => statusesOf(events, id).includes('CANCELED'));
    const p = await mutate(CANCEL, { id }, 'cancelPipeline');
    expect(p.errors).toEqual([]);
    expect(p.pipeline).toMatchObject({ id, status: 'CANCELED', number: null });
    expect(p.upstream!.calls).toEqual([
      { method: 'GET', path: expect.stringMatching(new RegExp(`^/queue/item/${queueId}/api/json\\?`)), status: 200 },
      { method: 'POST', path: `/queue/cancelItem?id=${queueId}`, status: 204 },
    ]);
    expect(statusesOf(await sub.done(), id).at(-1)).toBe('CANCELED');
    // Everything runnable has run: the cancelled item started nothing.
    await stack.sim.runUntilIdle();
    expect(stack.sim.world.queue().some((q) => q.id === queueId)).toBe(false);
    expect(stack.sim.world.builds('team-a/lint').some((b) => b.queueId === queueId)).toBe(false);
  });

  it('triggerPipeline with inputs: the queue stand-in, then its build, both carrying the inputs', async () => {
    const p0 = await mutate(TRIGGER, { p: toGlobalId('Project', 'jk', 'team-a/service'), inputs: INPUTS }, 'triggerPipeline');
    expect(p0.errors).toEqual([]);
    const queueId = queueIdOf(p0.pipeline!.id);
    expect(queueId).toBeGreaterThan(0);
    expect(p0.pipeline).toMatchObject({ status: 'QUEUED', number: null, inputs: AS_STRINGS });
    expect(p0.upstream!.calls.map((c) => [c.method, c.path.split('?')[0], c.status])).toEqual([
      ['GET', '/job/team-a/job/service/api/json', 200], ['POST', '/job/team-a/job/service/buildWithParameters', 201], ['GET', `/queue/item/${queueId}/api/json`, 200],
    ]);
    // The values travel in the form body, never in a path.
    expect(p0.upstream!.calls.some((c) => c.path.includes('1.4.2'))).toBe(false);

    // The subscription starts after the trigger answered: the build is what it must see.
    const sub = await subscribe((events) => events.some((e) => e.number !== null && e.inputs?.some((i) => i.value === '1.4.2') === true));
    const build = await buildOf('team-a/service', queueId);
    const seen = (await sub.done()).filter((e) => e.id === pipelineId(`team-a/service#${build.number}`));
    expect(seen.at(-1)).toMatchObject({ status: 'RUNNING', number: build.number, inputs: AS_STRINGS });
  });

  it('triggerPipeline: a wrong-typed or undeclared input is INVALID_INPUT naming it, with no upstream write', async () => {
    const project = toGlobalId('Project', 'jk', 'team-a/service');
    const posts = stack.posts().length;
    for (const [bad, name] of [[{ name: 'RUN_E2E', value: 'yes' }, 'RUN_E2E'], [{ name: 'NOPE', value: 'x' }, 'NOPE'], [{ name: 'DEPLOY_ENV', value: 'moon' }, 'DEPLOY_ENV']] as const) {
      const p = await mutate(TRIGGER, { p: project, inputs: [{ name: 'VERSION', value: '2' }, bad] }, 'triggerPipeline');
      expect(p.errors, name).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', input: name, backend: 'jk' })]);
      // Checked by the core against the job's parameter definitions: what was expected, what was received.
      expect(p.errors[0]!.message).toMatch(new RegExp(`input "${name}".*expected.*received`));
      expect(p.pipeline).toBeNull();
    }
    // The mutations have answered; nothing they could have sent is still on its way.
    expect(stack.posts().length).toBe(posts);
    const audited = (await stack.actionAudit()).slice(-3);
    expect(audited.map((r) => [r.action, r.outcome, r.errorCode, r.calls])).toEqual(Array(3).fill(['triggerPipeline', 'refused', 'INVALID_INPUT', []]));
  });

  it('retryPipeline: a new build with the same parameters appears for the subscriber, inputs equal to the original', async () => {
    const first = await mutate(TRIGGER, { p: toGlobalId('Project', 'jk', 'team-a/service'), inputs: [{ name: 'DEPLOY_ENV', value: 'production' }, { name: 'VERSION', value: '9.9' }] }, 'triggerPipeline');
    expect(first.errors).toEqual([]);
    await stack.sim.runUntilIdle();
    const original = stack.sim.world.builds('team-a/service')[0]!;
    expect(original.building).toBe(false);
    const originalId = pipelineId(`team-a/service#${original.number}`);
    const read = await stack.gql<{ node: PipelineView }>(key, `query($id: ID!) { node(id: $id) { ... on Pipeline { ${VIEW} } } }`, { id: originalId });
    const originalInputs = read.data!.node.inputs;
    expect(originalInputs).toContainEqual({ name: 'VERSION', value: '9.9' });

    const sub = await subscribe((events) => events.some((e) => e.number !== null && e.number > original.number && e.status === 'RUNNING'));
    const p = await mutate(RETRY, { id: originalId }, 'retryPipeline');
    expect(p.errors).toEqual([]);
    expect(p.upstream!.calls.map((c) => [c.method, c.path.split('?')[0], c.status])).toEqual([
      ['GET', `/job/team-a/job/service/${original.number}/api/json`, 200], ['POST', '/job/team-a/job/service/buildWithParameters', 201], [
        'GET', expect.stringMatching(/^\/queue\/item\/\d+\/api\/json$/), 200],
    ]);
    expect(p.pipeline).toMatchObject({ status: 'QUEUED', inputs: originalInputs });
    const rebuilt = await buildOf('team-a/service', queueIdOf(p.pipeline!.id));
    expect(rebuilt.number).toBeGreaterThan(original.number);
    const seen = (await sub.done()).filter((e) => e.id === pipelineId(`team-a/service#${rebuilt.number}`));
    expect(seen.at(-1)).toMatchObject({ status: 'RUNNING', inputs: originalInputs });
  });

  it('approve of a build paused at an input step (read WAITING): RUNNING, then it finishes', async () => {
    const nativeId = await pausedBuild();
    const id = pipelineId(nativeId);
    const sub = await subscribe((events) => statusesOf(events, id).includes('SUCCESS'));
    const before = await stack.gql<{ node: PipelineView }>(key, `query($id: ID!) { node(id: $id) { ... on Pipeline { ${VIEW} } } }`, { id });
    expect(before.data!.node.status).toBe('WAITING');
    const p = await mutate(APPROVE, { id, inputs: [{ name: 'REGION', value: 'us' }] }, 'approve');
    expect(p.errors).toEqual([]);
    expect(p.pipeline).toMatchObject({ id, status: 'RUNNING' });
    expect(p.upstream!.calls).toEqual([
      { method: 'GET', path: `/job/platform/job/infra/job/terraform/${nativeId.split('#')[1]}/wfapi/pendingInputActions`, status: 200 },
      { method: 'POST', path: expect.stringMatching(/\/input\/[^/]+\/submit$/), status: 302 },
    ]);
    await waitFor(() => statusesOf(sub.seen(), id).includes('RUNNING'), 5000, 'RUNNING for the subscriber');
    await stack.sim.runUntilIdle();
    expect(statusesOf(await sub.done(), id)).toEqual(['RUNNING', 'SUCCESS']);
    const gate = stack.sim.world.builds(GATE_JOB)[0]!.stages.find((s) => s.name === 'Approve')!;
    expect(gate.inputAnswer).toEqual({ approver: WRITER.name, params: [{ name: 'REGION', type: 'choice', value: 'us' }] });
  });

  it('reject of a build paused at an input step: the subscriber sees CANCELED (ABORTED)', async () => {
    const nativeId = await pausedBuild();
    const id = pipelineId(nativeId);
    const sub = await subscribe((events) => statusesOf(events, id).includes('CANCELED'));
    const p = await mutate(REJECT, { id }, 'reject');
    expect(p.errors).toEqual([]);
    // The input is aborted at once; the build then winds down (as Jenkins' FlowInterruptedException does).
    expect(p.pipeline).toMatchObject({ id, status: 'RUNNING' });
    expect(p.upstream!.calls.map((c) => [c.method, c.path.replace(/\/input\/[^/]+\//, '/input/{id}/'), c.status])).toEqual([
      ['GET', `/job/platform/job/infra/job/terraform/${nativeId.split('#')[1]}/wfapi/pendingInputActions`, 200],
      ['POST', `/job/platform/job/infra/job/terraform/${nativeId.split('#')[1]}/input/{id}/abort`, 200],
    ]);
    await waitFor(() => statusesOf(sub.seen(), id).includes('RUNNING'), 5000, 'RUNNING for the subscriber');
    await stack.sim.runUntilIdle();
    const seen = (await sub.done()).filter((e) => e.id === id);
    expect(seen.map((e) => e.status)).toEqual(['RUNNING', 'CANCELED']);
    expect(seen.at(-1)).toMatchObject({ native: { conclusion: 'ABORTED' } });
    expect(stack.sim.world.builds(GATE_JOB)[0]).toMatchObject({ building: false, result: 'ABORTED' });
  });
});
