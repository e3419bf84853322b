import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/ids.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * Issue 10 item 2: a GitHub backend configured for octo-org/api and
 * octo-org/web only must not read octo-org/infra through node(id), whatever
 * the upstream token can reach: null, and no upstream request at all.
 */
describe('node(id) outside the configured repositories', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ webhooks: false, sim: { history: 1 }, backend: { organizations: [], repositories: ['octo-org/api', 'octo-org/web'], runners: { organizations: ['octo-org'] } } });
  });
  afterAll(() => stack.close());

  const NODE = 'query($id: ID!) { node(id: $id) { id __typename } }';

  it('should read project, run, jobs and steps of octo-org/infra as null with 0 upstream requests', async () => {
    const run = stack.sim.world.runs('infra')[0]!;
    const job = stack.sim.world.jobs(run.id)[0]!;
    const ids = [
      toGlobalId('Project', 'gh', 'octo-org/infra'),
      toGlobalId('Pipeline', 'gh', `octo-org/infra/runs/${run.id}`),
      toGlobalId('Job', 'gh', `octo-org/infra/jobs/${job.id}`),
    ];
    stack.sim.resetRequests();
    for (const id of ids) {
      const res = await stack.query<{ node: unknown }>(NODE, { id });
      expect(res.errors).toBeUndefined();
      expect(res.data?.node).toBeNull();
    }
    const many = await stack.query<{ nodes: unknown[] }>('query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Pipeline { jobs { nodes { steps { name } } } } } }', { ids });
    expect(many.data?.nodes).toEqual([null, null, null]);
    expect(stack.sim.requests).toEqual([]);
  });

  it('should still read a configured repository (the check is not a blanket refusal)', async () => {
    const run = stack.sim.world.runs('api')[0]!;
    const res = await stack.query<{ node: { id: string } | null }>(NODE, { id: toGlobalId('Pipeline', 'gh', `octo-org/api/runs/${run.id}`) });
    expect(res.data?.node).not.toBeNull();
  });
});
