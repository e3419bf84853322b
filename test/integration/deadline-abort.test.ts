import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useFakeUpstream } from '../helpers/fake-upstream.ts';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';

interface Result {
  pipelines: { nodes: { backend: { name: string } }[] };
}
interface HealthResult {
  backends: { name: string; health: { state: string; lastErrorCode: string | null } }[];
}

/**
 * Issue 12 item 3: a deadline cancels the upstream work. A backend whose
 * upstream never answers is given to the gateway with a request timeout far
 * beyond the test (60 s), so only the deadline (700 ms) can close its requests.
 */
describe('a backend whose upstream hangs', () => {
  const held = new Set<ServerResponse>();
  let opened = 0;
  let closed = 0;
  // Answers nothing: every request is held until the gateway closes it.
  const upstream = useFakeUpstream((_req, res) => {
    opened++;
    held.add(res);
    res.on('close', () => {
      closed++;
      held.delete(res);
    });
  });
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      sim: { repositories: ['api'], history: 2 },
      config: { backendTimeoutMs: 700, freshnessSeconds: 0 },
      extraBackends: [
        { name: 'stuck', provider: 'github', url: upstream.url, token: { value: 'ghp_other' }, repositories: ['o/r'], requestTimeoutMs: 60_000 },
      ],
    });
  });
  afterAll(async () => {
    for (const res of held) res.destroy();
    await stack.close();
  });

  it("should answer with that backend's error at the deadline and abort the upstream request", async () => {
    const res = await stack.query<Result>('{ pipelines(first: 10) { nodes { backend { name } } } }');
    expect(res.data!.pipelines.nodes.length).toBeGreaterThan(0);
    expect(res.data!.pipelines.nodes.every((p) => p.backend.name === 'gh')).toBe(true);
    expect(res.errors).toEqual([
      expect.objectContaining({ path: ['pipelines'], extensions: expect.objectContaining({ backend: 'stuck', code: 'UPSTREAM_TIMEOUT' }) }),
    ]);
    // The sentinel: the fake server sees its held request's connection closed (the client's own timeout is 60 s away).
    await waitFor(() => opened > 0 && closed === opened, 5000, 'the hung upstream request to be aborted');
    // One list request (the configured repository's runs), not one per retry left running after the answer.
    expect(opened).toBe(1);
    expect(held.size).toBe(0);

    // One failed query is one failed operation: DEGRADED, not DOWN.
    const health = await stack.query<HealthResult>('{ backends { name health { state lastErrorCode } } }');
    expect(health.data!.backends.find((b) => b.name === 'stuck')!.health).toEqual({ state: 'DEGRADED', lastErrorCode: 'UPSTREAM_TIMEOUT' });
  });
});
