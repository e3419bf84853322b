import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApiKey } from '../../src/auth/api-keys.ts';
import type { JobModel, PipelineModel } from '../../src/model.ts';
import { job, pipeline } from '../helpers/ci-models.ts';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';

/**
 * Runner pools, estimates and history pages through the real gateway (history on,
 * in-memory PGlite) and the GitHub simulator, whose macOS runner starts offline:
 * a job asking for [self-hosted, macOS] waits in the queue until it comes online.
 */

const MAC = ['self-hosted', 'macOS'];
const POOLS = `query($filter: RunnerPoolFilter) { runnerPools(filter: $filter) {
  key labels hosted runners { online busy idle offline total } queue { depth oldestQueuedAt oldestWaitSeconds }
  waitLastHour { p50 sampleSize source }
} }`;
const POOL_UPDATES = `subscription($filter: RunnerPoolFilter) { runnerPoolUpdated(filter: $filter) { reason pool { key queue { depth } runners { total } } } }`;

interface Pool { key: string; labels: string[]; runners: { online: number; offline: number; total: number } | null; queue: { depth: number; oldestWaitSeconds: number | null }; waitLastHour: { sampleSize: number; source: string } }
interface PoolEvent { runnerPoolUpdated: { reason: string; pool: { key: string; queue: { depth: number }; runners: { total: number } | null } } }

describe('runner pools, estimates and history pages through the gateway', () => {
  let stack: Stack;
  const keys: Record<'all' | 'web' | 'apiNoRunners', string> = { all: '', web: '', apiNoRunners: '' };

  const as = (who: keyof typeof keys) => ({ authorization: `Bearer ${keys[who]}` });
  async function query<T>(who: keyof typeof keys, text: string, variables?: Record<string, unknown>) {
    const res = await fetch(stack.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...as(who) }, body: JSON.stringify({ query: text, variables }) });
    return (await res.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
  }
  const clients: Client[] = [];
  function subscribe(who: keyof typeof keys, variables: Record<string, unknown>) {
    const client = createClient({ url: `${stack.base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: as(who) });
    clients.push(client);
    const events: PoolEvent['runnerPoolUpdated'][] = [];
    const errors: unknown[] = [];
    client.subscribe<PoolEvent>({ query: POOL_UPDATES, variables }, {
      next: (v) => (v.data ? events.push(v.data.runnerPoolUpdated) : errors.push(v.errors)),
      error: (e) => errors.push(e),
      complete: () => undefined,
    });
    return { events, errors };
  }

  beforeAll(async () => {
    const apiKeys = [];
    for (const [id, scopes] of [
      ['all', [{ backends: ['*'] }]],
      ['web', [{ backends: ['gh'], projects: ['octo-org/web'], runners: true }]],
      ['apiNoRunners', [{ backends: ['gh'], projects: ['octo-org/api'] }]],
    ] as const) {
      const created = await createApiKey(id.toLowerCase());
      keys[id] = created.key;
      apiKeys.push({ id: id.toLowerCase(), hash: created.hash, scopes });
    }
    // No backfill: its background listings would be counted by the zero-upstream check of history pages.
    stack = await startStack({ sim: { repositories: ['api', 'web'], history: 0 }, config: { history: { backfill: { enabled: false } }, auth: { mode: 'required', apiKeys } } });
    await stack.gateway.history.ready;
    // Polling is off in tests: one runner listing puts the runners in the live state.
    const listed = await query<{ runners: { nodes: unknown[] } }>('all', '{ runners { nodes { name } } }');
    expect(listed.data?.runners.nodes).toHaveLength(4);
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.dispose()));
    await stack?.close();
  });

  it('a queued job with no online runner raises its pool queue depth, and it falls when a runner takes the job; scope decides what counts', async () => {
    const all = subscribe('all', { filter: { labels: MAC } });
    const web = subscribe('web', { filter: { labels: MAC } });
    await waitFor(() => all.events.length === 1 && web.events.length === 1, 5000, 'snapshots');
    expect(all.events[0]).toEqual({ reason: 'SNAPSHOT', pool: { key: 'gh:macos,self-hosted', queue: { depth: 0 }, runners: { total: 1 } } });
    // The same operation again: it is not joined to the first one's shared execution, so it gets its own snapshot.
    const again = subscribe('all', { filter: { labels: MAC } });
    await waitFor(() => again.events.length === 1, 5000, 'the second subscriber\'s snapshot');
    expect(again.events[0]!.reason).toBe('SNAPSHOT');

    await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'mac-build', labels: MAC }] });
    await waitFor(() => all.events.some((e) => e.pool.queue.depth === 1), 10_000, 'queue depth 1');

    const seen = await query<{ runnerPools: Pool[] }>('all', POOLS, { filter: { labels: ['macOS', 'SELF-HOSTED'] } });
    expect(seen.errors).toBeUndefined();
    const [pool] = seen.data!.runnerPools;
    expect(pool).toMatchObject({ key: 'gh:macos,self-hosted', labels: ['macos', 'self-hosted'], runners: { online: 0, offline: 1, total: 1 }, queue: { depth: 1 } });
    expect(pool!.queue.oldestWaitSeconds).toBeGreaterThanOrEqual(0);
    // The Linux runners (self-hosted, Linux, X64/ARM64) do not satisfy it; every pool the live jobs ask for is listed.
    const every = await query<{ runnerPools: Pool[] }>('all', POOLS);
    expect(every.data!.runnerPools.map((p) => p.key)).toEqual(['gh:macos,self-hosted']);
    // A caller of octo-org/web does not count the api job; one of octo-org/api without runners sees no runner figures.
    const forWeb = await query<{ runnerPools: Pool[] }>('web', POOLS, { filter: { labels: MAC } });
    expect(forWeb.data!.runnerPools[0]).toMatchObject({ runners: { total: 1 }, queue: { depth: 0 } });
    const forApi = await query<{ runnerPools: Pool[] }>('apiNoRunners', POOLS, { filter: { labels: MAC } });
    expect(forApi.data!.runnerPools[0]).toMatchObject({ runners: null, queue: { depth: 1 } });

    stack.sim.setRunnerStatus('macos-arm64-1', 'online');
    await stack.sim.step();
    await waitFor(() => all.events.at(-1)?.pool.queue.depth === 0, 10_000, 'queue depth back to 0');
    expect(all.events.map((e) => [e.reason, e.pool.queue.depth])).toEqual([['SNAPSHOT', 0], ['CHANGE', 1], ['CHANGE', 0]]);

    // Barrier: a web job in the same pool reaches the web subscriber; the api job before it never did.
    await stack.sim.triggerRun({ repo: 'web', jobs: [{ name: 'mac-web', labels: MAC }] });
    await waitFor(() => web.events.length >= 2, 10_000, 'the web job in the web view');
    expect(web.events.map((e) => [e.reason, e.pool.queue.depth])).toEqual([['SNAPSHOT', 0], ['CHANGE', 1]]);
    expect([...all.errors, ...web.errors]).toEqual([]);
    await stack.sim.runUntilIdle();
  });

  it('coalesces changes: jobs queued together make one update, and the figures read from the history through the query', async () => {
    const GPU = ['self-hosted', 'gpu-coalesce'];
    const updates = subscribe('all', { filter: { labels: GPU } });
    await waitFor(() => updates.events.length === 1, 5000, 'the snapshot');
    const queued = (n: number) => job(`octo-org/api/jobs/77${n}`, {
      backend: 'gh', projectNativeId: 'octo-org/api', pipelineNativeId: 'octo-org/api/runs/770', name: `gpu-${n}`, status: 'QUEUED',
      labels: GPU, createdAt: new Date().toISOString(), queuedAt: new Date().toISOString(), native: { provider: 'github', status: 'queued', conclusion: null, failureReason: null },
    });
    // Three jobs in one ingest: every change lands before the pool is recomputed.
    stack.gateway.services.ingestor.ingest([queued(1), queued(2), queued(3)], { source: 'POLL', publishNew: true });
    await waitFor(() => updates.events.length === 2, 5000, 'one update for three jobs');
    // Barrier: a fourth job later is one more update (had the three not been coalesced, depths 1 and 2 would be in between).
    stack.gateway.services.ingestor.ingest([queued(4)], { source: 'POLL', publishNew: true });
    await waitFor(() => updates.events.length === 3, 5000, 'the fourth job');
    expect(updates.events.map((e) => [e.reason, e.pool.queue.depth])).toEqual([['SNAPSHOT', 0], ['CHANGE', 3], ['CHANGE', 4]]);

    // The mac job of the first test left the queue within the hour: the history has its wait.
    const WINDOWED = `query($filter: RunnerPoolFilter, $from: DateTime) { runnerPools(filter: $filter) {
      waitLastHour { sampleSize source } window(from: $from, bucketMinutes: 60) { runnerCount utilization busySeconds buckets { queued started } } } }`;
    interface Windowed { runnerPools: { waitLastHour: { sampleSize: number; source: string }; window: { runnerCount: number; buckets: { queued: number; started: number }[] } }[] }
    await waitFor(async () => (await query<Windowed>('all', WINDOWED, { filter: { labels: MAC } })).data?.runnerPools[0]?.waitLastHour.sampleSize === 2, 10_000, 'the mac jobs in the history');
    const windowed = await query<Windowed>('all', WINDOWED, { filter: { labels: MAC } });
    expect(windowed.errors).toBeUndefined();
    expect(windowed.data!.runnerPools[0]!.waitLastHour.source).toBe('HISTORY');
    expect(windowed.data!.runnerPools[0]!.window.buckets).toHaveLength(24);
    expect(windowed.data!.runnerPools[0]!.window.buckets.at(-1)).toMatchObject({ started: 2 });
    const tooWide = await query<Windowed>('all', WINDOWED, { filter: { labels: MAC }, from: new Date(Date.now() - 40 * 86_400_000).toISOString() });
    expect(tooWide.errors?.[0]?.extensions?.code).toBe('ANALYTICS_LIMIT');
  });

  it('estimates a queued job and pipeline from the recorded history of the same names on the same branch', async () => {
    await stack.sim.triggerRun({ repo: 'api', branch: 'est-branch', jobs: [{ name: 'est-build', labels: ['self-hosted', 'macOS'] }] });
    const ESTIMATES = `{ pipelines(first: 5, filter: { status: [QUEUED, PENDING, RUNNING] }) { nodes { id name branch estimate { estimatedDuration estimatedFinishAt sampleSize basis unavailableReason }
      jobs { nodes { name status estimate { estimatedDuration estimatedFinishAt remainingSeconds sampleSize basis unavailableReason } } } } } }`;
    interface Estimated { pipelines: { nodes: { id: string; name: string; branch: string; estimate: Record<string, unknown> | null; jobs: { nodes: { name: string; status: string; estimate: Record<string, unknown> | null }[] } }[] } }
    let live: Estimated['pipelines']['nodes'][number] | undefined;
    await waitFor(async () => {
      live = (await query<Estimated>('all', ESTIMATES)).data?.pipelines.nodes.find((p) => p.id.length > 0 && p.jobs.nodes.some((j) => j.name === 'est-build'));
      return live !== undefined;
    }, 10_000, 'the new run');
    expect(live!.jobs.nodes[0]!.estimate).toMatchObject({ estimatedDuration: null, sampleSize: 0, unavailableReason: 'no successful run of it is recorded' });
    // Three earlier successful runs of the same names on octo-org/api est-branch, 40 days ago.
    const old = Date.now() - 40 * 86_400_000;
    const iso = (ms: number) => new Date(ms).toISOString();
    const records: (PipelineModel | JobModel)[] = [60, 120, 180].flatMap((seconds, i) => {
      const start = old + i * 3_600_000;
      const common = { backend: 'gh', projectNativeId: 'octo-org/api', branch: 'est-branch' };
      return [
        pipeline(`octo-org/api/runs/9${i}`, { ...common, name: live!.name, createdAt: iso(start - 5000), startedAt: iso(start), finishedAt: iso(start + seconds * 1000) }),
        job(`octo-org/api/jobs/9${i}`, { ...common, name: 'est-build', pipelineNativeId: `octo-org/api/runs/9${i}`, createdAt: iso(start - 5000), queuedAt: iso(start - 5000), startedAt: iso(start), finishedAt: iso(start + (seconds / 2) * 1000) }),
      ];
    });
    await stack.gateway.history.store().record(records.map((entity) => ({ entity, observedAt: iso(Date.now()) })));
    const estimated = (await query<Estimated>('all', ESTIMATES)).data!.pipelines.nodes.find((p) => p.id === live!.id)!;
    expect(estimated.estimate).toMatchObject({ estimatedDuration: 120, sampleSize: 3, basis: 'SAME_BRANCH', unavailableReason: null });
    const jobEstimate = estimated.jobs.nodes.find((j) => j.name === 'est-build')!.estimate!;
    expect(jobEstimate).toMatchObject({ estimatedDuration: 60, sampleSize: 3, basis: 'SAME_BRANCH', unavailableReason: null });
    // Queued: now + what is left of the typical 5 s queue + 60 s.
    expect(jobEstimate.remainingSeconds).toBeGreaterThan(54);
    expect(jobEstimate.remainingSeconds).toBeLessThanOrEqual(65);
    await stack.sim.runUntilIdle();
  });

  it('pages older than the live window come from the history with zero upstream requests, in the caller\'s scope', async () => {
    const base = Date.now() - 20 * 86_400_000;
    const iso = (ms: number) => new Date(ms).toISOString();
    const records = Array.from({ length: 24 }, (_, i) => {
      const repo = i % 2 === 0 ? 'api' : 'web';
      const created = base - i * 3_600_000;
      const common = { backend: 'gh', projectNativeId: `octo-org/${repo}`, branch: 'main', createdAt: iso(created), startedAt: iso(created + 1000), finishedAt: iso(created + 60_000) };
      return [
        pipeline(`octo-org/${repo}/runs/5${i}`, { ...common, name: `old-${i}`, number: i }),
        job(`octo-org/${repo}/jobs/5${i}`, { ...common, name: `old-job-${i}`, pipelineNativeId: `octo-org/${repo}/runs/5${i}` }),
      ];
    }).flat();
    await stack.gateway.history.store().record(records.map((entity) => ({ entity, observedAt: iso(Date.now()) })));
    const PAGE = `query($after: String, $before: DateTime, $since: DateTime) { pipelines(first: 10, after: $after, filter: { createdBefore: $before, createdAfter: $since }) {
      nodes { name createdAt jobs { nodes { name } } } pageInfo { hasNextPage endCursor } } }`;
    interface Page { pipelines: { nodes: { name: string; jobs: { nodes: { name: string }[] } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }
    stack.sim.resetRequests();
    const names: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 5; pages++) {
      const res: Awaited<ReturnType<typeof query<Page>>> = await query<Page>('all', PAGE, { after, before: iso(base + 60_000), since: iso(base - 2 * 86_400_000) });
      expect(res.errors).toBeUndefined();
      for (const p of res.data!.pipelines.nodes) {
        names.push(p.name);
        expect(p.jobs.nodes.map((j) => j.name)).toEqual([p.name.replace('old-', 'old-job-')]);
      }
      if (!res.data!.pipelines.pageInfo.hasNextPage) break;
      after = res.data!.pipelines.pageInfo.endCursor;
    }
    expect(names).toEqual(Array.from({ length: 24 }, (_, i) => `old-${i}`));
    const jobs = await query<{ jobs: { nodes: { name: string }[] } }>('web', `query($before: DateTime, $since: DateTime) { jobs(first: 5, filter: { createdBefore: $before, createdAfter: $since }) { nodes { name } } }`, { before: iso(base + 60_000), since: iso(base - 2 * 86_400_000) });
    expect(jobs.data!.jobs.nodes.map((j) => j.name)).toEqual(['old-job-1', 'old-job-3', 'old-job-5', 'old-job-7', 'old-job-9']);
    expect(stack.sim.requests).toEqual([]);
    // Inside the live window the same query goes upstream (the check above can fail).
    await query<Page>('all', PAGE, { after: null, before: iso(Date.now()), since: null });
    expect(stack.sim.requests.length).toBeGreaterThan(0);
    // Older than anything the history holds: the backend is asked (the history does not reach back that far).
    stack.sim.resetRequests();
    await query<Page>('all', PAGE, { after: null, before: iso(Date.now() - 200 * 86_400_000), since: null });
    expect(stack.sim.requests.length).toBeGreaterThan(0);
  });
});
