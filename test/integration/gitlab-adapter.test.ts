import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { standardWebhookSignature } from '../../adapters/gitlab/simulator/index.ts';
import { collect, waitFor } from '../helpers/stack.ts';
import { GITLAB_SIGNING_TOKEN, GITLAB_WEBHOOK_TOKEN, startGitlabStack, type GitlabStack } from '../helpers/gitlab-stack.ts';

const dedupe = <T>(xs: T[]) => xs.filter((x, i) => i === 0 || x !== xs[i - 1]);
const subscribers = (stack: GitlabStack, n: number) =>
  waitFor(() => stack.gateway.subscriptionCount === n, 5000, `${n} subscribers`);

interface JobEvent { jobUpdated: { job: { id: string; name: string; status: string; waitReason: string | null; native: { failureReason: string | null } } } }
interface RunnerEvent { runnerUpdated: { previousState: string | null; runner: { name: string; state: string; currentJob: { name: string } | null } } }

function signedHeaders(body: string, opts: { key: string; token?: string; ts?: number; event?: string }): Record<string, string> {
  const ts = opts.ts ?? Math.floor(Date.now() / 1000);
  return {
    'x-gitlab-event': opts.event ?? 'Job Hook',
    'x-gitlab-token': opts.token ?? GITLAB_WEBHOOK_TOKEN,
    'idempotency-key': opts.key,
    'x-gitlab-event-uuid': `${opts.key}-event`,
    'x-gitlab-webhook-uuid': `${opts.key}-${Math.random()}`,
    'webhook-id': opts.key,
    'webhook-timestamp': String(ts),
    'webhook-signature': standardWebhookSignature(GITLAB_SIGNING_TOKEN, opts.key, ts, body),
  };
}

describe('GitLab adapter end to end (simulator + gateway, signed hooks)', () => {
  let stack: GitlabStack;

  beforeAll(async () => {
    stack = await startGitlabStack({ sim: { history: 1 } });
    const runners = await stack.query<{ runners: { nodes: { name: string; state: string; paused: boolean; labels: string[] }[] } }>(
      '{ runners { nodes { name state paused labels } } }',
    );
    expect(runners.errors).toBeUndefined();
    const byName = Object.fromEntries(runners.data!.runners.nodes.map((r) => [r.name, r]));
    expect(byName['platform-arm64']).toMatchObject({ state: 'IDLE', paused: false, labels: ['docker', 'linux', 'arm64'] });
    expect(byName['legacy-macos']?.state).toBe('NEVER_CONTACTED');
  });
  afterAll(() => stack.close());
  afterEach(() => subscribers(stack, 0));

  it('should show a job go PENDING → RUNNING → FAILURE and a manual job WAITING/MANUAL over graphql-ws', async () => {
    const client = stack.wsClient();
    const jobs = collect<JobEvent>(
      client,
      'subscription { jobUpdated(filter: { backends: ["gl"] }) { job { id name status waitReason native { failureReason } } } }',
      undefined,
      (items) =>
        items.some((e) => e.jobUpdated.job.name === 'unit' && e.jobUpdated.job.status === 'FAILURE') &&
        items.some((e) => e.jobUpdated.job.name === 'ship' && e.jobUpdated.job.status === 'WAITING'),
    );
    await subscribers(stack, 1);
    await stack.sim.triggerPipeline({
      project: 'backend',
      jobs: [
        { name: 'unit', stage: 'test', outcome: 'failed', failureReason: 'script_failure' },
        { name: 'ship', stage: 'test', when: 'manual' },
      ],
    });
    await stack.sim.runUntilIdle();
    const events = (await jobs.done).map((e) => e.jobUpdated.job);
    const unit = dedupe(events.filter((j) => j.name === 'unit').map((j) => j.status));
    expect(unit[0]).toBe('PENDING');
    expect(unit.slice(-2)).toEqual(['RUNNING', 'FAILURE']);
    expect(unit.indexOf('RUNNING')).toBeGreaterThan(0);
    expect(events.find((j) => j.name === 'unit' && j.status === 'FAILURE')?.native.failureReason).toBe('script_failure');
    const ship = events.filter((j) => j.name === 'ship');
    expect(ship.at(-1)).toMatchObject({ status: 'WAITING', waitReason: 'MANUAL' });
    // Every event came from a hook the simulator signed.
    expect(stack.sim.deliveries.every((d) => d.status === 202 || d.status === 200)).toBe(true);
  });

  it('should answer 401 and publish nothing for a forged token, a bad signature or an expired timestamp; dedupe by Idempotency-Key', async () => {
    const { pipelineId, jobIds } = await stack.sim.triggerPipeline({ project: 'frontend', jobs: [{ name: 'lint', stage: 'test' }] });
    await stack.sim.runUntilIdle();
    const real = stack.sim.deliveries.find((d) => d.event === 'Job Hook' && d.body.includes(`"build_id":${jobIds[0]}`))!;
    const payload = JSON.parse(real.body) as Record<string, unknown>;
    const fresh = { ...payload, build_id: 987654, build_name: 'forged', build_status: 'running' };
    const body = JSON.stringify(fresh);
    const projectId = String(payload.project_id);
    const jobNativeId = `${projectId}/jobs/987654`;
    const state = stack.gateway.services.state;

    expect((await stack.post(body, signedHeaders(body, { key: 'k-forged', token: 'wrong' }))).status).toBe(401);
    const noToken = signedHeaders(body, { key: 'k-none' });
    delete noToken['x-gitlab-token'];
    expect((await stack.post(body, noToken)).status).toBe(401);
    const badSig = { ...signedHeaders(body, { key: 'k-sig' }), 'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')}` };
    expect((await stack.post(body, badSig)).status).toBe(401);
    const expired = signedHeaders(body, { key: 'k-old', ts: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect((await stack.post(body, expired)).status).toBe(401);
    expect(state.get('Job', 'gl', jobNativeId)).toBeUndefined();

    const ok = await stack.post(body, signedHeaders(body, { key: 'k-good' }));
    expect(ok.status).toBe(202);
    expect(state.get('Job', 'gl', jobNativeId)?.status).toBe('RUNNING');

    // Same Idempotency-Key, new attempt UUID, even a different body: one effect only.
    const later = JSON.stringify({ ...fresh, build_status: 'success', build_finished_at: '2099-01-01 00:00:00 UTC' });
    const replay = await stack.post(later, signedHeaders(later, { key: 'k-good' }));
    expect(replay.status).toBe(200);
    expect(state.get('Job', 'gl', jobNativeId)?.status).toBe('RUNNING');
    // The signed delivery replayed byte for byte with a fresh, unsigned Idempotency-Key: still the signed webhook-id.
    const replayed = await stack.post(later, { ...signedHeaders(later, { key: 'k-good' }), 'idempotency-key': 'k-fresh', 'x-gitlab-event-uuid': 'k-fresh-event' });
    expect(replayed.status).toBe(200);
    expect(replayed.body).toMatchObject({ status: 'duplicate', deliveryId: 'k-good' });
    expect(state.get('Job', 'gl', jobNativeId)?.status).toBe('RUNNING');
    // The simulator's own redelivery keeps the Idempotency-Key: a duplicate.
    expect(await stack.sim.redeliver(real.id)).toBe(200);

    // A hook for a project outside the configured group: 202, nothing stored.
    const foreign = JSON.stringify({ ...fresh, build_id: 555, project_id: 424242, project: { id: 424242, path_with_namespace: 'elsewhere/app' } });
    const res = await stack.post(foreign, signedHeaders(foreign, { key: 'k-foreign' }));
    expect(res.status).toBe(202);
    expect(state.get('Job', 'gl', '424242/jobs/555')).toBeUndefined();
    // Events the adapter does not use: 202, never 5xx.
    const push = JSON.stringify({ object_kind: 'push' });
    expect((await stack.post(push, signedHeaders(push, { key: 'k-push', event: 'Push Hook' }))).status).toBe(202);
    expect(pipelineId).toBeGreaterThan(0);
  });

  it('should turn a runner IDLE → BUSY → IDLE from Job Hooks', async () => {
    const client = stack.wsClient();
    const runners = collect<RunnerEvent>(
      client,
      'subscription { runnerUpdated(filter: { backends: ["gl"] }) { previousState runner { name state currentJob { name } } } }',
      undefined,
      (items) => items.some((e) => e.runnerUpdated.runner.name === 'platform-arm64' && e.runnerUpdated.previousState === 'BUSY'),
    );
    await subscribers(stack, 1);
    await stack.sim.triggerPipeline({ project: 'deploy', jobs: [{ name: 'build-arm', stage: 'build', tags: ['arm64'] }] });
    await stack.sim.runUntilIdle();
    const events = (await runners.done).map((e) => e.runnerUpdated).filter((e) => e.runner.name === 'platform-arm64');
    expect(events.map((e) => [e.previousState, e.runner.state])).toEqual([['IDLE', 'BUSY'], ['BUSY', 'IDLE']]);
    expect(events[0]!.runner.currentJob?.name).toBe('build-arm');
  });
});

const NESTED = `{
  pipelines(first: 20) {
    nodes { id status project { fullName } jobs { nodes { name status runner { name state } } } }
  }
}`;
interface Nested { pipelines: { nodes: { id: string; status: string; jobs: { nodes: { name: string; runner: { name: string } | null }[] } }[] } }

function byRoute(stack: GitlabStack): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of stack.sim.requests) {
    const shape = r.path.split('?')[0]!.replace(/\/\d+/g, '/:id').replace(/\/(groups|projects)\/[^/]*%2F[^/]*/g, '/$1/:path');
    counts[shape] = (counts[shape] ?? 0) + 1;
  }
  return counts;
}

describe('GitLab upstream economy of a nested query', () => {
  let stack: GitlabStack;
  beforeAll(async () => {
    // 3 projects x 7 finished pipelines: a page of 20 spans all projects.
    stack = await startGitlabStack({ sim: { history: 7 } });
  });
  afterAll(() => stack.close());

  it('should stay within 1 + projects + Σ keyset pages + bridges·pipelines + runner sources + distinct runners', async () => {
    stack.sim.resetRequests();
    const cold = await stack.query<Nested>(NESTED);
    expect(cold.errors).toBeUndefined();
    const pipelines = cold.data!.pipelines.nodes;
    expect(pipelines).toHaveLength(20);
    const runnerNames = new Set(pipelines.flatMap((p) => p.jobs.nodes.map((j) => j.runner?.name)).filter(Boolean));
    const calls = stack.sim.requests.length;
    const routes = byRoute(stack);
    // group projects (1) + pipelines page per project (3) + ≤1 keyset jobs page per project (3)
    // + bridges per pipeline (20) + runner listing of the group (1) + one detail per distinct runner.
    const bound = 1 + 3 + 3 + 20 + 1 + runnerNames.size;
    expect(calls, JSON.stringify(routes)).toBeLessThanOrEqual(bound);
    // Jobs come from the project-level listing, never per pipeline here; runners from one listing.
    expect(stack.sim.requests.filter((r) => /\/pipelines\/\d+\/jobs/.test(r.path))).toEqual([]);
    expect(stack.sim.requests.filter((r) => /\/projects\/\d+\/jobs\?/.test(r.path)).length).toBeLessThanOrEqual(3);
    stack.sim.resetRequests();
    const warm = await stack.query<Nested>(NESTED);
    expect(warm.data).toEqual(cold.data);
    console.info(`GitLab nested query over 20 pipelines: ${calls} upstream calls cold (bound ${bound}), ${stack.sim.requests.length} warm`, routes);
  });
});

describe('pipelines across GitHub and GitLab in one gateway', () => {
  let stack: GitlabStack;
  beforeAll(async () => {
    stack = await startGitlabStack({ sim: { history: 3 }, github: { repositories: ['api'], history: 3 } });
  });
  afterAll(() => stack.close());

  it('should return one list, newest first, with statuses from one vocabulary', async () => {
    await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'ok', stage: 'test' }, { name: 'flaky', stage: 'test', outcome: 'failed', allowFailure: true }] });
    await stack.sim.runUntilIdle();
    const res = await stack.query<{ pipelines: { nodes: { createdAt: string; status: string; backend: { name: string; provider: string } }[] } }>(
      '{ pipelines(first: 50) { nodes { createdAt status backend { name provider } } } }',
    );
    expect(res.errors).toBeUndefined();
    const nodes = res.data!.pipelines.nodes;
    expect(new Set(nodes.map((n) => n.backend.provider))).toEqual(new Set(['GITHUB', 'GITLAB']));
    const times = nodes.map((n) => Date.parse(n.createdAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const vocab = new Set(['PENDING', 'QUEUED', 'WAITING', 'RUNNING', 'CANCELING', 'SUCCESS', 'UNSTABLE', 'FAILURE', 'TIMED_OUT', 'ERROR', 'CANCELED', 'SKIPPED']);
    for (const n of nodes) expect(vocab.has(n.status), n.status).toBe(true);
    // The newest GitLab pipeline passed with warnings (its Pipeline Hook said so): UNSTABLE.
    expect(nodes.find((n) => n.backend.name === 'gl')?.status).toBe('UNSTABLE');
  });
});
