import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/ids.ts';
import { startJenkinsStack, type JenkinsStack } from '../helpers/jenkins-stack.ts';

interface Node { status: string; waitReason: string | null; native: { status: string | null; failureReason: string | null }; number?: number | null }

describe('jenkins: waiting for input and in the queue', () => {
  let stack: JenkinsStack;
  const published: { id: string; status: string; waitReason: string | null }[] = [];

  beforeAll(async () => {
    stack = await startJenkinsStack({
      notify: false,
      sim: { history: 1, agents: [{ name: 'built-in', labels: ['built-in'], executors: 0 }, { name: 'solo', labels: ['linux'], executors: 1 }] },
    });
    for (const type of ['Pipeline', 'Job'] as const) {
      const it = stack.gateway.services.bus.subscribe(type, () => true);
      void (async () => {
        for await (const e of it) {
          const m = 'pipeline' in e ? e.pipeline : e.job;
          published.push({ id: m.nativeId, status: m.status, waitReason: m.waitReason });
        }
      })();
    }
    await stack.gateway.scheduler.pollNow('jk');
  });
  afterAll(() => stack.close());

  const node = async (type: 'Pipeline' | 'Job', nativeId: string) => {
    const res = await stack.query<{ node: Node | null }>(
      'query($id: ID!) { node(id: $id) { ... on Pipeline { status waitReason number native { status failureReason } } ... on Job { status waitReason native { status failureReason } } } }',
      { id: toGlobalId(type, 'jk', nativeId) },
    );
    expect(res.errors).toBeUndefined();
    return res.data!.node;
  };

  it('shows an input stage as WAITING/INPUT until approved, then SUCCESS', async () => {
    const job = 'platform/infra/terraform';
    await stack.sim.triggerBuild({ job });
    for (let i = 0; i < 20; i++) {
      await stack.sim.step();
      if (stack.sim.world.builds(job)[0]?.stages.some((s) => s.status === 'PAUSED_PENDING_INPUT')) break;
    }
    const b = stack.sim.world.builds(job)[0]!;
    const approve = b.stages.find((s) => s.name === 'Approve')!;
    await stack.gateway.scheduler.pollNow('jk');
    const stageId = `${job}#${b.number}/stage/${approve.id}`;
    expect(published.filter((p) => p.id === stageId).at(-1)).toEqual({ id: stageId, status: 'WAITING', waitReason: 'INPUT' });
    expect(await node('Job', stageId)).toMatchObject({ status: 'WAITING', waitReason: 'INPUT', native: { status: 'PAUSED_PENDING_INPUT' } });
    expect(await node('Pipeline', `${job}#${b.number}`)).toMatchObject({ status: 'WAITING', waitReason: 'INPUT' });

    // Still waiting on the next cycles until someone approves.
    await stack.sim.step();
    await stack.gateway.scheduler.pollNow('jk');
    expect(published.filter((p) => p.id === stageId).at(-1)!.status).toBe('WAITING');

    await stack.sim.approveInput(job, b.number);
    await stack.sim.runUntilIdle();
    await stack.gateway.scheduler.pollNow('jk');
    expect(published.filter((p) => p.id === stageId).map((p) => p.status)).toEqual(['WAITING', 'SUCCESS']);
    expect(published.filter((p) => p.id === `${job}#${b.number}`).at(-1)!.status).toBe('SUCCESS');
  });

  it('shows queued builds as QUEUED or WAITING with the reason, and links the item to its build', async () => {
    // The only executor is busy with a paused build; a freestyle job allows one build at a time.
    await stack.sim.triggerBuild({ job: 'platform/infra/terraform' });
    for (let i = 0; i < 20 && !stack.sim.world.builds('platform/infra/terraform')[0]?.stages.some((s) => s.status === 'PAUSED_PENDING_INPUT'); i++) await stack.sim.step();
    const { queueId: first } = await stack.sim.triggerBuild({ job: 'team-a/lint' });
    const { queueId: second } = await stack.sim.triggerBuild({ job: 'team-a/lint' });
    await stack.gateway.scheduler.pollNow('jk');

    const q1 = await node('Pipeline', `team-a/lint#queue-${first}`);
    expect(q1).toMatchObject({ status: 'QUEUED', number: null });
    expect(q1!.native.failureReason).toMatch(/executor/i);
    const q2 = published.filter((p) => p.id === `team-a/lint#queue-${second}`).at(-1);
    expect(q2?.status === 'QUEUED' || q2?.status === 'WAITING').toBe(true);

    // Free the executor: the first item starts and the queued entity follows its build.
    const t = stack.sim.world.builds('platform/infra/terraform')[0]!;
    await stack.sim.approveInput('platform/infra/terraform', t.number);
    // Step until lint's first build runs: the second, on a job without concurrent builds, is now blocked.
    for (let i = 0; i < 40 && !stack.sim.world.queue().some((q) => q.id === second && q.state === 'blocked'); i++) await stack.sim.step();
    await stack.gateway.scheduler.pollNow('jk');
    const blocked = await node('Pipeline', `team-a/lint#queue-${second}`);
    expect(blocked).toMatchObject({ status: 'WAITING', waitReason: 'CONCURRENCY', native: { status: 'BlockedItem' } });
    expect(blocked!.native.failureReason).toMatch(/already in progress/);
    await stack.sim.runUntilIdle();
    await stack.gateway.scheduler.pollNow('jk');
    const linked = await node('Pipeline', `team-a/lint#queue-${first}`);
    expect(linked).toMatchObject({ status: 'SUCCESS' });
    expect(linked!.number).toBeGreaterThan(0);
    expect(published.filter((p) => p.id === `team-a/lint#queue-${first}`).map((p) => p.status).at(-1)).toBe('SUCCESS');
  });

  it('keeps a WAITING/INPUT build WAITING when a list query reads it without the stage view (issue 11 item 2)', async () => {
    const job = 'platform/infra/terraform';
    await stack.sim.runUntilIdle();
    await stack.sim.triggerBuild({ job });
    for (let i = 0; i < 40 && !stack.sim.world.builds(job)[0]?.stages.some((s) => s.status === 'PAUSED_PENDING_INPUT'); i++) await stack.sim.step();
    const b = stack.sim.world.builds(job)[0]!;
    expect(b.stages.some((s) => s.status === 'PAUSED_PENDING_INPUT')).toBe(true);
    const pid = `${job}#${b.number}`;

    // 1. The poller reads the stage view: WAITING/INPUT.
    await stack.gateway.scheduler.pollNow('jk');
    const seen = published.length;
    expect(published.filter((p) => p.id === pid).at(-1)).toEqual({ id: pid, status: 'WAITING', waitReason: 'INPUT' });

    // 2. A list query reads the same build from the job tree only (building, no stage view).
    stack.sim.resetRequests();
    const list = await stack.query<{ pipelines: { nodes: { number: number; status: string; waitReason: string | null; project: { fullName: string } }[] } }>(
      '{ pipelines(first: 50) { nodes { number status waitReason project { fullName } } } }',
    );
    expect(list.errors).toBeUndefined();
    expect(stack.sim.requests.some((r) => r.path.includes('/wfapi/'))).toBe(false);
    expect(list.data!.pipelines.nodes.find((p) => p.project.fullName === job && p.number === b.number)).toMatchObject({ status: 'WAITING', waitReason: 'INPUT' });

    // 3. Barrier: a later event (a new queue item, seen by the next poll) must arrive; nothing for the build before it.
    const { queueId } = await stack.sim.triggerBuild({ job: 'docs' });
    await stack.gateway.scheduler.pollNow('jk');
    const sentinel = `docs#queue-${queueId}`;
    for (let i = 0; i < 200 && !published.slice(seen).some((p) => p.id === sentinel); i++) await new Promise((r) => setTimeout(r, 10));
    const after = published.slice(seen);
    expect(after.some((p) => p.id === sentinel)).toBe(true);
    expect(after.filter((p) => p.id === pid)).toEqual([]);
    expect(await node('Pipeline', pid)).toMatchObject({ status: 'WAITING', waitReason: 'INPUT' });
  });
});
