import { afterEach, describe, expect, it } from 'vitest';
import { createJenkinsSimulator, type JenkinsSimulator } from '../../adapters/jenkins/simulator/index.ts';

/** The simulator's write endpoints refuse as Jenkins does: missing permissions, submitters, finished builds. */
let sim: JenkinsSimulator | null = null;
afterEach(async () => {
  await sim?.stop();
  sim = null;
});

const basic = (user: string, token: string) => `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;

describe('jenkins simulator: write endpoints', () => {
  it('answers a read-only user 403 "<user> is missing the Job/… permission" on every write endpoint', async () => {
    sim = createJenkinsSimulator({ users: [{ name: 'viewer', apiToken: 'v1', permissions: [] }], seed: 3, history: 1 });
    await sim.start();
    await sim.triggerBuild({ job: 'team-a/service' });
    await sim.triggerBuild({ job: 'team-a/lint' });
    await sim.step();
    const n = sim.world.builds('team-a/service')[0]!.number;
    const queued = sim.world.queue()[0]!.id;
    const post = (path: string) => fetch(`${sim!.url}${path}`, { method: 'POST', redirect: 'manual', headers: { authorization: basic('viewer', 'v1') } });
    const cases: [string, string, string][] = [
      ['job/team-a/job/service/buildWithParameters', 'Job/Build', 'hudson.model.Item.Build'],
      ['job/team-a/job/lint/build', 'Job/Build', 'hudson.model.Item.Build'],
      [`job/team-a/job/service/${n}/stop`, 'Job/Cancel', 'hudson.model.Item.Cancel'],
      [`job/team-a/job/service/${n}/term`, 'Job/Cancel', 'hudson.model.Item.Cancel'],
      [`job/team-a/job/service/${n}/kill`, 'Job/Cancel', 'hudson.model.Item.Cancel'],
      [`queue/cancelItem?id=${queued}`, 'Job/Cancel', 'hudson.model.Item.Cancel'],
    ];
    for (const [path, title, id] of cases) {
      const res = await post(path);
      expect(res.status, path).toBe(403);
      expect(res.headers.get('x-required-permission')).toBe(id);
      expect(await res.text()).toContain(`viewer is missing the ${title} permission`);
    }
    expect(sim.world.builds('team-a/service')[0]!.building).toBe(true);
    expect(sim.world.queue().map((q) => q.id)).toContain(queued);
  });

  it('refuses an input to users outside its submitter list with the Failure page (400, X-Error)', async () => {
    sim = createJenkinsSimulator({ users: [{ name: 'bob', apiToken: 'b1', permissions: ['build'] }], seed: 3, history: 0 });
    await sim.start();
    await sim.triggerBuild({ job: 'platform/infra/terraform', stages: [{ name: 'Gate', input: { submitter: 'alice' } }] });
    await sim.runUntilIdle();
    const n = sim.world.builds('platform/infra/terraform')[0]!.number;
    const auth = { authorization: basic('bob', 'b1') };
    const pending = await (await fetch(`${sim.url}job/platform/job/infra/job/terraform/${n}/wfapi/pendingInputActions`, { headers: auth })).json() as { id: string }[];
    const base = `${sim.url}job/platform/job/infra/job/terraform/${n}/input/${pending[0]!.id}`;
    const proceed = await fetch(`${base}/proceedEmpty`, { method: 'POST', headers: auth });
    expect(proceed.status).toBe(400);
    expect(proceed.headers.get('x-error')).toBe('You need to be alice to submit this.');
    const abort = await fetch(`${base}/abort`, { method: 'POST', headers: auth });
    expect(abort.status).toBe(400);
    expect(abort.headers.get('x-error')).toBe("You need to be 'alice' (or have Job/Cancel permissions) to cancel this.");
    expect(sim.world.builds('platform/infra/terraform')[0]!.stages[0]!.status).toBe('PAUSED_PENDING_INPUT');
  });

  it('stop of a finished build answers the same 302 and changes nothing', async () => {
    sim = createJenkinsSimulator({ seed: 3, history: 1 });
    await sim.start();
    const done = sim.world.builds('team-a/lint')[0]!;
    const res = await fetch(`${sim.url}job/team-a/job/lint/${done.number}/stop`, { method: 'POST', redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(done.result).not.toBe('ABORTED');
  });
});
