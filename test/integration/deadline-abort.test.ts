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
// Each provider's client with one project, and the upstream requests its pipeline list sends at once.
const PROVIDERS: [string, Record<string, unknown>, number][] = [
  ['github', { provider: 'github', token: { value: 'ghp_other' }, repositories: ['o/r'] }, 1],
  ['gitlab', { provider: 'gitlab', token: { value: 'glpat-other' }, projects: ['42'] }, 1],
  // The job's builds and the queue.
  ['jenkins', { provider: 'jenkins', user: 'bot', apiToken: { value: 'jt' }, jobs: ['app'] }, 2],
];

describe.each(PROVIDERS)('a %s backend whose upstream hangs', (_provider, stuck, requests) => {
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
      extraBackends: [{ name: 'stuck', url: upstream.url, requestTimeoutMs: 60_000, ...stuck }],
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
    // The list's requests, not more from retries left running after the answer.
    expect(opened).toBe(requests);
    expect(held.size).toBe(0);

    // One failed query is one failed operation: DEGRADED, not DOWN.
    const health = await stack.query<HealthResult>('{ backends { name health { state lastErrorCode } } }');
    expect(health.data!.backends.find((b) => b.name === 'stuck')!.health).toEqual({ state: 'DEGRADED', lastErrorCode: 'UPSTREAM_TIMEOUT' });
  });
});
