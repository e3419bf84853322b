import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/ids.ts';
import { startJenkinsStack, type JenkinsStack } from '../helpers/jenkins-stack.ts';

interface PipelineView { name: string | null; number: number; status: string; jobsNote: string | null; jobs: { nodes: { name: string }[] } }
interface RunnerView { name: string; state: string; native: { status: string | null; conclusion: string | null } }

/** Display data of Jenkins entities (issue 11 items 3 and 8). */
describe('jenkins: runner capacity, build names and empty stage lists', () => {
  let stack: JenkinsStack;

  beforeAll(async () => {
    // As on current Jenkins: the controller has no executors of its own; Pipeline runs still
    // hold a one-off (flyweight) executor on it for as long as they run.
    stack = await startJenkinsStack({
      notify: false,
      sim: { history: 1, agents: [{ name: 'built-in', labels: ['built-in'], executors: 0 }, { name: 'linux-1', labels: ['linux'], executors: 2 }] },
    });
  });
  afterAll(() => stack.close());

  const pipeline = async (nativeId: string): Promise<PipelineView> => {
    const res = await stack.query<{ node: PipelineView }>(
      'query($id: ID!) { node(id: $id) { ... on Pipeline { name number status jobsNote jobs { nodes { name } } } } }',
      { id: toGlobalId('Pipeline', 'jk', nativeId) },
    );
    expect(res.errors).toBeUndefined();
    return res.data!.node;
  };

  it('reports the built-in node by its regular executors, with flyweight Pipeline work apart', async () => {
    await stack.sim.triggerBuild({ job: 'team-a/service' });
    await stack.sim.triggerBuild({ job: 'monorepo/main' });
    for (let i = 0; i < 4; i++) await stack.sim.step();
    expect(stack.sim.world.builds().filter((b) => b.building)).toHaveLength(2);
    await stack.gateway.scheduler.pollNow('jk');
    const res = await stack.query<{ runners: { nodes: RunnerView[] } }>('{ runners { nodes { name state native { status conclusion } } } }');
    expect(res.errors).toBeUndefined();
    const byName = new Map(res.data!.runners.nodes.map((r) => [r.name, r]));
    expect(byName.get('Built-In Node')).toEqual({
      name: 'Built-In Node', state: 'IDLE', native: { status: 'online', conclusion: '0/0 executors busy; 2 Pipeline runs on flyweight executors' },
    });
    expect(byName.get('linux-1')).toMatchObject({ state: 'BUSY', native: { conclusion: '2/2 executors busy' } });
    await stack.sim.runUntilIdle();
  });

  it('names a build by its job unless it has a display name of its own', async () => {
    await stack.sim.runUntilIdle();
    const [service] = stack.sim.world.builds('team-a/service');
    const [feature] = stack.sim.world.builds('monorepo/feature%2Fx');
    expect(await pipeline(`team-a/service#${service!.number}`)).toMatchObject({ name: 'service', number: service!.number });
    expect(await pipeline(`monorepo/feature%2Fx#${feature!.number}`)).toMatchObject({ name: 'feature/x' });

    stack.sim.setBuildDisplayName('team-a/service', service!.number - 1, 'release 1.2');
    expect(await pipeline(`team-a/service#${service!.number - 1}`)).toMatchObject({ name: 'release 1.2' });
  });

  it('says why a running Pipeline has no jobs yet, and drops the note once a stage starts', async () => {
    await stack.sim.runUntilIdle();
    await stack.sim.triggerBuild({ job: 'team-a/service' });
    await stack.sim.step(); // started: no stage yet
    const b = stack.sim.world.builds('team-a/service')[0]!;
    expect(b.building && b.stages.length === 0).toBe(true);
    await stack.gateway.scheduler.pollNow('jk');
    expect(await pipeline(`team-a/service#${b.number}`)).toMatchObject({ status: 'RUNNING', jobsNote: 'No stage has started yet', jobs: { nodes: [] } });

    await stack.sim.step(); // Checkout starts
    await stack.gateway.scheduler.pollNow('jk');
    expect(await pipeline(`team-a/service#${b.number}`)).toMatchObject({ status: 'RUNNING', jobsNote: null, jobs: { nodes: [{ name: 'Checkout' }] } });
    await stack.sim.runUntilIdle();
  });
});
