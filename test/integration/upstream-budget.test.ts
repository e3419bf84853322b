import { afterEach, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/ids.ts';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';

/**
 * Issue 10 item 6: nodes(ids) with forged ids inside the key's scope cost one
 * upstream request per id, again on every repeat. Requests are counted in the
 * simulator's request log.
 */
const NODES = 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }';
const forged = (n: number, from = 0) => Array.from({ length: n }, (_, i) => toGlobalId('Pipeline', 'gh', `octo-org/api/runs/${990_000_000 + from + i}`));

type NodesResult = { nodes: ({ id: string } | null)[] };

describe('forged ids and the upstream budget', () => {
  let stack: Stack;
  afterEach(() => stack.close());

  it('should cost 0 upstream requests when the same forged ids come again', async () => {
    stack = await startStack({ webhooks: false, sim: { history: 1 } });
    const ids = forged(20);
    stack.sim.resetRequests();
    const first = await stack.query<NodesResult>(NODES, { ids });
    expect(first.data?.nodes).toEqual(ids.map(() => null));
    expect(stack.sim.requests.filter((r) => r.status === 404)).toHaveLength(20);

    stack.sim.resetRequests();
    const again = await stack.query<NodesResult>(NODES, { ids });
    expect(again.data?.nodes).toEqual(ids.map(() => null));
    expect(stack.sim.requests).toEqual([]);
  });

  it('should refuse reads beyond the identity budget with UPSTREAM_BUDGET_EXCEEDED, sending nothing, and still serve live state', async () => {
    stack = await startStack({ sim: { history: 1 }, config: { limits: { upstreamCallsPerIdentityPerMinute: 10 } } });
    // A run delivered by webhook: in the live state, served without an upstream read.
    const { runId } = await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'build' }] });
    await stack.sim.runUntilIdle();
    const live = toGlobalId('Pipeline', 'gh', `octo-org/api/runs/${runId}`);
    await waitFor(() => stack.gateway.services.state.get('Pipeline', 'gh', `octo-org/api/runs/${runId}`) !== undefined);

    // 6 of the 10 reads are spent; the next 6 ids do not fit.
    stack.sim.resetRequests();
    expect((await stack.query<NodesResult>(NODES, { ids: forged(6) })).errors).toBeUndefined();
    expect(stack.sim.requests).toHaveLength(6);

    stack.sim.resetRequests();
    const over = await stack.query<NodesResult>(NODES, { ids: [live, ...forged(6, 100)] });
    expect(stack.sim.requests).toEqual([]);
    expect(over.errors?.map((e) => e.extensions?.code)).toEqual(['UPSTREAM_BUDGET_EXCEEDED']);
    expect(over.data?.nodes[0]).toEqual({ id: live });
    expect(over.data?.nodes.slice(1)).toEqual([null, null, null, null, null, null]);
  });
});
