/**
 * Behaviour of the Jenkins simulator that adapters and integration tests rely
 * on: auth and crumbs, faults, request accounting, the scale world,
 * Notification-plugin pushes, determinism, autoplay and a clean stop().
 */
import { describe, expect, it } from 'vitest';
import {
  createJenkinsSimulator, type JenkinsSimulator, type JenkinsSimulatorOptions,
} from '../../adapters/jenkins/simulator/index.ts';
import { INPUT_WAIT_MS } from '../../adapters/jenkins/simulator/scenario.ts';
import { startPushReceiver, type PushReceiver } from '../fixtures/jenkins/receiver.ts';
import { simHarness } from '../helpers/sim-harness.ts';
import { waitFor } from '../helpers/stack.ts';

type Json = Record<string, unknown>;
const T0 = Date.parse('2026-11-24T15:00:00Z');
const { boot, closing } = simHarness(
  (opts: JenkinsSimulatorOptions = {}): JenkinsSimulator => createJenkinsSimulator({ seed: 1, now: () => new Date(T0), ...opts }),
);
const receiver = (): Promise<PushReceiver> => closing(startPushReceiver());

const basic = (user: string, token: string) => `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;

describe('authentication and CSRF', () => {
  it('requires HTTP Basic with the API token: anonymous 403, wrong token 401, right token 200', async () => {
    const sim = await boot({ user: 'ci-bot', apiToken: '11aa22bb' });
    const anon = await fetch(`${sim.url}api/json`);
    expect(anon.status).toBe(403);
    expect(anon.headers.get('x-jenkins')).toBeTruthy();
    const wrong = await fetch(`${sim.url}api/json`, { headers: { authorization: basic('ci-bot', 'nope') } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Basic realm="Jenkins"');
    expect(await wrong.text()).not.toContain('nope');
    expect((await fetch(`${sim.url}api/json`, { headers: { authorization: basic('someone-else', '11aa22bb') } })).status).toBe(401);
    const ok = await fetch(`${sim.url}api/json?tree=jobs[name]`, { headers: { authorization: basic('ci-bot', '11aa22bb') } });
    expect(ok.status).toBe(200);
    expect(sim.requests.map((r) => r.status)).toEqual([403, 401, 401, 200]);
  });

  it('demands a session-bound crumb on POSTs; API-token POSTs are exempt unless requireCrumb is "always"', async () => {
    const sim = await boot({ requireCrumb: true, history: 0 });
    const bare = await fetch(`${sim.url}job/docs/build`, { method: 'POST' });
    expect(bare.status).toBe(403);
    expect(await bare.text()).toContain('No valid crumb was included in the request');
    const issuer = await fetch(`${sim.url}crumbIssuer/api/json`);
    const crumb = (await issuer.json()) as { _class: string; crumb: string; crumbRequestField: string };
    expect(crumb).toMatchObject({ _class: 'hudson.security.csrf.DefaultCrumbIssuer', crumbRequestField: 'Jenkins-Crumb' });
    const cookie = (issuer.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/^JSESSIONID\.[0-9a-f]{8}=/);
    // The crumb without its session is worthless.
    expect((await fetch(`${sim.url}job/docs/build`, { method: 'POST', headers: { 'Jenkins-Crumb': crumb.crumb } })).status).toBe(403);
    const ok = await fetch(`${sim.url}job/docs/build`, { method: 'POST', headers: { 'Jenkins-Crumb': crumb.crumb, cookie } });
    expect(ok.status).toBe(201);
    expect(ok.headers.get('location')).toMatch(new RegExp(`^${sim.url}queue/item/\\d+/$`));
    // A second identical request merges into the waiting item.
    const again = await fetch(`${sim.url}job/docs/build`, { method: 'POST', headers: { 'Jenkins-Crumb': crumb.crumb, cookie } });
    expect(again.headers.get('location')).toBe(ok.headers.get('location'));
    expect(sim.world.queue()).toHaveLength(1);

    const tokenSim = await boot({ apiToken: 't0k', requireCrumb: true });
    expect((await fetch(`${tokenSim.url}job/docs/build`, { method: 'POST', headers: { authorization: basic('admin', 't0k') } })).status).toBe(201);
    const strict = await boot({ apiToken: 't0k', requireCrumb: 'always' });
    expect((await fetch(`${strict.url}job/docs/build`, { method: 'POST', headers: { authorization: basic('admin', 't0k') } })).status).toBe(403);
  });
});

describe('faults and request accounting', () => {
  it('records every request with its query; injects status faults and hangs by path', async () => {
    const sim = await boot();
    await fetch(`${sim.url}api/json?tree=jobs[name]`);
    await fetch(`${sim.url}queue/api/json`);
    expect(sim.requests).toEqual([
      { method: 'GET', path: '/api/json?tree=jobs[name]', status: 200 },
      { method: 'GET', path: '/queue/api/json', status: 200 },
    ]);
    sim.resetRequests();
    sim.setFault({ status: 503, match: /^\/computer\// });
    expect((await fetch(`${sim.url}computer/api/json`)).status).toBe(503);
    expect((await fetch(`${sim.url}queue/api/json`)).status).toBe(200);
    sim.setFault({ hang: true, match: /queue/ });
    const ctrl = new AbortController();
    const hanging = fetch(`${sim.url}queue/api/json`, { signal: ctrl.signal });
    await waitFor(() => sim.requests.some((r) => r.status === 0), 3000, 'the request to be held');
    ctrl.abort();
    await expect(hanging).rejects.toThrow();
    sim.setFault(null);
    expect(sim.requests.map((r) => [r.path, r.status])).toEqual([['/computer/api/json', 503], ['/queue/api/json', 200], ['/queue/api/json', 0]]);
  });

  it('stop() releases hung requests and closes the server', async () => {
    const sim = createJenkinsSimulator({ seed: 3, history: 0 });
    await sim.start();
    sim.setFault({ hang: true });
    const hanging = fetch(`${sim.url}api/json`).then(() => 'answered', () => 'dropped');
    // Held, not merely sent: otherwise 'dropped' could be a refused connection after stop().
    await waitFor(() => sim.requests.some((r) => r.status === 0), 3000, 'the request to be held');
    await sim.stop();
    expect(await hanging).toBe('dropped');
    await expect(fetch(`${sim.url}api/json`)).rejects.toThrow();
  });
});

describe('scale world', () => {
  it('answers one root tree query with 200 jobs and their last builds', async () => {
    const sim = await boot({ jobs: 200, history: 2 });
    const t = Date.now();
    const res = await fetch(`${sim.url}api/json?tree=jobs[name,url,color,lastBuild[number,building,result,timestamp]]`);
    const body = (await res.json()) as { jobs: { _class: string; name: string; lastBuild: { number: number } }[] };
    expect(Date.now() - t).toBeLessThan(2000);
    expect(body.jobs).toHaveLength(200);
    expect(new Set(body.jobs.map((j) => j._class))).toEqual(new Set(['hudson.model.FreeStyleProject', 'org.jenkinsci.plugins.workflow.job.WorkflowJob']));
    expect(body.jobs.every((j) => j.lastBuild.number === 2)).toBe(true);
    expect(sim.requests).toHaveLength(1);
  });
});

describe('Notification plugin pushes', () => {
  it('posts QUEUED, STARTED, COMPLETED, FINALIZED with snake_case keys, no nulls, and the secret header', async () => {
    const hook = await receiver();
    const sim = await boot({ history: 1, notify: { url: hook.url, secretHeader: { name: 'X-Switchyard-Token', value: 's3cret' } } });
    const { queueId } = await sim.triggerBuild({ job: 'monorepo/feature%2Fx', stages: [{ name: 'Build' }, { name: 'Test', outcome: 'UNSTABLE' }] });
    await sim.runUntilIdle();
    expect(sim.pushes.map((p) => p.phase)).toEqual(['QUEUED', 'STARTED', 'COMPLETED', 'FINALIZED']);
    expect(hook.received).toHaveLength(4);
    const bodies = hook.received.map((r) => JSON.parse(r.body) as { name: string; display_name: string; url: string; build: Json & { scm: Json } });
    for (const [i, r] of hook.received.entries()) {
      expect(r.headers['content-type']).toBe('application/json;charset=UTF-8');
      expect(r.headers['x-switchyard-token']).toBe('s3cret');
      expect(r.url).toBe('/webhooks/jenkins');
      expect(Object.keys(r.headers).some((h) => /signature/i.test(h))).toBe(false);
      expect(r.body).not.toContain('null');
      expect(r.body).not.toMatch(/"(fullUrl|queueId|displayName)"/);
      const b = bodies[i];
      expect(b).toMatchObject({
        name: 'feature%2Fx', display_name: 'feature/x', url: 'job/monorepo/job/feature%252Fx/',
        build: {
          full_url: `${sim.url}job/monorepo/job/feature%252Fx/2/`, number: 2, queue_id: queueId,
          url: 'job/monorepo/job/feature%252Fx/2/', phase: ['QUEUED', 'STARTED', 'COMPLETED', 'FINALIZED'][i],
        },
      });
      expect(b?.build.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,3}\+00:00$/);
    }
    expect(bodies[0]?.build).not.toHaveProperty('status');
    expect(bodies[1]?.build).not.toHaveProperty('status');
    expect(bodies[2]?.build.status).toBe('UNSTABLE');
    expect(bodies[3]?.build.status).toBe('UNSTABLE');
    expect(bodies[1]?.build.scm).toEqual({ changes: [], culprits: [] });
    expect(bodies[2]?.build.scm).toMatchObject({ url: 'https://git.example.com/acme/monorepo.git', branch: 'feature/x', commit: expect.stringMatching(/^[0-9a-f]{40}$/) });
  });

  it('appends the URL token when configured, and setNotify switches targets at runtime', async () => {
    const hook = await receiver();
    const sim = await boot({ history: 0 });
    await sim.triggerBuild({ job: 'docs' });
    await sim.runUntilIdle();
    expect(sim.pushes).toHaveLength(0);
    sim.setNotify({ url: `${hook.url}?source=jenkins`, urlToken: 'tok en' });
    await sim.triggerBuild({ job: 'docs', result: 'FAILURE' });
    await sim.runUntilIdle();
    expect(hook.received.map((r) => r.url)).toEqual(Array(4).fill('/webhooks/jenkins?source=jenkins&token=tok%20en'));
    const final = JSON.parse(hook.received[3]?.body ?? '{}') as { build: { status: string; number: number } };
    expect(final.build).toMatchObject({ status: 'FAILURE', number: 2 });
    sim.setNotify(null);
    await sim.triggerBuild({ job: 'docs' });
    await sim.runUntilIdle();
    expect(hook.received).toHaveLength(4);
  });
});

describe('determinism and autoplay', () => {
  it('the same seed and clock give the same world, byte for byte', async () => {
    const a = await boot({ seed: 42 });
    const b = await boot({ seed: 42 });
    const c = await boot({ seed: 43 });
    const norm = async (sim: JenkinsSimulator, p: string) => (await (await fetch(sim.url + p)).text()).split(sim.url).join('ROOT/');
    for (const sim of [a, b]) {
      await sim.triggerBuild({ job: 'team-a/service' });
      await sim.triggerBuild({ job: 'team-a/lint' });
      for (let i = 0; i < 5; i++) await sim.step();
    }
    for (const p of ['api/json?depth=2', 'queue/api/json', 'computer/api/json?depth=1', 'job/team-a/job/service/4/wfapi/describe', 'job/team-a/job/service/wfapi/runs']) {
      expect(await norm(a, p), p).toBe(await norm(b, p));
    }
    expect(await norm(a, 'api/json?depth=2')).not.toBe(await norm(c, 'api/json?depth=2'));
  });

  it('autoplay runs builds through the queue and sends pushes; stopAutoplay halts it', async () => {
    const hook = await receiver();
    const sim = await boot({ seed: 5, now: () => new Date(), history: 1, notify: { url: hook.url } });
    const before = sim.world.builds().length;
    sim.autoplay({ intervalMs: 2 });
    await new Promise((r) => setTimeout(r, 400));
    sim.stopAutoplay();
    await new Promise((r) => setTimeout(r, 20));
    expect(sim.world.builds().length).toBeGreaterThan(before);
    expect(sim.pushes.length).toBeGreaterThan(4);
    const phases = new Set(sim.pushes.map((p) => p.phase));
    expect(phases).toEqual(new Set(['QUEUED', 'STARTED', 'COMPLETED', 'FINALIZED']));
    const count = sim.world.builds().length;
    await new Promise((r) => setTimeout(r, 30));
    expect(sim.world.builds().length).toBe(count);
    // Everything it produced still reads back.
    const root = (await (await fetch(`${sim.url}api/json?tree=jobs[name,jobs[name,lastBuild[number,result]]]`)).json()) as { jobs: unknown[] };
    expect(root.jobs.length).toBe(5);
  });
  it('autoplay leaves a build paused at an input step for INPUT_WAIT_MS, so a demo user can approve it', async () => {
    let offset = 0;
    const sim = await boot({ seed: 5, now: () => new Date(Date.now() + offset), history: 1 });
    const job = 'platform/infra/terraform';
    await sim.triggerBuild({ job, stages: [{ name: 'Plan' }, { name: 'Approve', input: true }, { name: 'Apply' }] });
    await sim.runUntilIdle();
    const paused = sim.world.builds(job)[0]!;
    const gate = () => paused.stages.find((st) => st.name === 'Approve')!;
    expect(gate().status).toBe('PAUSED_PENDING_INPUT');
    sim.autoplay({ intervalMs: 1 });
    // Barrier: autoplay has run many builds through (each a chance to answer the input), not a fixed sleep.
    const before = sim.world.builds().filter((b) => !b.building).length;
    await waitFor(() => sim.world.builds().filter((b) => !b.building).length >= before + 15, 10_000, 'autoplay to finish 15 builds');
    expect(gate().status).toBe('PAUSED_PENDING_INPUT');
    offset = INPUT_WAIT_MS;
    await waitFor(() => gate().status !== 'PAUSED_PENDING_INPUT', 10_000, 'autoplay to answer the input');
    sim.stopAutoplay();
    expect(gate().inputAnswer).not.toBeNull();
  });
});
