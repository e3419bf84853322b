/**
 * Faithfulness of the GitLab simulator: REST responses and webhook bodies
 * match the documented GitLab shapes (test/fixtures/gitlab/schemas.ts, written
 * from gitlabhq doc/api/*.md and webhook_events.md) in every state, all 13
 * job/pipeline statuses are produced, and the documented webhook quirks and
 * headers (commit.id = pipeline id, unknown_failure, X-Gitlab-Token,
 * Idempotency-Key, Standard Webhooks signature) hold.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { createGitlabSimulator, standardWebhookSignature, type GitlabSimulator } from '../../adapters/gitlab/simulator/index.ts';
import * as S from '../fixtures/gitlab/schemas.ts';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.ts';

const TOKEN = 'glpat-simulated';
const HOOK_TOKEN = 'hook-secret';
const SIGNING = `whsec_${randomBytes(32).toString('base64')}`;
const ALL = S.STATUS.options;

function expectShape<T extends z.ZodTypeAny>(schema: T, data: unknown, what: string): z.infer<T> {
  const r = schema.safeParse(data);
  expect(r.success, `${what}: ${r.success ? '' : JSON.stringify(r.error.issues.slice(0, 5))}`).toBe(true);
  return r.success ? r.data : (undefined as never);
}

async function getJson(sim: GitlabSimulator, path: string): Promise<unknown> {
  const res = await fetch(sim.url + path, { headers: { 'PRIVATE-TOKEN': TOKEN } });
  expect(res.status, path).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json');
  return res.json();
}

/** Standard Webhooks verification, written from the spec (not with the simulator's helper). */
function verifyStandard(secret: string, headers: Record<string, string | string[] | undefined>, body: string): boolean {
  const id = String(headers['webhook-id']);
  const ts = String(headers['webhook-timestamp']);
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest();
  return String(headers['webhook-signature']).split(' ').some((sig) => {
    const [version, b64 = ''] = sig.split(',');
    const got = Buffer.from(b64, 'base64');
    return version === 'v1' && got.length === expected.length && timingSafeEqual(got, expected);
  });
}

describe('gitlab simulator faithfulness', () => {
  let sim: GitlabSimulator;
  let receiver: Receiver;
  const seen = { pipeline: new Set<string>(), job: new Set<string>(), hookPipeline: new Set<string>(), hookJob: new Set<string>(), runner: new Set<string>() };
  const watched = new Set<number>();

  beforeAll(async () => {
    receiver = await startReceiver();
    sim = createGitlabSimulator({
      seed: 7,
      token: TOKEN,
      webhook: { url: receiver.url, token: HOOK_TOKEN, signingToken: SIGNING },
      projects: ['backend', 'frontend'],
      history: 1,
      runners: [
        { description: 'docker-1', tags: ['docker', 'linux'], type: 'instance_type' },
        { description: 'docker-2', tags: ['docker', 'linux'], type: 'group_type' },
        { description: 'gpu-paused', tags: ['gpu'], type: 'project_type', paused: true },
        { description: 'arm-offline', tags: ['arm64'], type: 'instance_type', online: false },
        { description: 'mac-new', tags: ['macos'], type: 'instance_type', neverContacted: true },
        { description: 'old-stale', tags: ['docker'], type: 'group_type', stale: true },
      ],
    });
    await sim.start();
  });

  afterAll(async () => {
    await sim.stop();
    await receiver.close();
  });

  const proj = (name: string) => `/projects/${encodeURIComponent(`platform/${name}`)}`;

  async function validate(): Promise<void> {
    for (const name of ['backend', 'frontend']) {
      expectShape(S.project, await getJson(sim, proj(name)), 'project');
      const list = expectShape(S.pipelineListItem.array(), await getJson(sim, `${proj(name)}/pipelines?per_page=100`), 'pipelines');
      const children = expectShape(S.pipelineListItem.array(), await getJson(sim, `${proj(name)}/pipelines?source=parent_pipeline`), 'child pipelines');
      for (const item of [...list, ...children]) {
        if (!watched.has(item.id)) continue;
        const p = expectShape(S.pipeline, await getJson(sim, `${proj(name)}/pipelines/${item.id}`), 'pipeline');
        seen.pipeline.add(p.status);
        if (p.status === 'success' && p.detailed_status.group === 'success-with-warnings') seen.pipeline.add('success-with-warnings');
        const jobs = expectShape(S.job.array(), await getJson(sim, `${proj(name)}/pipelines/${p.id}/jobs?include_retried=true`), 'jobs');
        for (const j of jobs) {
          seen.job.add(j.status);
          expectShape(S.job, await getJson(sim, `${proj(name)}/jobs/${j.id}`), 'job');
          expect(j.pipeline.id).toBe(p.id);
          if (j.status === 'running') expect(j.runner?.job_execution_status).toBe('active');
          if (['created', 'pending', 'manual', 'scheduled', 'waiting_for_resource', 'preparing'].includes(j.status)) expect(j.runner).toBeNull();
        }
        const bridges = expectShape(S.bridge.array(), await getJson(sim, `${proj(name)}/pipelines/${p.id}/bridges`), 'bridges');
        for (const b of bridges) seen.job.add(`bridge:${b.status}`);
      }
      expectShape(S.runnerListItem.array(), await getJson(sim, `${proj(name)}/runners`), 'project runners');
      expectShape(S.job.array(), await getJson(sim, `${proj(name)}/jobs?per_page=100`), 'project jobs');
    }
    const runners = expectShape(S.runnerListItem.array(), await getJson(sim, '/runners/all'), 'runners');
    expectShape(S.runnerListItem.array(), await getJson(sim, '/runners'), 'owned runners');
    expectShape(S.runnerListItem.array(), await getJson(sim, '/groups/platform/runners'), 'group runners');
    for (const r of runners) {
      const d = expectShape(S.runnerDetail, await getJson(sim, `/runners/${r.id}`), 'runner');
      seen.runner.add(`${d.status}/${d.job_execution_status}`);
      expectShape(S.runnerJob.array(), await getJson(sim, `/runners/${r.id}/jobs?status=running`), 'runner jobs');
    }
  }

  async function trigger(input: Parameters<GitlabSimulator['triggerPipeline']>[0]): Promise<{ pipelineId: number; jobIds: number[] }> {
    const r = await sim.triggerPipeline(input);
    watched.add(r.pipelineId);
    return r;
  }

  async function stepAll(): Promise<void> {
    while (await sim.step()) {
      for (const p of sim.world.pipelines()) if (p.parent && watched.has(p.parent.pipelineId)) watched.add(p.id);
      await validate();
    }
  }

  it('REST responses match the documented shapes in every state, and all 13 statuses occur', async () => {
    expect(S.job.safeParse({ id: 'x' }).success).toBe(false);
    await validate();
    await trigger({
      project: 'backend',
      jobs: [
        { name: 'compile', stage: 'build', tags: ['docker'] },
        { name: 'lint', stage: 'test', tags: ['docker'], outcome: 'failed', allowFailure: true },
        { name: 'unit', stage: 'test', tags: ['docker', 'linux'] },
        { name: 'deploy', stage: 'deploy', when: 'delayed', resourceGroup: true, environment: 'production' },
      ],
      downstream: true,
    });
    await trigger({ project: 'frontend', ref: 'feature/x', source: 'merge_request_event', jobs: [
      { name: 'build', stage: 'build', tags: ['docker'], outcome: 'failed', failureReason: 'script_failure' },
      { name: 'test', stage: 'test', tags: ['docker'] },
    ] });
    await trigger({ project: 'frontend', jobs: [{ name: 'env', stage: 'prepare', preparing: true }, { name: 'notify', stage: 'post', callback: true }] });
    await trigger({ project: 'frontend', jobs: [{ name: 'docs', stage: 'build', outcome: 'skipped' }] });
    await trigger({ project: 'backend', jobs: [{ name: 'approve', stage: 'gate', when: 'manual', allowFailure: false }, { name: 'ship', stage: 'ship' }] });
    await trigger({ project: 'backend', jobs: [{ name: 'flaky', stage: 'test', outcome: 'canceled' }] });
    await validate();
    await stepAll();

    const manual = sim.world.jobs().find((j) => j.name === 'approve');
    expect(manual?.status).toBe('manual');
    await sim.playJob(manual?.id ?? 0);
    await validate();
    await stepAll();

    // Cancel a running job: the runner cancels gracefully (canceling) before it ends canceled.
    const c = await trigger({ project: 'backend', jobs: [{ name: 'long', stage: 'test', tags: ['docker'] }] });
    while (sim.world.jobs(c.pipelineId)[0]?.status !== 'running') await sim.step();
    await sim.cancelJob(c.jobIds[0] ?? 0);
    expect(sim.world.jobs(c.pipelineId)[0]?.status).toBe('canceling');
    await validate();
    await stepAll();

    // Retry the failed build: a new job id, the old one stays as retried; later skipped jobs run again.
    const failed = sim.world.jobs().find((j) => j.name === 'build' && j.status === 'failed');
    const { jobId } = await sim.retryJob(failed?.id ?? 0);
    expect(jobId).not.toBe(failed?.id);
    await validate();
    await stepAll();

    expect([...seen.pipeline].sort()).toEqual([...ALL, 'success-with-warnings'].sort());
    expect([...ALL].filter((s) => !seen.job.has(s))).toEqual([]);
    expect(seen.job.has('bridge:running') && seen.job.has('bridge:success')).toBe(true);
    for (const s of ['online/idle', 'online/active', 'paused/idle', 'offline/idle', 'never_contacted/idle', 'stale/idle']) {
      expect(seen.runner.has(s), `runner ${s}`).toBe(true);
    }
  });

  it('every webhook matches the documented Pipeline Hook / Job Hook shape, with GitLab headers and signatures', () => {
    expect(receiver.received.length).toBeGreaterThan(40);
    expect(receiver.received.length).toBe(sim.deliveries.length);
    const keys = new Set<string>();
    for (const [i, d] of receiver.received.entries()) {
      const h = d.headers;
      const event = String(h['x-gitlab-event']);
      expect(h['content-type']).toBe('application/json');
      expect(h['user-agent']).toMatch(/^GitLab\/18\./);
      expect(h['x-gitlab-token']).toBe(HOOK_TOKEN);
      expect(h['x-gitlab-instance']).toBe(sim.webUrl);
      expect(h['x-gitlab-webhook-uuid']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(h['x-gitlab-event-uuid']).toMatch(/^[0-9a-f-]{36}$/);
      const key = String(h['idempotency-key']);
      expect(keys.has(key)).toBe(false);
      keys.add(key);
      expect(h['webhook-id']).toBe(key);
      expect(Number(h['webhook-timestamp'])).toBeCloseTo(Date.now() / 1000, -2);
      expect(verifyStandard(SIGNING, h, d.body)).toBe(true);
      expect(verifyStandard(`whsec_${randomBytes(32).toString('base64')}`, h, d.body)).toBe(false);
      expect(h['webhook-signature']).toBe(standardWebhookSignature(SIGNING, key, String(h['webhook-timestamp']), d.body));
      const payload = JSON.parse(d.body) as Record<string, unknown>;
      if (event === 'Pipeline Hook') {
        const p = expectShape(S.pipelineHook, payload, `pipeline hook #${i}`);
        seen.hookPipeline.add(p.object_attributes.status);
        if (p.object_attributes.detailed_status === 'passed with warnings') seen.hookPipeline.add('passed with warnings');
        for (const b of p.builds) if (b.status !== 'failed') expect(b.failure_reason).toBeNull();
        if (p.object_attributes.source === 'parent_pipeline') expect(p.source_pipeline).toBeDefined();
      } else {
        expect(event).toBe('Job Hook');
        const j = expectShape(S.jobHook, payload, `job hook #${i}`);
        seen.hookJob.add(j.build_status);
        // Documented quirk: commit.id is the pipeline id, not the commit.
        expect(j.commit.id).toBe(j.pipeline_id);
        expect(j.commit.sha).toBe(j.sha);
        // §7 quirk: build_failure_reason reads unknown_failure unless the job failed.
        if (j.build_status !== 'failed') expect(j.build_failure_reason).toBe('unknown_failure');
        if (j.build_status === 'running') expect(j.runner?.id).toEqual(expect.any(Number));
        if (['created', 'pending'].includes(j.build_status)) expect(j.runner).toBeNull();
      }
    }
    // Every status change of a build sends a Job Hook; bridges never do.
    expect([...ALL].filter((s) => !seen.hookJob.has(s))).toEqual([]);
    expect(seen.hookPipeline.has('passed with warnings')).toBe(true);
    expect([...ALL].filter((s) => s !== 'created' && !seen.hookPipeline.has(s))).toEqual([]);
    const bridgeIds = new Set(sim.world.jobs().filter((j) => j.kind === 'bridge').map((j) => j.id));
    expect(bridgeIds.size).toBeGreaterThan(0);
    for (const d of receiver.received) {
      if (d.headers['x-gitlab-event'] === 'Job Hook') expect(bridgeIds.has((JSON.parse(d.body) as { build_id: number }).build_id)).toBe(false);
    }
  });

  it('hooks arrive in causal order: a job\'s statuses never go backwards and its pipeline hook follows', () => {
    const order: Record<string, number> = {
      created: 0, manual: 1, scheduled: 1, waiting_for_resource: 2, preparing: 3, pending: 4, running: 5, canceling: 6, waiting_for_callback: 6,
    };
    const last = new Map<number, number>();
    for (const d of receiver.received) {
      if (d.headers['x-gitlab-event'] !== 'Job Hook') continue;
      const j = JSON.parse(d.body) as { build_id: number; build_status: string };
      const rank = order[j.build_status] ?? 9;
      // The only way back: a skipped job reset to created when an earlier job is retried.
      if (!(j.build_status === 'created' && last.get(j.build_id) === 9)) expect(rank).toBeGreaterThanOrEqual(last.get(j.build_id) ?? -1);
      last.set(j.build_id, rank);
    }
  });
});
