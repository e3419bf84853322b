/**
 * Behaviour of the GitHub simulator that adapters and integration tests rely
 * on: conditional requests, rate-limit accounting, runner scheduling,
 * pagination, auth, fault injection, redelivery and autoplay.
 */
import { describe, expect, it } from 'vitest';
import { createGithubSimulator, type GithubSimulator, type GithubSimulatorOptions } from '../../adapters/github/simulator/index.ts';
import { simHarness } from '../helpers/sim-harness.ts';
import { waitFor } from '../helpers/stack.ts';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.ts';

const FIXED_NOW = new Date('2026-11-24T15:00:00Z');
const { boot, closing } = simHarness((opts: GithubSimulatorOptions = {}): GithubSimulator => createGithubSimulator({ seed: 1, ...opts }));
const receiver = (): Promise<Receiver> => closing(startReceiver());

function get(sim: GithubSimulator, path: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(sim.url + path, { headers, ...(signal ? { signal } : {}) });
}

describe('conditional requests and rate limit', () => {
  it('answers 304 to a matching If-None-Match without spending rate limit; a change yields a new ETag', async () => {
    const sim = await boot({ history: 2 });
    const path = '/repos/octo-org/api/actions/runs';
    const first = await get(sim, path);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[0-9a-f]{40}"$/);
    const remaining = Number(first.headers.get('x-ratelimit-remaining'));
    expect(first.headers.get('x-ratelimit-limit')).toBe('5000');
    expect(remaining).toBe(4999);

    const cached = await get(sim, path, { 'if-none-match': etag ?? '' });
    expect(cached.status).toBe(304);
    expect(await cached.text()).toBe('');
    expect(cached.headers.get('etag')).toBe(etag);
    expect(Number(cached.headers.get('x-ratelimit-remaining'))).toBe(remaining);
    // Weak form of the same tag also matches, as on GitHub.
    expect((await get(sim, path, { 'if-none-match': `W/${etag}` })).status).toBe(304);

    await sim.triggerRun({ repo: 'api', jobs: [{ name: 'build' }] });
    const changed = await get(sim, path, { 'if-none-match': etag ?? '' });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(Number(changed.headers.get('x-ratelimit-remaining'))).toBe(remaining - 1);
    expect(sim.requests.map((r) => r.status)).toEqual([200, 304, 304, 200]);

    const reset = Number(changed.headers.get('x-ratelimit-reset'));
    expect(reset).toBeGreaterThan(Date.now() / 1000 + 3500);
    const rl = (await (await get(sim, '/rate_limit')).json()) as { resources: { core: { used: number } } };
    expect(rl.resources.core.used).toBe(2);
  });
});

describe('scheduling', () => {
  it('queues a job while every matching runner is busy and starts it when one frees', async () => {
    const sim = await boot({
      now: () => FIXED_NOW,
      history: 0,
      runners: [
        { name: 'gpu-1', labels: ['self-hosted', 'linux', 'gpu'], scope: 'org' },
        { name: 'cpu-1', labels: ['self-hosted', 'linux'], scope: 'org' },
        { name: 'gpu-2', labels: ['self-hosted', 'linux', 'gpu'], scope: 'org', status: 'offline' },
      ],
    });
    const a = await sim.triggerRun({ repo: 'api', jobs: [{ name: 'train', labels: ['gpu'], steps: ['Train'] }] });
    const b = await sim.triggerRun({ repo: 'web', jobs: [{ name: 'train', labels: ['self-hosted', 'GPU'], steps: ['Train'] }] });
    const jobA = a.jobIds[0]!;
    const jobB = b.jobIds[0]!;
    const job = (id: number) => sim.world.jobs().find((j) => j.id === id)!;
    const runner = (name: string) => sim.world.runners().find((r) => r.name === name)!;

    expect(await sim.step()).toBe(true);
    expect(job(jobA).status).toBe('in_progress');
    expect(job(jobA).runnerName).toBe('gpu-1');
    expect(runner('gpu-1').jobId).toBe(jobA);
    // gpu-1 busy, gpu-2 offline, cpu-1 lacks the label: B must wait.
    expect(job(jobB).status).toBe('queued');
    const busy = (await (await get(sim, '/orgs/octo-org/actions/runners')).json()) as { runners: { name: string; busy: boolean; status: string }[] };
    expect(busy.runners.map((r) => [r.name, r.status, r.busy])).toEqual([
      ['gpu-1', 'online', true], ['cpu-1', 'online', false], ['gpu-2', 'offline', false],
    ]);
    const queued = (await (await get(sim, `/repos/octo-org/web/actions/jobs/${jobB}`)).json()) as Record<string, unknown>;
    expect(queued).toMatchObject({ status: 'queued', runner_id: null, runner_name: null, steps: [] });

    // A runs through its 3 steps (Set up job, Train, Complete job); B keeps waiting.
    for (let i = 0; i < 3; i++) {
      expect(job(jobB).status).toBe('queued');
      expect(await sim.step()).toBe(true);
    }
    expect(job(jobA)).toMatchObject({ status: 'completed', conclusion: 'success' });
    expect(runner('gpu-1').jobId).toBeNull();

    expect(await sim.step()).toBe(true);
    expect(job(jobB)).toMatchObject({ status: 'in_progress', runnerName: 'gpu-1' });
    await sim.runUntilIdle();
    expect(await sim.step()).toBe(false);
    expect(sim.world.runs().map((r) => [r.status, r.conclusion])).toEqual([['completed', 'success'], ['completed', 'success']]);
  });

  it('runs ubuntu-latest jobs on GitHub-hosted runners that no runner listing holds, in REST and webhooks alike', async () => {
    const rx = await receiver();
    const sim = await boot({ history: 0, webhook: { url: rx.url, secret: 's' } });
    // Every self-hosted runner is busy elsewhere or offline: hosted capacity does not wait for them.
    const { jobIds } = await sim.triggerRun({ repo: 'api', jobs: [{ name: 'lint', labels: ['ubuntu-latest'] }, { name: 'win', labels: ['windows-latest'] }] });
    expect(await sim.step()).toBe(true);
    expect(await sim.step()).toBe(true);
    const rest = async (id: number) => (await (await get(sim, `/repos/octo-org/api/actions/jobs/${id}`)).json()) as Record<string, unknown>;
    const [lint, win] = [await rest(jobIds[0]!), await rest(jobIds[1]!)];
    for (const j of [lint, win]) {
      expect(j).toMatchObject({ status: 'in_progress', runner_group_id: 0, runner_group_name: 'GitHub Actions' });
      expect(j.runner_id).toBeGreaterThan(1_000_000_000);
      expect(j.runner_name).toBe(`GitHub Actions ${String(j.runner_id)}`);
    }
    expect(lint.runner_id).not.toBe(win.runner_id); // a fresh VM per job
    const hook = rx.received.map((r) => JSON.parse(r.body) as { action: string; workflow_job?: Record<string, unknown> })
      .find((b) => b.action === 'in_progress' && b.workflow_job?.id === jobIds[0]);
    expect(hook?.workflow_job).toMatchObject({ runner_id: lint.runner_id, runner_name: lint.runner_name, runner_group_id: 0, runner_group_name: 'GitHub Actions' });
    const listed = (await (await get(sim, '/orgs/octo-org/actions/runners')).json()) as { runners: { name: string }[] };
    expect(listed.runners.map((r) => r.name)).not.toContain(lint.runner_name);
    expect(sim.world.runners().every((r) => r.jobId === null)).toBe(true);
  });

  it('derives run conclusions from job outcomes and marks later steps skipped after a failure', async () => {
    const sim = await boot({ now: () => FIXED_NOW, history: 0 });
    const fail = await sim.triggerRun({ repo: 'api', jobs: [{ name: 'ok' }, { name: 'bad', outcome: 'failure', steps: ['A', 'B'] }] });
    const cancel = await sim.triggerRun({ repo: 'api', jobs: [{ name: 'ok' }, { name: 'stop', outcome: 'cancelled' }] });
    const skip = await sim.triggerRun({ repo: 'api', jobs: [{ name: 'nope', outcome: 'skipped' }] });
    await sim.runUntilIdle();
    const run = (id: number) => sim.world.runs().find((r) => r.id === id)!;
    expect(run(fail.runId).conclusion).toBe('failure');
    expect(run(cancel.runId).conclusion).toBe('cancelled');
    expect(run(skip.runId)).toMatchObject({ status: 'completed', conclusion: 'skipped' });
    const bad = sim.world.jobs(fail.runId).find((j) => j.name === 'bad')!;
    expect(bad.steps.map((s) => `${s.name}:${s.conclusion}`)).toEqual(['Set up job:success', 'A:success', 'B:failure', 'Complete job:success']);
    const body = (await (await get(sim, `/repos/octo-org/api/actions/runs/${fail.runId}`)).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'completed', conclusion: 'failure', run_attempt: 1, created_at: '2026-11-24T15:00:00Z' });
  });
});

describe('listing, filters and pagination', () => {
  it('paginates runs newest first with GitHub Link headers', async () => {
    const sim = await boot({ history: 7, repositories: ['api'] });
    const all = (await (await get(sim, '/repos/octo-org/api/actions/runs')).json()) as { total_count: number; workflow_runs: { id: number }[] };
    expect(all.total_count).toBe(7);
    const ids = all.workflow_runs.map((r) => r.id);
    expect(ids).toEqual([...ids].sort((x, y) => y - x));
    expect((await get(sim, '/repos/octo-org/api/actions/runs')).headers.get('link')).toBeNull();

    const base = `${sim.url}/repos/octo-org/api/actions/runs`;
    const p2 = await get(sim, '/repos/octo-org/api/actions/runs?per_page=3');
    expect(p2.headers.get('link')).toBe(`<${base}?per_page=3&page=2>; rel="next", <${base}?per_page=3&page=3>; rel="last"`);
    const mid = await get(sim, '/repos/octo-org/api/actions/runs?per_page=3&page=2');
    expect(mid.headers.get('link')).toBe(
      `<${base}?per_page=3&page=1>; rel="prev", <${base}?per_page=3&page=3>; rel="next", ` +
      `<${base}?per_page=3&page=3>; rel="last", <${base}?per_page=3&page=1>; rel="first"`,
    );
    const last = await get(sim, '/repos/octo-org/api/actions/runs?per_page=3&page=3');
    expect(last.headers.get('link')).toBe(`<${base}?per_page=3&page=2>; rel="prev", <${base}?per_page=3&page=1>; rel="first"`);
    const lastBody = (await last.json()) as { total_count: number; workflow_runs: { id: number }[] };
    expect(lastBody).toMatchObject({ total_count: 7 });
    expect(lastBody.workflow_runs.map((r) => r.id)).toEqual(ids.slice(6));
    // Other query parameters are kept in the links.
    expect((await get(sim, '/repos/octo-org/api/actions/runs?exclude_pull_requests=true&per_page=3')).headers.get('link'))
      .toContain(`<${base}?exclude_pull_requests=true&per_page=3&page=2>; rel="next"`);
    // per_page is capped at 100.
    expect((await get(sim, '/repos/octo-org/api/actions/runs?per_page=1000')).headers.get('link')).toBeNull();
  });

  it('filters runs by status/conclusion, event, branch, head_sha and created', async () => {
    const sim = await boot({ history: 0, now: () => FIXED_NOW });
    const ok = await sim.triggerRun({ repo: 'api', event: 'push', branch: 'main', jobs: [{ name: 'a' }] });
    await sim.runUntilIdle();
    const pending = await sim.triggerRun({ repo: 'api', event: 'pull_request', branch: 'feat', jobs: [{ name: 'a' }] });
    const ids = async (q: string) =>
      ((await (await get(sim, `/repos/octo-org/api/actions/runs?${q}`)).json()) as { workflow_runs: { id: number }[] }).workflow_runs.map((r) => r.id);
    expect(await ids('status=success')).toEqual([ok.runId]);
    expect(await ids('status=completed')).toEqual([ok.runId]);
    expect(await ids('status=queued')).toEqual([pending.runId]);
    expect(await ids('event=pull_request')).toEqual([pending.runId]);
    expect(await ids('branch=main')).toEqual([ok.runId]);
    const sha = sim.world.runs().find((r) => r.id === ok.runId)!.sha;
    expect(await ids(`head_sha=${sha}`)).toEqual([ok.runId]);
    expect(await ids('created=>=2026-11-24T15:00:00Z')).toHaveLength(2);
    expect(await ids('created=<2026-11-24')).toEqual([]);
    expect(await ids('created=2026-11-24')).toHaveLength(2);
    expect(await ids('created=2026-11-20..2026-11-23')).toEqual([]);
    expect(await ids('created=2026-11-20..*')).toHaveLength(2);
  });
});

describe('errors, auth and faults', () => {
  it('rejects a wrong token with 401 Bad credentials and accepts token/Bearer forms', async () => {
    const sim = await boot({ token: 'sekrit', history: 0 });
    const bad = await get(sim, '/repos/octo-org/api', { authorization: 'token nope' });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });
    expect((await get(sim, '/repos/octo-org/api')).status).toBe(401);
    expect((await get(sim, '/repos/octo-org/api', { authorization: 'token sekrit' })).status).toBe(200);
    expect((await get(sim, '/repos/octo-org/api', { authorization: 'Bearer sekrit' })).status).toBe(200);
  });

  it('answers unknown paths with GitHub\'s 404 body and unknown API versions with 400', async () => {
    const sim = await boot({ history: 0 });
    const res = await get(sim, '/repos/octo-org/nope/actions/runs');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
    expect((await get(sim, '/repos/octo-org/api/actions/runs/1')).status).toBe(404);
    expect((await get(sim, '/repos/octo-org/api', { 'x-github-api-version': '1999-01-01' })).status).toBe(400);
    expect((await get(sim, '/repos/octo-org/api', { 'x-github-api-version': '2022-11-28' })).status).toBe(200);
  });

  it('injects status faults on matching paths and records them', async () => {
    const sim = await boot({ history: 0 });
    sim.setFault({ status: 429, match: /\/actions\/runs/, retryAfterSeconds: 7 });
    const res = await get(sim, '/repos/octo-org/api/actions/runs');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect((await get(sim, '/repos/octo-org/api')).status).toBe(200);
    sim.setFault({ status: 502, body: { message: 'Server Error' } });
    const e = await get(sim, '/orgs/octo-org/actions/runners');
    expect([e.status, await e.json()]).toEqual([502, { message: 'Server Error' }]);
    sim.setFault(null);
    expect((await get(sim, '/orgs/octo-org/actions/runners')).status).toBe(200);
    expect(sim.requests.map((r) => r.status)).toEqual([429, 200, 502, 200]);
    sim.resetRequests();
    expect(sim.requests).toEqual([]);
  });

  it('hangs matching requests until the client gives up, and stop() still returns', async () => {
    const sim = await boot({ history: 0 });
    sim.setFault({ hang: true, match: /runners/ });
    const started = Date.now();
    await expect(get(sim, '/orgs/octo-org/actions/runners', {}, AbortSignal.timeout(150))).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect((await get(sim, '/repos/octo-org/api')).status).toBe(200);
    // A second hung request is still open when the simulator stops.
    void get(sim, '/orgs/octo-org/actions/runners').catch(() => undefined);
    await waitFor(() => sim.requests.filter((r) => r.status === 0).length === 2, 3000, 'the second request to be held');
    await sim.stop();
    await expect(get(sim, '/repos/octo-org/api')).rejects.toThrow();
  });
});

describe('webhook delivery', () => {
  it('delivers in order, records failures, and redelivers with the same id and body', async () => {
    const hook = await receiver();
    const sim = await boot({ history: 0, webhook: { url: hook.url, secret: 's' } });
    const { runId } = await sim.triggerRun({ repo: 'api', jobs: [{ name: 'a', steps: ['x'] }] });
    expect(sim.deliveries.map((d) => `${d.event}.${d.action}`)).toEqual(['workflow_run.requested', 'workflow_job.queued']);
    hook.status = 500;
    await sim.runUntilIdle();
    expect(sim.deliveries.map((d) => `${d.event}.${d.action}:${d.status}`)).toEqual([
      'workflow_run.requested:200', 'workflow_job.queued:200',
      'workflow_run.in_progress:500', 'workflow_job.in_progress:500',
      'workflow_job.completed:500', 'workflow_run.completed:500',
    ]);
    const failed = sim.deliveries[5]!;
    expect(JSON.parse(failed.body)).toMatchObject({ action: 'completed', workflow_run: { id: runId, status: 'completed', conclusion: 'success' } });
    hook.status = 202;
    expect(await sim.redeliver(failed.id)).toBe(202);
    const again = hook.received.at(-1)!;
    expect(again.body).toBe(failed.body);
    expect(again.headers['x-github-delivery']).toBe(failed.id);
    expect(sim.deliveries.at(-1)).toMatchObject({ id: failed.id, status: 202, redelivery: true });
    await expect(sim.redeliver('no-such-id')).rejects.toThrow();
  });

  it('records an unreachable receiver as an error and keeps going', async () => {
    const sim = await boot({ history: 0, webhook: { url: 'http://127.0.0.1:1/hook', secret: 's' } });
    await sim.triggerRun({ repo: 'api', jobs: [{ name: 'a' }] });
    expect(sim.deliveries.map((d) => d.status)).toEqual(['error', 'error']);
  });
});

describe('determinism and autoplay', () => {
  it('builds the same world from the same seed', async () => {
    const make = () => createGithubSimulator({ seed: 99, now: () => FIXED_NOW }).world.runs().map((r) => [r.id, r.sha, r.conclusion]);
    expect(make()).toEqual(make());
  });

  it('autoplay produces live runs and webhooks within a few ticks and stops cleanly', async () => {
    const hook = await receiver();
    const sim = await boot({ seed: 3, history: 1, webhook: { url: hook.url, secret: 's' } });
    const before = sim.world.runs().length;
    sim.autoplay({ intervalMs: 5 });
    await new Promise((r) => setTimeout(r, 400));
    sim.stopAutoplay();
    expect(sim.world.runs().length).toBeGreaterThan(before);
    const actions = new Set(sim.deliveries.map((d) => `${d.event}.${d.action}`));
    expect(actions.has('workflow_run.requested')).toBe(true);
    expect(actions.has('workflow_job.in_progress')).toBe(true);
    // The tick in flight at stop may still finish its deliveries; nothing new starts after that.
    await new Promise((r) => setTimeout(r, 50));
    const count = sim.deliveries.length;
    await new Promise((r) => setTimeout(r, 50));
    expect(sim.deliveries.length).toBe(count);
  });
});
