/**
 * Demo mode (`npm start` with no config) lets a GraphiQL user act on its GitHub simulator: the
 * backend has a write token and open mode allows anonymous actions there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterFactories } from '../../src/adapters.ts';
import { startDemo, type Demo } from '../../src/demo/start-demo.ts';
import { PAYLOAD } from '../helpers/actions-stack.ts';

describe('demo mode: actions on the GitHub simulator', () => {
  let demo: Demo;
  beforeAll(async () => {
    demo = await startDemo({ factories: adapterFactories, port: 0, host: '127.0.0.1', logLevel: 'silent', seed: 15 });
  }, 60_000);
  afterAll(() => demo?.close());

  const gql = async <T>(query: string, variables?: Record<string, unknown>) => {
    const res = await fetch(`http://127.0.0.1:${demo.port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    return (await res.json()) as { data?: T; errors?: unknown[] };
  };

  it('accepts an anonymous cancelPipeline dryRun for a GitHub pipeline and reports the call it would send', async () => {
    const list = await gql<{ pipelines: { nodes: { id: string; project: { fullName: string } }[] } }>('{ pipelines(first: 1, filter: { backends: ["github-demo"] }) { nodes { id project { fullName } } } }');
    const pipeline = list.data!.pipelines.nodes[0]!;
    const runId = Buffer.from(pipeline.id, 'base64url').toString().split('/').pop();
    const res = await gql<{ cancelPipeline: { dryRun: boolean; errors: unknown[]; upstream: { backend: { name: string }; calls: unknown[] } } }>(
      `mutation($id: ID!) { cancelPipeline(input: { id: $id, dryRun: true }) { ${PAYLOAD} } }`, { id: pipeline.id },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.cancelPipeline).toMatchObject({
      dryRun: true, errors: [],
      upstream: { backend: { name: 'github-demo' }, calls: [{ method: 'POST', path: `/repos/${pipeline.project.fullName}/actions/runs/${runId}/cancel`, status: null }] },
    });
  });
});
