import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGithubSimulator, type GithubSimulator } from '../../adapters/github/simulator/index.ts';
import { adapterFactories } from '../../src/adapters.ts';
import { validateConfig, type BackendConfig, type GatewayConfig } from '../../src/config/load-config.ts';
import { toGlobalId } from '../../src/ids.ts';
import { GITHUB_TOKEN, startStack, waitFor, WEBHOOK_SECRET, type Stack } from '../helpers/stack.ts';

/**
 * Issue 14 item 5: a reload (what SIGHUP runs) adds, removes and changes backends on a
 * running gateway over loopback: queries and webhooks follow, with real GitHub simulators.
 */
const backendConfig = (raw: Record<string, unknown>): BackendConfig =>
  validateConfig({ auth: { mode: 'open' }, backends: [raw] }, adapterFactories).backends[0]!;

type Pipelines = { pipelines: { nodes: { id: string; backend: { name: string }; project: { name: string } }[] } };
const PIPELINES = 'query($backends: [String!]) { pipelines(first: 100, filter: { backends: $backends }) { nodes { id backend { name } project { name } } } }';

describe('config reload: backends added, removed and changed', () => {
  let stack: Stack;
  let other: GithubSimulator;
  let running: GatewayConfig;
  const gh2 = () => backendConfig({
    name: 'gh2', provider: 'github', url: other.url, token: { value: GITHUB_TOKEN }, webhookSecret: { value: WEBHOOK_SECRET }, organizations: ['other-org'],
  });

  beforeAll(async () => {
    stack = await startStack({ sim: { repositories: ['api', 'web'], history: 2 } });
    other = createGithubSimulator({ token: GITHUB_TOKEN, seed: 11, org: 'other-org', repositories: ['svc'], history: 2 });
    await other.start();
    running = stack.config;
  });
  afterAll(async () => {
    await stack.close();
    await other.stop();
  });

  /**
   * Applies `next` as SIGHUP would. A request takes its view of the registry when it starts,
   * so the registry is read after each of the swap's changes to it: every backend the old and
   * the new config share must be there each time (a changed one is never missing mid-swap).
   */
  async function reload(next: GatewayConfig): Promise<readonly string[]> {
    const shared = next.backends.filter((b) => running.backends.some((c) => c.name === b.name)).map((b) => b.name);
    const { registry } = stack.gateway;
    const views: string[][] = [];
    const set = registry.set.bind(registry);
    const del = registry.delete.bind(registry);
    registry.set = (entry) => (set(entry), views.push(registry.all().map((b) => b.name)), undefined);
    registry.delete = (name) => (del(name), views.push(registry.all().map((b) => b.name)), undefined);
    try {
      const prepared = stack.gateway.prepareReload(running, next);
      await prepared.apply();
      running = prepared.running;
      for (const names of views) expect(names).toEqual(expect.arrayContaining(shared));
      return prepared.applied;
    } finally {
      registry.set = set;
      registry.delete = del;
    }
  }

  const projectsOf = async (backend: string) => {
    const res = await stack.query<Pipelines>(PIPELINES, { backends: [backend] });
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return new Set(res.data!.pipelines.nodes.map((n) => `${n.backend.name}:${n.project.name}`));
  };

  const readyBackends = async () => ((await (await fetch(`${stack.base}/readyz`)).json()) as { backends: Record<string, string> }).backends;
  let deliveryId = '';
  let pipelineId = '';

  it('serves an added backend: queries and webhooks', async () => {
    expect(await reload({ ...running, backends: [...running.backends, gh2()] })).toEqual(['backends.gh2 (added)']);
    expect((await stack.query<{ backends: { name: string }[] }>('{ backends { name } }')).data?.backends.map((b) => b.name)).toEqual(['gh', 'gh2']);
    expect([...await projectsOf('gh2')]).toEqual(['gh2:svc']);
    expect(Object.keys(await readyBackends())).toEqual(['gh', 'gh2']);
    expect(await fetch(`${stack.base}/metrics`).then((r) => r.text())).toMatch(/switchyard_upstream_requests_total\{backend="gh2"\} [1-9]/);

    other.setWebhook({ url: `${stack.base}/webhooks/gh2`, secret: WEBHOOK_SECRET });
    const { runId } = await other.triggerRun({ repo: 'svc', jobs: [{ name: 'build' }] });
    await other.runUntilIdle();
    const deliveries = other.deliveries.filter((d) => d.body.includes(`"id":${runId}`) || d.body.includes(`"run_id":${runId}`));
    expect(deliveries.length).toBeGreaterThan(0);
    expect(deliveries.map((d) => d.status).every((s) => s === 202 || s === 200)).toBe(true);
    deliveryId = deliveries[0]!.id;
    pipelineId = toGlobalId('Pipeline', 'gh2', `other-org/svc/runs/${runId}`);
    expect(stack.gateway.services.state.get('Pipeline', 'gh2', `other-org/svc/runs/${runId}`)?.status).toBe('SUCCESS');
    expect((await stack.query<{ node: { id: string } | null }>('query($id: ID!) { node(id: $id) { id } }', { id: pipelineId })).data?.node).toEqual({ id: pipelineId });
  });

  it('forgets a removed backend: its webhooks answer 404, its ids and lists nothing', async () => {
    expect(await reload({ ...running, backends: running.backends.filter((b) => b.name !== 'gh2') })).toEqual(['backends.gh2 (removed)']);
    expect(await other.redeliver(deliveryId)).toBe(404);
    const node = await stack.query<{ node: unknown }>('query($id: ID!) { node(id: $id) { id } }', { id: pipelineId });
    expect(node.data?.node ?? null).toBeNull();
    expect([...await projectsOf('gh2')]).toEqual([]);
    expect([...stack.gateway.services.state.all('Pipeline', 'gh2')]).toEqual([]);
    expect(stack.gateway.registry.get('gh2')).toBeUndefined();
    expect(Object.keys(await readyBackends())).toEqual(['gh']);
  });

  it('serves the new repositories of a changed backend', async () => {
    expect([...await projectsOf('gh')].sort()).toEqual(['gh:api', 'gh:web']);
    const PROJECTS = '{ projects(filter: { backends: ["gh"] }) { nodes { name } } }';
    const projects = async () => (await stack.query<{ projects: { nodes: { name: string }[] } }>(PROJECTS)).data?.projects.nodes.map((p) => p.name).sort();
    expect(await projects()).toEqual(['api', 'web']);
    const gh = running.backends.find((b) => b.name === 'gh')!;
    const narrowed = backendConfig({ name: 'gh', provider: 'github', url: stack.sim.url, token: { value: GITHUB_TOKEN }, webhookSecret: { value: WEBHOOK_SECRET }, repositories: ['octo-org/web'] });
    expect(narrowed).not.toEqual(gh);
    expect(await reload({ ...running, backends: [narrowed] })).toEqual(['backends.gh (changed)']);
    expect([...await projectsOf('gh')]).toEqual(['gh:web']);
    expect(await projects()).toEqual(['web']);
  });

  it('refuses a reload whole when one new backend cannot be built: nothing is added, no limit changes', async () => {
    const unbuildable = { name: 'gh4', provider: 'nope', options: {} } as unknown as BackendConfig;
    const next = { ...running, limits: { ...running.limits, maxDepth: 2 }, backends: [...running.backends, gh2(), unbuildable] };
    expect(() => stack.gateway.prepareReload(running, next)).toThrow(/No adapter for provider "nope"/);
    expect(stack.gateway.registry.all().map((b) => b.name)).toEqual(['gh']);
    expect((await stack.query('{ pipelines { nodes { jobs { nodes { name } } } } }')).errors).toBeUndefined();
    const webhook = await fetch(`${stack.base}/webhooks/gh2`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(webhook.status).toBe(404);
  });
});

describe('config reload: a removed backend stops polling', () => {
  it('polls an added backend at once and never again once removed (barrier: three poll cycles of the backend kept)', async () => {
    const stack = await startStack({ polling: true, webhooks: false, sim: { repositories: ['api'], history: 1 }, backend: { pollIntervalSeconds: 5 } });
    const other = createGithubSimulator({ token: GITHUB_TOKEN, seed: 12, org: 'other-org', repositories: ['svc'], history: 1 });
    await other.start();
    try {
      const added = backendConfig({ name: 'gh2', provider: 'github', url: other.url, token: { value: GITHUB_TOKEN }, organizations: ['other-org'], pollIntervalSeconds: 5 });
      const withBoth = stack.gateway.prepareReload(stack.config, { ...stack.config, backends: [...stack.config.backends, added] });
      await withBoth.apply();
      await waitFor(() => other.requests.length > 0, 10_000, 'the added backend polled');

      // Counts the poll cycles the scheduler starts per backend (it reads `adapter.poll` per cycle).
      const cycles = { gh: 0, gh2: 0 };
      for (const name of ['gh', 'gh2'] as const) {
        const adapter = stack.gateway.registry.get(name)!.adapter;
        const poll = adapter.poll!.bind(adapter);
        adapter.poll = (signal) => (cycles[name]++, poll(signal));
      }

      const removal = stack.gateway.prepareReload(withBoth.running, { ...withBoth.running, backends: withBoth.running.backends.filter((b) => b.name !== 'gh2') });
      const keptBefore = cycles.gh;
      await removal.apply();
      const removedCycles = cycles.gh2;
      // A request of the cycle the removal aborted may still be answered: counted from gh's next cycle on.
      await waitFor(() => cycles.gh > keptBefore, 10_000, 'a poll cycle of gh');
      other.resetRequests();
      // gh2 polled every 4-6 s (5 s ± 20%); three more cycles of gh take at least 8 s.
      await waitFor(() => cycles.gh >= keptBefore + 4, 30_000, 'three more poll cycles of gh');
      expect(cycles.gh2).toBe(removedCycles);
      expect(other.requests, JSON.stringify(other.requests)).toEqual([]);
    } finally {
      await stack.close();
      await other.stop();
    }
  }, 60_000);
});

describe('config reload: backfill of an added backend (history on)', () => {
  it('backfills a backend added by a reload into the history', async () => {
    const stack = await startStack({ webhooks: false, sim: { repositories: ['api'], history: 1 }, config: { history: { enabled: true, backfill: { days: 1, requestsPerMinute: 100_000 } } } });
    const other = createGithubSimulator({ token: GITHUB_TOKEN, seed: 13, org: 'other-org', repositories: ['svc'], history: 3 });
    await other.start();
    try {
      await stack.gateway.history.ready;
      const added = backendConfig({ name: 'gh2', provider: 'github', url: other.url, token: { value: GITHUB_TOKEN }, organizations: ['other-org'] });
      const prepared = stack.gateway.prepareReload(stack.config, { ...stack.config, backends: [...stack.config.backends, added] });
      await prepared.apply();
      const SYNC = '{ backends { name sync { state imported } } }';
      type Sync = { backends: { name: string; sync: { state: string; imported: number } | null }[] };
      let sync: { state: string; imported: number } | null = null;
      await waitFor(async () => {
        sync = (await stack.query<Sync>(SYNC)).data?.backends.find((b) => b.name === 'gh2')?.sync ?? null;
        return sync?.state === 'DONE';
      }, 30_000, 'the backfill of gh2 to finish');
      const [{ count }] = await stack.gateway.history.store().query<{ count: number }>(`SELECT count(*)::int AS count FROM pipelines WHERE backend = 'gh2'`) as [{ count: number }];
      expect(count).toBeGreaterThan(0);
      expect(count).toBe(other.world.runs().length);
      expect(sync).toMatchObject({ state: 'DONE', imported: count });
    } finally {
      await stack.close();
      await other.stop();
    }
  }, 90_000);
});
