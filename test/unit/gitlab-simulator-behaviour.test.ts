/**
 * Behaviour of the GitLab simulator that the adapter and integration tests rely
 * on: auth, offset and keyset pagination, filters, RateLimit headers, faults
 * and hangs, runner tag matching and queueing, retries, redelivery,
 * determinism by seed, autoplay and a clean stop().
 */
import { describe, expect, it } from 'vitest';
import { createGitlabSimulator, type GitlabSimulator, type GitlabSimulatorOptions } from '../../adapters/gitlab/simulator/index.ts';
import * as S from '../fixtures/gitlab/schemas.ts';
import { simHarness } from '../helpers/sim-harness.ts';
import { waitFor } from '../helpers/stack.ts';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.ts';

const FIXED_NOW = new Date('2026-11-24T15:00:00Z');
const TOKEN = 'glpat-x';
const { boot, closing } = simHarness((opts: GitlabSimulatorOptions = {}): GitlabSimulator => createGitlabSimulator({ seed: 1, ...opts }));
const receiver = (): Promise<Receiver> => closing(startReceiver());

function get(sim: GitlabSimulator, path: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(path.startsWith('http') ? path : sim.url + path, { headers, ...(signal ? { signal } : {}) });
}

async function json<T>(sim: GitlabSimulator, path: string): Promise<T> {
  const res = await get(sim, path);
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

describe('auth and addressing', () => {
  it('answers 401 without a valid PRIVATE-TOKEN or Bearer token', async () => {
    const sim = await boot({ token: TOKEN, history: 1 });
    const none = await get(sim, '/projects/platform%2Fbackend');
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ message: '401 Unauthorized' });
    expect((await get(sim, '/projects/platform%2Fbackend', { 'PRIVATE-TOKEN': 'wrong' })).status).toBe(401);
    expect((await get(sim, '/projects/platform%2Fbackend', { 'PRIVATE-TOKEN': TOKEN })).status).toBe(200);
    expect((await get(sim, '/projects/platform%2Fbackend', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect(sim.requests.map((r) => r.status)).toEqual([401, 401, 200, 200]);
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v4$/);
  });

  it('finds projects by numeric id or URL-encoded path, and 404s like GitLab', async () => {
    const sim = await boot({ history: 1 });
    const byPath = await json<{ id: number; path_with_namespace: string }>(sim, '/projects/platform%2Ffrontend');
    expect(byPath.path_with_namespace).toBe('platform/frontend');
    expect((await json<{ id: number }>(sim, `/projects/${byPath.id}`)).id).toBe(byPath.id);
    const missing = await get(sim, '/projects/platform%2Fnope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ message: '404 Project Not Found' });
    expect((await get(sim, `/projects/${byPath.id}/pipelines/1`)).status).toBe(404);
    const group = await json<{ id: number }[]>(sim, '/groups/platform/projects?include_subgroups=true');
    expect(group.map((p) => p.id)).toContain(byPath.id);
    expect((await json<unknown[]>(sim, '/projects?membership=true')).length).toBe(3);
  });
});

describe('pagination and filters', () => {
  it('offset pagination sends X-Total, X-Page, X-Next-Page, X-Per-Page and Link', async () => {
    const sim = await boot({ history: 5, now: () => FIXED_NOW });
    const first = await get(sim, '/projects/platform%2Fbackend/pipelines?per_page=2');
    const h = (k: string) => first.headers.get(k);
    expect([h('x-total'), h('x-total-pages'), h('x-page'), h('x-per-page'), h('x-next-page'), h('x-prev-page')]).toEqual(['5', '3', '1', '2', '2', '']);
    expect(h('link')).toContain('rel="next"');
    expect(h('link')).toContain('rel="last"');
    expect(h('link')).not.toContain('rel="prev"');
    const all: number[] = [];
    let next: string | undefined = `${sim.url}/projects/platform%2Fbackend/pipelines?per_page=2`;
    while (next) {
      const res = await get(sim, next);
      all.push(...((await res.json()) as { id: number }[]).map((p) => p.id));
      next = /<([^>]+)>; rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
    }
    expect(all).toHaveLength(5);
    expect([...all].sort((a, b) => b - a)).toEqual(all);
    const last = await get(sim, '/projects/platform%2Fbackend/pipelines?per_page=2&page=3');
    expect([last.headers.get('x-next-page'), last.headers.get('x-prev-page')]).toEqual(['', '2']);
    // Default page size is 20.
    expect((await get(sim, '/projects/platform%2Fbackend/jobs')).headers.get('x-per-page')).toBe('20');
  });

  it('keyset pagination on project jobs follows Link rel="next" until it disappears', async () => {
    const sim = await boot({ history: 3 });
    const everything = await json<{ id: number }[]>(sim, '/projects/platform%2Fbackend/jobs?per_page=100');
    expect(everything.length).toBeGreaterThan(7);
    const ids: number[] = [];
    let next: string | undefined = `${sim.url}/projects/platform%2Fbackend/jobs?pagination=keyset&order_by=id&sort=desc&per_page=3`;
    let pages = 0;
    while (next) {
      const res = await get(sim, next);
      expect(res.headers.get('x-total')).toBeNull();
      const page = (await res.json()) as { id: number }[];
      expect(page.length).toBeLessThanOrEqual(3);
      ids.push(...page.map((j) => j.id));
      next = /<([^>]+)>; rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
      if (next) expect(next).toContain('cursor=');
      pages++;
    }
    expect(pages).toBe(Math.ceil(everything.length / 3));
    expect(ids).toEqual(everything.map((j) => j.id));
    expect((await get(sim, '/projects/platform%2Fbackend/jobs?pagination=keyset&order_by=id&sort=asc')).status).toBe(405);
  });

  it('filters pipelines (status, ref, scope, source, created_after) and jobs by scope[]', async () => {
    const sim = await boot({ history: 2, now: () => FIXED_NOW });
    const { pipelineId } = await sim.triggerPipeline({ project: 'backend', ref: 'feature/a', jobs: [{ name: 'a', stage: 'build', tags: ['docker'] }], downstream: true });
    const base = '/projects/platform%2Fbackend/pipelines';
    expect((await json<{ id: number }[]>(sim, `${base}?ref=feature/a`)).map((p) => p.id)).toEqual([pipelineId]);
    expect((await json<{ id: number }[]>(sim, `${base}?status=created`)).map((p) => p.id)).toEqual([pipelineId]);
    expect((await json<unknown[]>(sim, `${base}?scope=finished`)).length).toBe(2);
    expect((await json<unknown[]>(sim, `${base}?created_after=${encodeURIComponent(FIXED_NOW.toISOString())}`)).length).toBe(1);
    expect((await get(sim, `${base}?status=bogus`)).status).toBe(400);
    const asc = await json<{ id: number }[]>(sim, `${base}?sort=asc`);
    expect(asc.map((p) => p.id)).toEqual([...asc.map((p) => p.id)].sort((a, b) => a - b));
    await sim.runUntilIdle();
    // Child pipelines are listed only with source=parent_pipeline.
    const children = await json<{ id: number; source: string }[]>(sim, `${base}?source=parent_pipeline`);
    expect(children).toHaveLength(1);
    expect((await json<{ id: number }[]>(sim, base)).map((p) => p.id)).not.toContain(children[0]?.id);
    const bridges = await json<{ downstream_pipeline: { id: number } }[]>(sim, `${base}/${pipelineId}/bridges`);
    expect(bridges[0]?.downstream_pipeline.id).toBe(children[0]?.id);
    const child = sim.world.pipelines().find((p) => p.id === children[0]?.id);
    expect(child?.parent?.pipelineId).toBe(pipelineId);
    const jobs = await json<{ status: string }[]>(sim, `/projects/platform%2Fbackend/jobs?scope[]=success&scope[]=failed`);
    expect(jobs.every((j) => ['success', 'failed'].includes(j.status))).toBe(true);
    expect((await get(sim, '/projects/platform%2Fbackend/jobs?scope[]=nope')).status).toBe(400);
  });

  it('RateLimit headers count requests in a one-minute window', async () => {
    const sim = await boot({ history: 0, now: () => FIXED_NOW });
    const a = await get(sim, '/projects/platform%2Fbackend');
    const b = await get(sim, '/projects/platform%2Fbackend');
    expect(a.headers.get('ratelimit-limit')).toBe('2000');
    expect(a.headers.get('ratelimit-name')).toBe('throttle_authenticated_api');
    expect([a.headers.get('ratelimit-observed'), b.headers.get('ratelimit-observed')]).toEqual(['1', '2']);
    expect([a.headers.get('ratelimit-remaining'), b.headers.get('ratelimit-remaining')]).toEqual(['1999', '1998']);
    expect(Number(a.headers.get('ratelimit-reset'))).toBe(FIXED_NOW.getTime() / 1000 + 60);
  });
});

describe('faults', () => {
  it('injects 429 with Retry-After and plain "Retry later", matching only some paths', async () => {
    const sim = await boot({ history: 1 });
    sim.setFault({ status: 429, retryAfterSeconds: 30, match: /\/pipelines/ });
    const limited = await get(sim, '/projects/platform%2Fbackend/pipelines');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('30');
    expect(await limited.text()).toBe('Retry later\n');
    expect((await get(sim, '/projects/platform%2Fbackend')).status).toBe(200);
    sim.setFault({ status: 503 });
    expect((await get(sim, '/runners/all')).status).toBe(503);
    sim.setFault(null);
    expect((await get(sim, '/runners/all')).status).toBe(200);
  });

  it('hangs requests until the client gives up; stop() releases them', async () => {
    const sim = createGitlabSimulator({ seed: 2, history: 0 });
    await sim.start();
    sim.setFault({ hang: true });
    const pending = get(sim, '/runners/all', {}, AbortSignal.timeout(100));
    await expect(pending).rejects.toThrow();
    const stuck = get(sim, '/runners/all').catch((e: unknown) => e);
    await waitFor(() => sim.requests.length === 2, 3000, 'the second request to be held');
    expect(sim.requests.map((r) => r.status)).toEqual([0, 0]);
    await sim.stop();
    expect(await stuck).toBeInstanceOf(Error);
    await expect(fetch(`${sim.url}/runners/all`)).rejects.toThrow();
  });
});

describe('runners and scheduling', () => {
  it('a job waits pending until an online, unpaused runner with all its tags is free', async () => {
    const sim = await boot({
      now: () => FIXED_NOW,
      history: 0,
      runners: [
        { description: 'gpu-1', tags: ['docker', 'gpu'], type: 'group_type' },
        { description: 'cpu-1', tags: ['docker'], type: 'instance_type', runUntagged: false },
        { description: 'gpu-2', tags: ['docker', 'gpu'], type: 'instance_type', online: false },
        { description: 'fe-gpu', tags: ['docker', 'gpu'], type: 'project_type', projects: ['frontend'] },
      ],
    });
    const a = await sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'train', stage: 'test', tags: ['gpu'] }] });
    const b = await sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'train', stage: 'test', tags: ['docker', 'gpu'] }] });
    const c = await sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'untagged', stage: 'test' }] });
    for (let i = 0; i < 4; i++) await sim.step(); // process a, b, c; start a
    const status = (id: number) => sim.world.jobs(id)[0]?.status;
    const runnerOf = (id: number) => sim.world.runners().find((r) => r.id === sim.world.jobs(id)[0]?.runnerId)?.description;
    // b waits for a free gpu runner; c waits too: cpu-1 does not run untagged jobs, fe-gpu serves only frontend, gpu-2 is offline.
    expect([status(a.pipelineId), status(b.pipelineId), status(c.pipelineId)]).toEqual(['running', 'pending', 'pending']);
    expect(runnerOf(a.pipelineId)).toBe('gpu-1');

    const gpu1 = sim.world.runners().find((r) => r.description === 'gpu-1');
    const busy = await json<{ id: number }[]>(sim, `/runners/${gpu1?.id}/jobs?status=running`);
    expect(busy.map((j) => j.id)).toEqual([sim.world.jobs(a.pipelineId)[0]?.id]);
    const detail = await json<{ job_execution_status: string; status: string }>(sim, `/runners/${gpu1?.id}`);
    expect(detail).toMatchObject({ status: 'online', job_execution_status: 'active' });

    // Bringing gpu-2 online lets the queued job start at once.
    sim.setRunnerStatus('gpu-2', { online: true });
    await sim.step();
    expect(status(b.pipelineId)).toBe('running');
    expect(runnerOf(b.pipelineId)).toBe('gpu-2');

    // Paused runners keep their status `paused` (REST) and take nothing.
    sim.setRunnerStatus('gpu-1', { paused: true });
    await sim.runUntilIdle();
    const d = await sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'again', stage: 'test', tags: ['gpu'] }] });
    sim.setRunnerStatus('gpu-2', { online: false });
    await sim.runUntilIdle();
    expect(status(d.pipelineId)).toBe('pending');
    expect(status(c.pipelineId)).toBe('success');
    expect(runnerOf(c.pipelineId)).toBe('gpu-2');
    const paused = await json<{ status: string; paused: boolean; active: boolean }>(sim, `/runners/${gpu1?.id}`);
    expect(paused).toMatchObject({ status: 'paused', paused: true, active: false });
    expect((await json<unknown[]>(sim, '/runners/all?paused=true')).length).toBe(1);
    expect((await json<{ description: string }[]>(sim, '/runners/all?tag_list=docker,gpu&status=offline')).map((r) => r.description)).toEqual(['gpu-2']);
    expect((await json<{ description: string }[]>(sim, '/runners/all?type=project_type')).map((r) => r.description)).toEqual(['fe-gpu']);
    const projectRunners = await json<{ description: string }[]>(sim, '/projects/platform%2Fbackend/runners');
    expect(projectRunners.map((r) => r.description)).not.toContain('fe-gpu');
    expect((await json<{ description: string }[]>(sim, '/runners')).map((r) => r.description)).toEqual(['gpu-1', 'fe-gpu']);
  });

  it('a runner with concurrent > 1 runs that many jobs at once; job_execution_status is active until the last ends', async () => {
    const sim = await boot({ history: 0, runners: [{ description: 'scaler', tags: ['scale'], type: 'instance_type', concurrent: 2, runUntagged: false }] });
    const jobs = [1, 2, 3].map((n) => ({ name: `shard-${n}`, stage: 'test', tags: ['scale'] }));
    await sim.triggerPipeline({ project: 'backend', jobs });
    for (let i = 0; i < 3; i++) await sim.step(); // process; two start, the third waits for a slot
    const statusOf = () => sim.world.jobs().map((j) => [j.name, j.status]);
    expect(statusOf()).toEqual([['shard-1', 'running'], ['shard-2', 'running'], ['shard-3', 'pending']]);
    const scaler = sim.world.runners()[0]!;
    expect((await json<{ id: number }[]>(sim, `/runners/${scaler.id}/jobs?status=running`)).length).toBe(2);
    const executionStatus = async () => [
      (await json<{ job_execution_status: string }>(sim, `/runners/${scaler.id}`)).job_execution_status,
      ...(await json<{ job_execution_status: string }[]>(sim, '/runners/all')).map((r) => r.job_execution_status),
    ];
    expect(await executionStatus()).toEqual(['active', 'active']);
    await sim.finishJob(sim.world.jobs()[0]!.id); // a slot frees: shard-3 can start
    await sim.step();
    expect(statusOf()).toEqual([['shard-1', 'success'], ['shard-2', 'running'], ['shard-3', 'running']]);
    expect(await executionStatus()).toEqual(['active', 'active']);
    await sim.runUntilIdle();
    expect(await executionStatus()).toEqual(['idle', 'idle']);
  });

  it('retrying a job creates a new id; the old one is listed only with include_retried', async () => {
    const sim = await boot({ history: 0 });
    const hook = await receiver();
    sim.setWebhook({ url: hook.url, token: 't' });
    const { pipelineId, jobIds } = await sim.triggerPipeline({
      project: 'backend',
      jobs: [{ name: 'unit', stage: 'test', tags: ['docker'], outcome: 'failed' }, { name: 'ship', stage: 'deploy', tags: ['docker'] }],
    });
    await sim.runUntilIdle();
    expect(sim.world.pipelines()[0]?.status).toBe('failed');
    expect(sim.world.jobs(pipelineId).map((j) => j.status)).toEqual(['failed', 'skipped']);
    const { jobId } = await sim.retryJob(jobIds[0] ?? 0);
    expect(jobId).toBeGreaterThan(jobIds[1] ?? 0);
    await sim.runUntilIdle();
    const base = `/projects/platform%2Fbackend/pipelines/${pipelineId}/jobs`;
    const latest = await json<{ id: number; name: string; status: string }[]>(sim, base);
    expect(latest.map((j) => [j.name, j.status])).toEqual([['unit', 'success'], ['ship', 'success']]);
    expect(latest[0]?.id).toBe(jobId);
    const all = await json<{ id: number }[]>(sim, `${base}?include_retried=true`);
    expect(all.map((j) => j.id)).toContain(jobIds[0]);
    expect(sim.world.jobs().find((j) => j.id === jobIds[0])?.retried).toBe(true);
    expect(sim.world.pipelines()[0]?.status).toBe('success');
    const retryHooks = hook.received.map((d) => JSON.parse(d.body) as { build_id?: number; retries_count?: number }).filter((b) => b.build_id === jobId);
    expect(retryHooks.length).toBeGreaterThan(0);
    expect(retryHooks.every((b) => b.retries_count === 1)).toBe(true);
  });
});

describe('webhooks', () => {
  it('redelivery keeps Idempotency-Key, X-Gitlab-Event-UUID and the body; X-Gitlab-Webhook-UUID is new', async () => {
    const hook = await receiver();
    const sim = await boot({ history: 0, webhook: { url: hook.url, token: 'secret', signingToken: `whsec_${Buffer.from('k'.repeat(32)).toString('base64')}` } });
    await sim.triggerPipeline({ project: 'deploy', jobs: [{ name: 'apply', stage: 'deploy', tags: ['docker'] }] });
    await sim.runUntilIdle();
    const first = sim.deliveries[0];
    if (!first) throw new Error('no delivery');
    hook.status = 500;
    expect(await sim.redeliver(first.id)).toBe(500);
    const again = hook.received[hook.received.length - 1];
    const orig = hook.received[0];
    expect(again?.body).toBe(orig?.body);
    expect(again?.headers['idempotency-key']).toBe(orig?.headers['idempotency-key']);
    expect(again?.headers['webhook-id']).toBe(orig?.headers['idempotency-key']);
    expect(again?.headers['x-gitlab-event-uuid']).toBe(orig?.headers['x-gitlab-event-uuid']);
    expect(again?.headers['x-gitlab-webhook-uuid']).not.toBe(orig?.headers['x-gitlab-webhook-uuid']);
    expect(sim.deliveries[sim.deliveries.length - 1]).toMatchObject({ id: first.id, redelivery: true, status: 500 });
    await expect(sim.redeliver('nope')).rejects.toThrow();
  });

  it('sends Job Hooks before the Pipeline Hook they cause, one at a time', async () => {
    const hook = await receiver();
    const sim = await boot({ history: 0, webhook: { url: hook.url, token: 't' } });
    await sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'a', stage: 'build', tags: ['docker'] }, { name: 'b', stage: 'test', tags: ['docker'] }] });
    await sim.runUntilIdle();
    const seq = hook.received.map((d) => {
      const b = JSON.parse(d.body) as { object_kind: string; build_name?: string; build_status?: string; object_attributes?: { status: string } };
      return b.object_kind === 'build' ? `${b.build_name}:${b.build_status}` : `pipeline:${b.object_attributes?.status}`;
    });
    expect(seq).toEqual([
      'a:created', 'b:created',
      'a:pending', 'pipeline:pending',
      'a:running', 'pipeline:running',
      'a:success', 'b:pending',
      'b:running',
      'b:success', 'pipeline:success',
    ]);
    expect(hook.received.every((d) => d.headers['webhook-signature'] === undefined)).toBe(true);
  });
});

describe('determinism, autoplay and stop', () => {
  it('the same seed and clock give the same world and the same REST bodies', async () => {
    const a = await boot({ seed: 42, now: () => FIXED_NOW, history: 2 });
    const b = await boot({ seed: 42, now: () => FIXED_NOW, history: 2 });
    const c = await boot({ seed: 43, now: () => FIXED_NOW, history: 2 });
    const strip = (s: string, sim: GitlabSimulator) => s.split(sim.webUrl).join('');
    const body = async (sim: GitlabSimulator) => strip(await (await get(sim, '/projects/platform%2Fbackend/jobs?per_page=100')).text(), sim);
    expect(await body(a)).toBe(await body(b));
    expect(await body(a)).not.toBe(await body(c));
    for (const sim of [a, b]) {
      await sim.triggerPipeline({ project: 'frontend', jobs: [{ name: 'x', stage: 's', tags: ['docker'] }] });
      await sim.runUntilIdle();
    }
    expect(a.world.pipelines().map((p) => [p.id, p.sha, p.status])).toEqual(b.world.pipelines().map((p) => [p.id, p.sha, p.status]));
  });

  it('autoplay produces schema-valid traffic and stops cleanly', async () => {
    const hook = await receiver();
    const sim = createGitlabSimulator({ seed: 11, history: 1, webhook: { url: hook.url, token: 't' } });
    await sim.start();
    sim.autoplay({ intervalMs: 2 });
    await new Promise((r) => setTimeout(r, 400));
    sim.stopAutoplay();
    await sim.stop();
    const count = sim.deliveries.length;
    expect(count).toBeGreaterThan(20);
    for (const d of sim.deliveries) {
      const schema = d.event === 'Job Hook' ? S.jobHook : S.pipelineHook;
      const r = schema.safeParse(JSON.parse(d.body));
      expect(r.success, r.success ? '' : JSON.stringify(r.error.issues.slice(0, 3))).toBe(true);
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(sim.deliveries.length).toBe(count);
    await expect(fetch(`${sim.url}/runners/all`)).rejects.toThrow();
  });
});
