import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { toGlobalId } from '../../src/ids.ts';
import type { JobModel, PipelineModel } from '../../src/model.ts';
import { job, pipeline } from '../helpers/ci-models.ts';
import { startGitlabStack, type GitlabStack } from '../helpers/gitlab-stack.ts';
import { collect, waitFor } from '../helpers/stack.ts';

/**
 * GitLab names projects by numeric id; a key scoped to `platform/backend` must see that
 * project's pipelines live (queries, node, subscriptions) and in history pages and
 * lookups, as analytics do. And `node(id)` of a pipeline or job finished before the
 * live window comes from the history with no upstream request.
 */

type Who = 'all' | 'backend' | 'group';
const PIPELINE_FIELDS = 'id name number status branch createdAt finishedAt native { provider status } jobs { nodes { id name status } }';

async function makeKeys(keys: Record<Who, string>) {
  const apiKeys = [];
  for (const [id, scopes] of [
    ['all', [{ backends: ['*'] }]],
    ['backend', [{ backends: ['gl'], projects: ['platform/backend'] }]],
    ['group', [{ backends: ['gl'], projects: ['platform/*'] }]],
  ] as const) {
    const created = await createApiKey(id);
    keys[id] = created.key;
    apiKeys.push({ id, hash: created.hash, scopes });
  }
  return apiKeys;
}

function projectIds(stack: GitlabStack) {
  const projects = stack.sim.world.projects();
  return { backendId: String(projects.find((p) => p.path === 'backend')!.id), frontendId: String(projects.find((p) => p.path === 'frontend')!.id) };
}

/** A subscription of the platform/backend key gets exactly the events of that project the open key gets. */
async function subscriptionSeesByName(stack: GitlabStack, keys: Record<Who, string>, clients: Client[], { backendId, frontendId }: { backendId: string; frontendId: string }) {
  // Nothing has named the projects yet: the subscription must learn their names before its first event.
  expect(stack.gateway.services.state.get('Project', 'gl', backendId)).toBeUndefined();
  // Neither subscription selects the project, so nothing on their way loads it.
  interface Event { pipelineUpdated: { pipeline: { id: string; status: string } } }
  const SUBSCRIPTION = 'subscription { pipelineUpdated { pipeline { id status } } }';
  let barrier = '';
  const done = (items: Event[]) => items.some((e) => e.pipelineUpdated.pipeline.id === barrier && e.pipelineUpdated.pipeline.status === 'SUCCESS');
  const subscribe = (who: Who) => {
    const client = createClient({ url: `${stack.base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${keys[who]}` } });
    clients.push(client);
    return collect<Event>(client, SUBSCRIPTION, undefined, done, 20_000);
  };
  const everything = subscribe('all');
  const scoped = subscribe('backend');
  await waitFor(() => stack.gateway.subscriptionCount === 2, 5000, 'the subscribers');
  const idOf = (projectId: string, run: { pipelineId: number }) => toGlobalId('Pipeline', 'gl', `${projectId}/pipelines/${run.pipelineId}`);
  // The key's project first, then another project's run, then the key's project again as the barrier.
  const first = await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'unit', stage: 'test' }] });
  await stack.sim.runUntilIdle();
  const other = await stack.sim.triggerPipeline({ project: 'frontend', jobs: [{ name: 'lint', stage: 'test' }] });
  await stack.sim.runUntilIdle();
  const last = await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'unit', stage: 'test' }] });
  barrier = idOf(backendId, last);
  await stack.sim.runUntilIdle();
  const [all, own] = await Promise.all([everything.done, scoped.done]);
  const ownIds = [idOf(backendId, first), barrier];
  expect(all.some((e) => e.pipelineUpdated.pipeline.id === idOf(frontendId, other))).toBe(true);
  expect(own.length).toBeGreaterThan(2);
  expect(own).toEqual(all.filter((e) => ownIds.includes(e.pipelineUpdated.pipeline.id)));
}

describe('GitLab projects scoped by full name, and single lookups beyond the live window', () => {
  let stack: GitlabStack;
  const keys: Record<Who, string> = { all: '', backend: '', group: '' };
  const clients: Client[] = [];
  let backendId = '';
  let frontendId = '';

  async function query<T>(who: Who, text: string, variables?: Record<string, unknown>) {
    const res = await fetch(stack.graphqlUrl, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${keys[who]}` }, body: JSON.stringify({ query: text, variables }),
    });
    return (await res.json()) as { data?: T; errors?: { message: string }[] };
  }

  beforeAll(async () => {
    stack = await startGitlabStack({ sim: { history: 0 }, config: { history: { backfill: { enabled: false } }, auth: { mode: 'required', apiKeys: await makeKeys(keys) } } });
    await stack.gateway.history.ready;
    ({ backendId, frontendId } = projectIds(stack));
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.dispose()));
    await stack?.close();
  });

  it('a key scoped to platform/backend receives every event of that project\'s pipelines, none of another project\'s', () =>
    subscriptionSeesByName(stack, keys, clients, { backendId, frontendId }));

  it('live queries and node(id) match the project\'s full name (platform/backend, platform/*), hiding other projects', async () => {
    const LIST = '{ pipelines(first: 50, filter: { backends: ["gl"] }) { nodes { id project { fullName } } } jobs(first: 50) { nodes { name project { fullName } } } }';
    interface Lists { pipelines: { nodes: { id: string; project: { fullName: string } }[] }; jobs: { nodes: { name: string; project: { fullName: string } }[] } }
    const all = await query<Lists>('all', LIST);
    expect(all.errors).toBeUndefined();
    const projectsOf = (l: Lists) => [...new Set(l.pipelines.nodes.map((p) => p.project.fullName))].sort();
    expect(projectsOf(all.data!)).toEqual(['platform/backend', 'platform/frontend']);
    const backend = await query<Lists>('backend', LIST);
    expect(backend.errors).toBeUndefined();
    expect(projectsOf(backend.data!)).toEqual(['platform/backend']);
    expect(backend.data!.jobs.nodes.map((j) => [j.name, j.project.fullName])).toEqual([['unit', 'platform/backend'], ['unit', 'platform/backend']]);
    const group = await query<Lists>('group', LIST);
    expect(projectsOf(group.data!)).toEqual(['platform/backend', 'platform/frontend']);

    const frontendPipeline = all.data!.pipelines.nodes.find((p) => p.project.fullName === 'platform/frontend')!.id;
    const backendPipeline = all.data!.pipelines.nodes.find((p) => p.project.fullName === 'platform/backend')!.id;
    const NODES = 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }';
    const nodes = await query<{ nodes: ({ id: string } | null)[] }>('backend', NODES, { ids: [backendPipeline, frontendPipeline] });
    expect(nodes.data!.nodes).toEqual([{ id: backendPipeline }, null]);
  });

  it('node(id) of a pipeline or job finished before the live window comes from the history: no upstream request, the fields of the history page, and scope as live', async () => {
    const base = Date.now() - 20 * 86_400_000;
    const iso = (ms: number) => new Date(ms).toISOString();
    const native = (status: string) => ({ provider: 'gitlab', status, conclusion: status, failureReason: null });
    const projects = [[backendId, 'platform/backend'], [frontendId, 'platform/frontend']] as const;
    const records: { entity: PipelineModel | JobModel; projectFullName: string }[] = [];
    for (let i = 0; i < 6; i++) {
      const [projectId, fullName] = projects[i % 2]!;
      const created = base - i * 3_600_000;
      const pipelineId = `${projectId}/pipelines/90${i}`;
      const common = { backend: 'gl', projectNativeId: projectId, branch: 'main', createdAt: iso(created), startedAt: iso(created + 1000), finishedAt: iso(created + 60_000), native: native('success') };
      records.push(
        { entity: pipeline(pipelineId, { ...common, name: `old-${i}`, number: 900 + i }), projectFullName: fullName },
        { entity: job(`${projectId}/jobs/90${i}`, { ...common, name: `old-job-${i}`, pipelineNativeId: pipelineId }), projectFullName: fullName },
      );
    }
    // Created before the live window but finished inside it: may still change, so it is asked upstream.
    const lateId = `${backendId}/pipelines/980`;
    records.push({ entity: pipeline(lateId, { backend: 'gl', projectNativeId: backendId, name: 'late', createdAt: iso(base - 3 * 86_400_000), finishedAt: iso(Date.now() - 3_600_000), native: native('success') }), projectFullName: 'platform/backend' });
    await stack.gateway.history.store().record(records.map((r) => ({ ...r, observedAt: iso(Date.now()) })));

    interface Page { pipelines: { nodes: Record<string, unknown>[] } }
    const PAGE = `query($before: DateTime, $since: DateTime) { pipelines(first: 10, filter: { createdBefore: $before, createdAfter: $since }) { nodes { ${PIPELINE_FIELDS} } } }`;
    const NODE = `query($id: ID!) { node(id: $id) { ... on Pipeline { ${PIPELINE_FIELDS} } ... on Job { id jobName: name status pipeline { id name } } } }`;
    const range = { before: iso(base + 60_000), since: iso(base - 86_400_000) };
    stack.sim.resetRequests();
    const page = await query<Page>('all', PAGE, range);
    expect(page.errors).toBeUndefined();
    expect(page.data!.pipelines.nodes.map((p) => p.name)).toEqual(['old-0', 'old-1', 'old-2', 'old-3', 'old-4', 'old-5']);
    for (const listed of page.data!.pipelines.nodes) {
      const single = await query<{ node: unknown }>('all', NODE, { id: listed.id });
      expect(single.errors).toBeUndefined();
      expect(single.data!.node).toEqual(listed);
    }
    const oldJob = toGlobalId('Job', 'gl', `${backendId}/jobs/900`);
    expect((await query<{ node: unknown }>('all', NODE, { id: oldJob })).data!.node).toEqual({
      id: oldJob, jobName: 'old-job-0', status: 'SUCCESS', pipeline: { id: toGlobalId('Pipeline', 'gl', `${backendId}/pipelines/900`), name: 'old-0' },
    });

    // The key of platform/backend: its history page and lookups hold its project only; another project's old pipeline is null.
    const scoped = await query<Page>('backend', PAGE, range);
    expect(scoped.data!.pipelines.nodes.map((p) => p.name)).toEqual(['old-0', 'old-2', 'old-4']);
    const own = await query<{ node: { name: string } | null }>('backend', NODE, { id: toGlobalId('Pipeline', 'gl', `${backendId}/pipelines/902`) });
    expect(own.data!.node?.name).toBe('old-2');
    const hidden = await query<{ node: unknown }>('backend', NODE, { id: toGlobalId('Pipeline', 'gl', `${frontendId}/pipelines/901`) });
    expect(hidden).toEqual({ data: { node: null } });
    const hiddenJob = await query<{ node: unknown }>('backend', NODE, { id: toGlobalId('Job', 'gl', `${frontendId}/jobs/901`) });
    expect(hiddenJob).toEqual({ data: { node: null } });
    expect(stack.sim.requests.map((r) => r.path)).toEqual([]);

    // Created long ago but finished inside the live window (a re-run may still be reported): the backend
    // is asked, and it does not know this constructed pipeline (so the zero above can fail).
    const late = await query<{ node: unknown }>('all', 'query($id: ID!) { node(id: $id) { id } }', { id: toGlobalId('Pipeline', 'gl', lateId) });
    expect(late).toEqual({ data: { node: null } });
    expect(stack.sim.requests.map((r) => r.path)).toEqual([`/api/v4/projects/${backendId}/pipelines/980`]);
  });

  it('runner pools count the queued jobs of the projects the key names (platform/backend), not another project\'s', async () => {
    // The only macos runner never contacted GitLab: jobs asking for it stay queued.
    await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'mac-backend', stage: 'test', tags: ['macos'] }] });
    await stack.sim.triggerPipeline({ project: 'frontend', jobs: [{ name: 'mac-frontend', stage: 'test', tags: ['macos'] }] });
    await stack.sim.runUntilIdle();
    const POOLS = '{ runnerPools(filter: { labels: ["macos"] }) { key queue { depth } } }';
    interface Pools { runnerPools: { key: string; queue: { depth: number } }[] }
    // GitLab's Job Hook carries no tags: a REST read of the jobs gives them their pool.
    expect((await query<{ jobs: { nodes: { labels: string[] }[] } }>('all', '{ jobs(first: 2) { nodes { labels } } }')).data!.jobs.nodes).toEqual([{ labels: ['macos'] }, { labels: ['macos'] }]);
    await waitFor(async () => (await query<Pools>('all', POOLS)).data?.runnerPools[0]?.queue.depth === 2, 15_000, 'both mac jobs queued');
    expect((await query<Pools>('backend', POOLS)).data!.runnerPools).toEqual([{ key: 'gl:macos', queue: { depth: 1 } }]);
    expect((await query<Pools>('group', POOLS)).data!.runnerPools).toEqual([{ key: 'gl:macos', queue: { depth: 2 } }]);
  });
});

describe('a subscription scoped by project name with the history off (nothing else names projects)', () => {
  let stack: GitlabStack;
  const keys: Record<Who, string> = { all: '', backend: '', group: '' };
  const clients: Client[] = [];
  beforeAll(async () => {
    stack = await startGitlabStack({ sim: { history: 0 }, config: { history: { enabled: false }, auth: { mode: 'required', apiKeys: await makeKeys(keys) } } });
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.dispose()));
    await stack?.close();
  });

  it('learns the project names before its first event', () => subscriptionSeesByName(stack, keys, clients, projectIds(stack)));
});
