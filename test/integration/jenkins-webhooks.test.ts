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

  /** A finished build of team-a/lint that no push announced: new to the gateway, so a confirmed push for it publishes. */
  async function unseenBuild(): Promise<number> {
    stack.sim.setNotify(null);
    await stack.sim.triggerBuild({ job: 'team-a/lint', result: 'SUCCESS' });
    await stack.sim.runUntilIdle();
    return realBuild().number;
  }

  /**
   * Waits until the gateway has finished with an accepted push. A push is only a hint:
   * its API read and publish run after the 202, so pushes sent one after another may
   * publish out of order. The route marks a delivery done only after what its confirmation
   * returned was published (webhook-route.ts: ingestStored, then settle); until then the
   * same push again is answered 503 (in progress), afterwards 200 `duplicate`.
   */
  async function settled(body: unknown): Promise<void> {
    await waitFor(async () => (await post(body, { 'X-Switchyard-Token': NOTIFY_SECRET })).status === 200, 5000, 'the push to be settled');
  }

  /**
   * Barrier for "published nothing": a confirmed push for an unseen build, sent after the
   * pushes under test were settled, and its event awaited. This file's one subscription is
   * FIFO (event-bus.ts; the in-memory store delivers synchronously), so once the sentinel is
   * seen, anything published before it is already in `published`. Returns what preceded it.
   */
  async function publishedUpToSentinel(before: number): Promise<{ id: string; status: string; source: string }[]> {
    const n = await unseenBuild();
    expect((await post(pushFor(n), { 'X-Switchyard-Token': NOTIFY_SECRET })).status).toBe(202);
    await waitFor(() => published.slice(before).some((p) => p.id === `team-a/lint#${n}`), 5000, 'the sentinel event');
    const after = published.slice(before);
    expect(after.at(-1)).toEqual({ id: `team-a/lint#${n}`, status: 'SUCCESS', source: 'WEBHOOK' });
    return after.slice(0, -1);
  }

  it('answers a push without (or with a wrong) shared secret with 401 and publishes nothing', async () => {
    const before = published.length;
    const n = await unseenBuild();
    const body = pushFor(n);
    expect((await post(body)).status).toBe(401);
    expect((await post(body, { 'X-Switchyard-Token': 'wrong' })).status).toBe(401);
    expect((await post(body, {}, '?token=wrong')).status).toBe(401);
    // Barrier: the same push with the secret. Its delivery id is theirs, so had a refused push
    // got past verification it would hold that id (dedupe comes first) and this one would be
    // answered 200 duplicate or 503, not accepted; accepted, its one event is the sentinel.
    expect(await (await post(body, { 'X-Switchyard-Token': NOTIFY_SECRET })).json()).toMatchObject({ status: 'accepted' });
    await waitFor(() => published.slice(before).some((p) => p.id === `team-a/lint#${n}`), 5000, 'the sentinel event');
    expect(published.slice(before)).toEqual([{ id: `team-a/lint#${n}`, status: 'SUCCESS', source: 'WEBHOOK' }]);
  });

  it('publishes nothing for a push naming a build the API does not confirm', async () => {
    const before = published.length;
    // A real build the gateway has not seen: a confirmation that ignored the queue id would publish it.
    const other = await unseenBuild();
    stack.sim.resetRequests();
    // No such build (404).
    const res = await post(pushFor(9999, 'STARTED'), { 'X-Switchyard-Token': NOTIFY_SECRET });
    expect(res.status).toBe(202);
    // A real build number, but the queue id of another build: not this build.
    const res2 = await post(pushFor(other, 'FINALIZED', { queue_id: 424242 }), { 'X-Switchyard-Token': NOTIFY_SECRET });
    expect(res2.status).toBe(202);
    // A job this backend does not know.
    const ghost = { name: 'ghost', url: 'job/ghost/', build: { number: 1, phase: 'COMPLETED', url: 'job/ghost/1/' } };
    const res3 = await post(ghost, { 'X-Switchyard-Token': NOTIFY_SECRET });
    expect(res3.status).toBe(202);
    await waitFor(() => stack.sim.requests.some((r) => r.path.startsWith('/job/team-a/job/lint/9999/')), 3000, 'the confirming read');
    for (const body of [pushFor(9999, 'STARTED'), pushFor(other, 'FINALIZED', { queue_id: 424242 }), ghost]) await settled(body);
    expect(await publishedUpToSentinel(before)).toEqual([]);
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
    // SUCCESS may come from the COMPLETED push while FINALIZED's confirmation still runs (503 until it is done).
    await settled(pushFor(n, 'FINALIZED'));
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
