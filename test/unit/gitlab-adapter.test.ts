import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import gitlabAdapter from '../../adapters/gitlab/index.ts';
import { createGitlabSimulator, type GitlabSimulator } from '../../adapters/gitlab/simulator/index.ts';
import type { BackendAdapter } from '../../src/adapter-contract.ts';

describe('GitLab adapter polling and batching against the simulator', () => {
  let sim: GitlabSimulator;
  let adapter: BackendAdapter;
  beforeAll(async () => {
    sim = createGitlabSimulator({ token: 't0k', seed: 3, history: 2 });
    await sim.start();
    const config = gitlabAdapter.configSchema.parse({ url: sim.url, token: { value: 't0k' }, groups: ['platform'], pollIntervalSeconds: 1 });
    adapter = gitlabAdapter.create(config, {
      name: 'gl', log: pino({ level: 'silent' }), now: () => new Date(),
      health: { success() {}, failure() {}, rateLimit() {} },
      secret: (ref) => (ref && 'value' in ref ? ref.value : undefined),
    });
  });
  afterAll(async () => {
    await adapter.dispose();
    await sim.stop();
  });

  it('should poll everything once, then cost one pipelines call per idle project plus the runner listing', async () => {
    const first = await adapter.poll!();
    expect(first.entities.some((e) => e.type === 'Pipeline')).toBe(true);
    expect(first.entities.some((e) => e.type === 'Job')).toBe(true);
    expect(first.entities.some((e) => e.type === 'Runner')).toBe(true);
    sim.resetRequests();
    const idle = await adapter.poll!();
    expect(idle.entities.filter((e) => e.type !== 'Runner')).toEqual([]);
    const paths = sim.requests.map((r) => r.path.split('?')[0]);
    expect(paths.filter((p) => p?.endsWith('/pipelines'))).toHaveLength(3);
    expect(sim.requests.every((r) => /\/pipelines\?|\/runners(\?|$)/.test(r.path)), JSON.stringify(paths)).toBe(true);
  });

  it('should pick up a new pipeline and its jobs on the next poll', async () => {
    await sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'compile', stage: 'build' }] });
    await sim.runUntilIdle();
    const res = await adapter.poll!();
    expect(res.entities.some((e) => e.type === 'Job' && e.name === 'compile' && e.status === 'SUCCESS')).toBe(true);
  });

  it('should map a retried job to its latest attempt in jobsOfPipelines', async () => {
    const { pipelineId, jobIds } = await sim.triggerPipeline({ project: 'frontend', jobs: [{ name: 'e2e', stage: 'test', outcome: 'failed' }] });
    await sim.runUntilIdle();
    const { jobId } = await sim.retryJob(jobIds[0]!);
    await sim.runUntilIdle();
    const projectId = sim.world.projects().find((p) => p.path === 'frontend')!.id;
    const older = sim.world.pipelines('frontend').find((p) => p.id !== pipelineId)!;
    const [jobs, olderJobs] = await adapter.batch.jobsOfPipelines([`${projectId}/pipelines/${pipelineId}`, `${projectId}/pipelines/${older.id}`]);
    expect(jobs).not.toBeInstanceOf(Error);
    const e2e = (jobs as readonly { name: string; nativeId: string; status: string }[]).filter((j) => j.name === 'e2e');
    expect(e2e).toEqual([expect.objectContaining({ nativeId: `${projectId}/jobs/${jobId}`, status: 'SUCCESS' })]);
    expect((olderJobs as unknown[]).length).toBeGreaterThan(0);
  });

  it('should return nextPollAfterMs and send nothing while rate limited', async () => {
    sim.setFault({ status: 429, retryAfterSeconds: 40, body: 'Retry later' });
    const limited = await adapter.poll!();
    expect(limited.entities).toEqual([]);
    // Retry-After: 40 s, measured from when the 429 arrived (a millisecond may have passed).
    expect(limited.nextPollAfterMs).toBeGreaterThan(39_000);
    expect(limited.nextPollAfterMs).toBeLessThanOrEqual(40_000);
    sim.setFault(null);
    sim.resetRequests();
    const res = await adapter.poll!();
    expect(res.entities).toEqual([]);
    expect(res.nextPollAfterMs).toBeGreaterThan(30_000);
    expect(sim.requests).toEqual([]);
  });
});

describe('GitLab pipeline display names without extra requests', () => {
  let sim: GitlabSimulator;
  const adapters: BackendAdapter[] = [];
  const make = (extra: Record<string, unknown> = {}): BackendAdapter => {
    const config = gitlabAdapter.configSchema.parse({ url: sim.url, token: { value: 't0k' }, groups: ['platform'], ...extra });
    const adapter = gitlabAdapter.create(config, {
      name: 'gl', log: pino({ level: 'silent' }), now: () => new Date(),
      health: { success() {}, failure() {}, rateLimit() {} },
      secret: (ref) => (ref && 'value' in ref ? ref.value : undefined),
    });
    adapters.push(adapter);
    return adapter;
  };
  beforeAll(async () => {
    sim = createGitlabSimulator({ token: 't0k', seed: 5, history: 1 });
    await sim.start();
  });
  afterAll(async () => {
    for (const a of adapters) await a.dispose();
    await sim.stop();
  });

  it('should name an unnamed pipeline by its commit title once jobs or hooks told it, else by its ref', async () => {
    const { pipelineId } = await sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'compile', stage: 'build' }] });
    await sim.runUntilIdle();
    const p = sim.world.pipelines('backend').find((x) => x.id === pipelineId)!;
    expect(p.name).toBeNull();
    const title = p.message.split('\n')[0]!;
    const projectId = String(p.projectId);
    const id = `${projectId}/pipelines/${pipelineId}`;
    const listed = async (a: BackendAdapter) => (await a.listPipelines({ projectNativeIds: [projectId], limit: 5 })).find((x) => x.nativeId === id)?.name;

    // Nothing read its commit yet: the ref. Reading its jobs (which carry commit.title) teaches the title, at no extra request.
    const reader = make();
    expect(await listed(reader)).toBe('main');
    await reader.batch.jobsOfPipelines([id]);
    sim.resetRequests();
    expect(await listed(reader)).toBe(title);
    const [single] = await reader.batch.pipelines([id]);
    expect((single as { name: string }).name).toBe(title);
    expect(sim.requests.filter((r) => /\/commits?\b/.test(r.path))).toEqual([]);

    // A poll emits pipelines after reading their jobs: titled from the first cycle.
    const poller = make();
    const polled = (await poller.poll!()).entities.find((e) => e.type === 'Pipeline' && e.nativeId === id);
    expect(polled).toMatchObject({ name: title, native: { conclusion: 'success' } });

    // A Pipeline Hook teaches the title to later REST reads of the same commit, so sources agree.
    const hooked = make({ webhookToken: { value: 'hook-secret' } });
    const hook = {
      object_kind: 'pipeline',
      object_attributes: { id: pipelineId, iid: p.iid, name: null, ref: p.ref, sha: p.sha, status: 'success', detailed_status: 'passed', created_at: p.createdAt },
      project: { id: p.projectId, path_with_namespace: `platform/backend` },
      commit: { id: p.sha, message: p.message, title },
      builds: [],
    };
    const request = { headers: { 'x-gitlab-event': 'Pipeline Hook', 'x-gitlab-token': 'hook-secret' }, rawBody: Buffer.from(JSON.stringify(hook)) };
    const [fromHook] = hooked.webhook!.normalize(request, hook);
    expect(fromHook).toMatchObject({ type: 'Pipeline', name: title });
    expect(await listed(hooked)).toBe(title);
  });
});
