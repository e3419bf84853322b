import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.ts';

describe('HTTP surface', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ sim: { repositories: ['api', 'web'], history: 3 } });
  });
  afterAll(() => stack.close());

  it('should answer /healthz and /readyz', async () => {
    expect(await (await fetch(`${stack.base}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${stack.base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', backends: { gh: expect.any(String) } });
  });

  it('should serve queries over GET and POST', async () => {
    const query = '{ backends { name provider url capabilities { webhooks polling runners steps } } }';
    const url = `${stack.base}/graphql?query=${encodeURIComponent(query)}`;
    // CSRF prevention: a request a browser could send cross-site without a preflight needs a custom header.
    const refused = await fetch(url);
    expect(refused.status).toBe(403);
    const get = await (await fetch(url, { headers: { 'x-switchyard-client': 'test' } })).json();
    const post = await stack.query(query);
    expect(get).toEqual(post);
    expect(post.data).toEqual({
      backends: [{ name: 'gh', provider: 'GITHUB', url: stack.sim.url, capabilities: { webhooks: true, polling: true, runners: true, steps: true } }],
    });
  });

  it('should serve GraphiQL from the gateway itself, with no CDN', async () => {
    const res = await fetch(`${stack.base}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Switchyard GraphiQL');
    expect(html).not.toMatch(/<script[^>]+src=["']https?:/);
    expect(html).not.toMatch(/<link[^>]+href=["']https?:/);
    expect(html).not.toMatch(/unpkg\.com|jsdelivr|cdnjs/);
  });

  it('should refuse GraphQL bodies over the limit with 413', async () => {
    const res = await fetch(`${stack.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ backends { name } } # ${'x'.repeat(1_100_000)}` }),
    });
    expect(res.status).toBe(413);
  });

  it('should answer a malformed JSON body with 400', async () => {
    const bad = await fetch(`${stack.base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":' });
    expect(bad.status).toBe(400);
  });

  it('should paginate pipelines with cursors, newest first, without gaps or repeats', async () => {
    const all = await stack.query<{ pipelines: { nodes: { id: string; createdAt: string }[] } }>('{ pipelines(first: 100) { nodes { id createdAt } } }');
    const everything = all.data!.pipelines.nodes;
    expect(everything.length).toBe(6);
    const times = everything.map((p) => Date.parse(p.createdAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const res: { data?: { pipelines: { nodes: { id: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } } = await stack.query(
        'query($after: String) { pipelines(first: 4, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }',
        { after },
      );
      seen.push(...res.data!.pipelines.nodes.map((n) => n.id));
      if (!res.data!.pipelines.pageInfo.hasNextPage) break;
      after = res.data!.pipelines.pageInfo.endCursor;
    }
    expect(seen).toEqual(everything.map((p) => p.id));
  });

  it('should filter pipelines by project, status, branch and time window', async () => {
    const projects = await stack.query<{ projects: { nodes: { id: string; fullName: string }[] } }>('{ projects { nodes { id fullName } } }');
    const api = projects.data!.projects.nodes.find((p) => p.fullName === 'octo-org/api')!;
    const res = await stack.query<{ pipelines: { nodes: { project: { fullName: string }; status: string; branch: string }[] } }>(
      'query($p: ID!) { pipelines(filter: { projects: [$p], branch: "main", createdAfter: "2000-01-01T00:00:00Z" }) { nodes { project { fullName } status branch } } }',
      { p: api.id },
    );
    const nodes = res.data!.pipelines.nodes;
    expect(nodes.every((n) => n.project.fullName === 'octo-org/api' && n.branch === 'main')).toBe(true);
    const future = await stack.query<{ pipelines: { nodes: unknown[] } }>('{ pipelines(filter: { createdAfter: "2999-01-01T00:00:00Z" }) { nodes { id } } }');
    expect(future.data!.pipelines.nodes).toEqual([]);
    const statuses = await stack.query<{ pipelines: { nodes: { status: string }[] } }>('{ pipelines(filter: { status: [SUCCESS, FAILURE] }) { nodes { status } } }');
    expect(statuses.data!.pipelines.nodes.every((n) => ['SUCCESS', 'FAILURE'].includes(n.status))).toBe(true);
  });

  it('should resolve node(id) for every entity type with its native values kept', async () => {
    const res = await stack.query<{ pipelines: { nodes: { id: string; native: { provider: string; status: string }; jobs: { nodes: { id: string; steps: { name: string; status: string }[]; runner: { id: string } | null }[] } }[] } }>(
      '{ pipelines(first: 1) { nodes { id native { provider status conclusion } jobs { nodes { id steps { name status } runner { id } } } } } }',
    );
    const p = res.data!.pipelines.nodes[0]!;
    expect(p.native.provider).toBe('GITHUB');
    const job = p.jobs.nodes.find((j) => j.runner)!;
    expect(job.steps.length).toBeGreaterThan(0);
    const ids = [p.id, job.id, job.runner!.id];
    const nodes = await stack.query<{ nodes: { __typename: string; id: string }[] }>('query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }', { ids });
    expect(nodes.data!.nodes.map((n) => n.__typename)).toEqual(['Pipeline', 'Job', 'Runner']);
    expect(nodes.data!.nodes.map((n) => n.id)).toEqual(ids);
  });
});
