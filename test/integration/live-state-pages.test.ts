/**
 * Pipeline pages over a live state much larger than a page: the resolver reads
 * only the newest matches from the state's creation-time index (from the
 * cursor on), and paging through must still show every pipeline once, newest
 * first, with equal creation times broken like the pages break them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineModel } from '../../src/model.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

type Page = { pipelines: { nodes: { id: string; createdAt: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };

describe('pipeline pages served from a large live state', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ sim: { repositories: ['api', 'web'], history: 3 } });
    const state = stack.gateway.services.state;
    for (let i = 0; i < 80; i++) {
      // Two pipelines per second: ties in creation time on every page boundary.
      const createdAt = new Date(Date.UTC(2026, 0, 1) + Math.floor(i / 2) * 1000).toISOString();
      const pipeline: PipelineModel = {
        type: 'Pipeline', backend: 'gh', nativeId: `octo-org/${i % 3 ? 'api' : 'web'}/runs/${900_000 + i}`, revision: [1],
        projectNativeId: `octo-org/${i % 3 ? 'api' : 'web'}`, number: i, name: 'ci', status: i % 4 ? 'SUCCESS' : 'FAILURE', waitReason: null,
        native: { provider: 'github', status: 'completed', conclusion: 'success', failureReason: null }, attempt: 1, url: null, branch: 'main', ref: null,
        commitSha: null, event: 'push', actor: null, createdAt, queuedAt: null, startedAt: null, finishedAt: null, updatedAt: null,
      };
      state.apply(pipeline, Date.now());
    }
  });
  afterAll(() => stack?.close());

  async function pageThrough(filter: string, first: number): Promise<string[]> {
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 100; page++) {
      const res: { data?: Page; errors?: unknown } = await stack.query<Page>(`query($after: String) { pipelines(first: ${first}, after: $after${filter}) { nodes { id createdAt } pageInfo { hasNextPage endCursor } } }`, { after });
      expect(res.errors).toBeUndefined();
      seen.push(...res.data!.pipelines.nodes.map((n) => n.id));
      if (!res.data!.pipelines.pageInfo.hasNextPage) break;
      after = res.data!.pipelines.pageInfo.endCursor;
    }
    return seen;
  }

  it('should show every pipeline once in pages of any size, as one large page orders them', async () => {
    const all = await stack.query<Page>('{ pipelines(first: 100) { nodes { id createdAt } pageInfo { hasNextPage endCursor } } }');
    const everything = all.data!.pipelines.nodes.map((n) => n.id);
    expect(everything).toHaveLength(86); // 6 from the simulator, 80 from the state
    for (const first of [7, 20]) expect(await pageThrough('', first)).toEqual(everything);
  });

  it('should page the same way through one project and one status', async () => {
    const projects = await stack.query<{ projects: { nodes: { id: string; fullName: string }[] } }>('{ projects { nodes { id fullName } } }');
    const web = projects.data!.projects.nodes.find((p) => p.fullName === 'octo-org/web')!;
    for (const filter of [`, filter: { projects: ["${web.id}"] }`, ', filter: { status: [FAILURE] }']) {
      const all = await stack.query<Page>(`{ pipelines(first: 100${filter}) { nodes { id createdAt } pageInfo { hasNextPage endCursor } } }`);
      const everything = all.data!.pipelines.nodes.map((n) => n.id);
      expect(everything.length).toBeGreaterThan(15);
      expect(await pageThrough(filter, 6)).toEqual(everything);
    }
  });
});
