import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../src/config/load-config.ts';
import { toGlobalId } from '../../src/ids.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * Issue 14 item 5: a reload (what SIGHUP runs: prepareReload on the running config, then
 * apply) changes the limits new requests meet, on a real gateway over loopback.
 */
let stack: Stack;
afterEach(() => stack.close());

/** Applies `next` as SIGHUP would and returns the keys it reports as applied. */
async function reload(current: GatewayConfig, next: GatewayConfig): Promise<{ applied: readonly string[]; running: GatewayConfig }> {
  const prepared = stack.gateway.prepareReload(current, next);
  await prepared.apply();
  return prepared;
}

const withLimits = (c: GatewayConfig, limits: Partial<GatewayConfig['limits']>): GatewayConfig => ({ ...c, limits: { ...c.limits, ...limits } });
const codes = (r: { errors?: { extensions?: Record<string, unknown> }[] }) => (r.errors ?? []).map((e) => e.extensions?.code);

/** `{ pipelines(filter: { backends: [N strings] }) { nodes { name } } }`: 19 + N tokens; no backend matches, so no upstream call. */
const manyTokens = (n: number) => `{ pipelines(filter: { backends: [${Array.from({ length: n }, () => '"x"').join(' ')}] }) { nodes { name } } }`;
const DEPTH_5 = '{ pipelines { nodes { jobs { nodes { name } } } } }';

describe('config reload: operation limits', () => {
  it('refuses after a reload the same document it served before (depth and tokens), and serves one refused before once raised', async () => {
    stack = await startStack({ webhooks: false, sim: { repositories: ['api'], history: 1 }, config: { limits: { maxDepth: 6, maxTokens: 1000 } } });
    // Each document is sent twice first: the second answer comes from yoga's parse and validation caches.
    for (let i = 0; i < 2; i++) {
      expect((await stack.query(DEPTH_5)).errors).toBeUndefined();
      expect((await stack.query(manyTokens(100))).errors).toBeUndefined();
      expect(codes(await stack.query(manyTokens(990)))).toEqual(['GRAPHQL_PARSE_FAILED']);
    }

    const lowered = await reload(stack.config, withLimits(stack.config, { maxDepth: 4, maxTokens: 50 }));
    expect(lowered.applied).toEqual(['limits.maxDepth', 'limits.maxTokens']);
    expect((await stack.query(DEPTH_5)).errors?.[0]?.message).toMatch(/depth/i);
    expect((await stack.query(manyTokens(100))).errors?.[0]?.message).toMatch(/token/i);

    await reload(lowered.running, withLimits(lowered.running, { maxDepth: 6, maxTokens: 2000 }));
    expect((await stack.query(DEPTH_5)).errors).toBeUndefined();
    expect((await stack.query(manyTokens(990))).errors).toBeUndefined();
  });

  it('applies a lowered upstream budget to the next reads', async () => {
    stack = await startStack({ webhooks: false, sim: { history: 1 }, config: { limits: { upstreamCallsPerIdentityPerMinute: 100 } } });
    const NODES = 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }';
    const forged = (n: number, from: number) => Array.from({ length: n }, (_, i) => toGlobalId('Pipeline', 'gh', `octo-org/api/runs/${990_000_000 + from + i}`));
    expect(codes(await stack.query(NODES, { ids: forged(6, 0) }))).toEqual([]);
    const { applied } = await reload(stack.config, withLimits(stack.config, { upstreamCallsPerIdentityPerMinute: 5 }));
    expect(applied).toEqual(['limits.upstreamCallsPerIdentityPerMinute']);
    stack.sim.resetRequests();
    expect(codes(await stack.query(NODES, { ids: forged(6, 100) }))).toEqual(['UPSTREAM_BUDGET_EXCEEDED']);
    expect(stack.sim.requests).toEqual([]);
  });
});

describe('config reload: rate limits', () => {
  it('limits sooner after a lowered max, counting the calls made before the reload', async () => {
    stack = await startStack({ webhooks: false, sim: { repositories: ['api'], history: 1 }, config: { rateLimit: { fields: { 'Query.backends': { max: 10, window: '1m' } } } } });
    const call = async () => codes(await stack.query('{ backends { name } }'));
    expect(await call()).toEqual([]);
    expect(await call()).toEqual([]);
    const next = { ...stack.config, rateLimit: { ...stack.config.rateLimit, fields: { 'Query.backends': { max: 3, window: '1m' } } } };
    const { applied } = await reload(stack.config, next);
    expect(applied).toEqual(['rateLimit.fields.Query.backends.max']);
    expect(await call()).toEqual([]);
    expect(await call()).toEqual(['RATE_LIMITED']);
  });

  it('refuses a reload naming a field the schema lacks, changing nothing', async () => {
    stack = await startStack({ webhooks: false, sim: { repositories: ['api'], history: 1 }, config: { limits: { maxDepth: 6 }, rateLimit: { fields: { 'Query.backends': { max: 2, window: '1m' } } } } });
    const next = withLimits({ ...stack.config, rateLimit: { ...stack.config.rateLimit, fields: { 'Query.nope': { max: 100, window: '1m' } } } }, { maxDepth: 2 });
    expect(() => stack.gateway.prepareReload(stack.config, next)).toThrow(/rateLimit\.fields: no such field Query\.nope/);
    expect((await stack.query(DEPTH_5)).errors).toBeUndefined();
    expect(codes(await stack.query('{ a: backends { name } b: backends { name } c: backends { name } }'))).toEqual(['RATE_LIMITED']);
  });
});
