import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/stack.ts';
import { NOTIFY_SECRET, startJenkinsStack, type JenkinsStack } from '../helpers/jenkins-stack.ts';

describe('jenkins: Notification-plugin pushes are hints, confirmed by the API', () => {
  let stack: JenkinsStack;
  const published: { id: string; status: string; source: string }[] = [];

  function post(body: unknown, headers: Record<string, string> = {}, query = '') {
    return fetch(`${stack.base}/webhooks/jk${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  }

  beforeAll(async () => {
    stack = await startJenkinsStack({ sim: { history: 1 } });
    const iterator = stack.gateway.services.bus.subscribe('Pipeline', () => true);
    void (async () => {
      for await (const e of iterator) published.push({ id: e.pipeline.nativeId, status: e.pipeline.status, source: e.source });
    })();
    await waitFor(() => stack.gateway.services.bus.subscriberCount === 1);
  });
  afterAll(() => stack.close());

  const realBuild = () => stack.sim.world.builds('team-a/lint')[0]!;
  const pushFor = (number: number, phase = 'COMPLETED', extra: Record<string, unknown> = {}) => ({
    name: 'lint',
    url: 'job/team-a/job/lint/',
    build: { full_url: `${stack.sim.url}job/team-a/job/lint/${number}/`, number, phase, status: 'SUCCESS', url: `job/team-a/job/lint/${number}/`, ...extra },
  });

  it('answers a push without (or with a wrong) shared secret with 401 and publishes nothing', async () => {
    const before = published.length;
    const body = pushFor(realBuild().number);
    expect((await post(body)).status).toBe(401);
    expect((await post(body, { 'X-Switchyard-Token': 'wrong' })).status).toBe(401);
    expect((await post(body, {}, '?token=wrong')).status).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    expect(published.slice(before)).toEqual([]);
  });

  it('publishes nothing for a push naming a build the API does not confirm', async () => {
    const before = published.length;
    stack.sim.resetRequests();
    // No such build (404).
    const res = await post(pushFor(9999, 'STARTED'), { 'X-Switchyard-Token': NOTIFY_SECRET });
    expect(res.status).toBe(202);
    // A real build number, but the queue id of another build: not this build.
    const res2 = await post(pushFor(realBuild().number, 'FINALIZED', { queue_id: 424242 }), { 'X-Switchyard-Token': NOTIFY_SECRET });
    expect(res2.status).toBe(202);
    // A job this backend does not know.
    const res3 = await post({ name: 'ghost', url: 'job/ghost/', build: { number: 1, phase: 'COMPLETED', url: 'job/ghost/1/' } }, { 'X-Switchyard-Token': NOTIFY_SECRET });
    expect(res3.status).toBe(202);
    await waitFor(() => stack.sim.requests.some((r) => r.path.startsWith('/job/team-a/job/lint/9999/')), 3000, 'the confirming read');
    await new Promise((r) => setTimeout(r, 300));
    expect(published.slice(before)).toEqual([]);
  });

  it('publishes the API state of a real build named by a valid push (header or URL token)', async () => {
    // The simulator pushes the way the plugin does: phases QUEUED, STARTED, COMPLETED, FINALIZED.
    stack.sim.setNotify({ url: `${stack.base}/webhooks/jk`, urlToken: NOTIFY_SECRET });
    const before = published.length;
    await stack.sim.triggerBuild({ job: 'team-a/lint', result: 'SUCCESS' });
    await stack.sim.runUntilIdle();
    const n = realBuild().number;
    await waitFor(() => published.slice(before).some((p) => p.id === `team-a/lint#${n}` && p.status === 'SUCCESS'), 5000, 'confirmed SUCCESS');
    const mine = published.slice(before).filter((p) => p.id === `team-a/lint#${n}`);
    expect(new Set(mine.map((p) => p.source))).toEqual(new Set(['WEBHOOK']));
    expect(stack.sim.pushes.filter((p) => p.number === n).map((p) => p.phase)).toEqual(['QUEUED', 'STARTED', 'COMPLETED', 'FINALIZED']);
    // The same push again (plugin retries are immediate): the delivery id `<job>#<number>#<phase>` deduplicates it.
    stack.sim.setNotify(null);
    const res = await post(pushFor(n, 'FINALIZED'), { 'X-Switchyard-Token': NOTIFY_SECRET });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'duplicate', deliveryId: `team-a/lint#${n}#FINALIZED` });
  });

  it('accepts the secret as endpoint URL userinfo (the plugin sends Authorization: Basic)', async () => {
    const base = new URL(stack.base);
    stack.sim.setNotify({ url: `${base.protocol}//jenkins:${encodeURIComponent(NOTIFY_SECRET)}@${base.host}/webhooks/jk` });
    const before = published.length;
    const pushesBefore = stack.sim.pushes.length;
    await stack.sim.triggerBuild({ job: 'team-a/lint', result: 'FAILURE' });
    await stack.sim.runUntilIdle();
    const n = realBuild().number;
    await waitFor(() => published.slice(before).some((p) => p.id === `team-a/lint#${n}` && p.status === 'FAILURE'), 5000, 'confirmed FAILURE');
    const pushes = stack.sim.pushes.slice(pushesBefore);
    expect(pushes.map((p) => [p.headers.Authorization?.startsWith('Basic '), p.status])).toEqual(Array(4).fill([true, 202]));
    stack.sim.setNotify(null);
    // The same form with a wrong password is refused.
    const wrong = await post(pushFor(n, 'QUEUED'), { authorization: `Basic ${Buffer.from('jenkins:wrong').toString('base64')}` });
    expect(wrong.status).toBe(401);
  });
});
