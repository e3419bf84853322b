import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGithubSimulator, type GithubSimulator } from '../../adapters/github/simulator/index.ts';
import { GITHUB_TOKEN, startStack, type Stack } from '../helpers/stack.ts';

interface PipelinesResult {
  pipelines: { nodes: { backend: { name: string }; project: { fullName: string } }[] };
  backends: { name: string; health: { state: string; lastErrorCode: string | null; lastErrorMessage: string | null } }[];
}

const QUERY = `{
  pipelines(first: 10) { nodes { backend { name } project { fullName } } }
  backends { name health { state lastErrorCode lastErrorMessage } }
}`;

describe('partial results when one backend fails', () => {
  let stack: Stack;
  let other: GithubSimulator;

  beforeAll(async () => {
    other = createGithubSimulator({ token: GITHUB_TOKEN, org: 'second-org', repositories: ['svc'], history: 3, seed: 3 });
    await other.start();
    stack = await startStack({
      sim: { repositories: ['api'], history: 3 },
      config: { backendTimeoutMs: 700, freshnessSeconds: 0 },
      extraBackends: [
        { name: 'second', provider: 'github', url: other.url, token: { value: GITHUB_TOKEN }, organizations: ['second-org'], requestTimeoutMs: 5000 },
      ],
    });
  });
  afterAll(async () => {
    await stack.close();
    await other.stop();
  });

  it('should return both backends when both answer', async () => {
    const res = await stack.query<PipelinesResult>(QUERY);
    expect(res.errors).toBeUndefined();
    expect(new Set(res.data!.pipelines.nodes.map((p) => p.backend.name))).toEqual(new Set(['gh', 'second']));
  });

  it('should return the healthy backend\'s data plus one error naming the failing backend (5xx)', async () => {
    other.resetRequests();
    other.setFault({ status: 502, body: { message: 'Server Error' } });
    const res = await stack.query<PipelinesResult>(QUERY);
    // Fields resolve concurrently: read health after the failure was recorded.
    const health = await stack.query<PipelinesResult>('{ backends { name health { state lastErrorCode lastErrorMessage } } }');
    other.setFault(null);
    expect(res.data!.pipelines.nodes.length).toBeGreaterThan(0);
    expect(res.data!.pipelines.nodes.every((p) => p.backend.name === 'gh')).toBe(true);
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]).toMatchObject({ path: ['pipelines'], extensions: { backend: 'second', code: 'UPSTREAM_UNAVAILABLE' } });
    expect(res.errors![0]!.message).not.toContain(GITHUB_TOKEN);
    const second = health.data!.backends.find((b) => b.name === 'second')!;
    // The policy tries a 5xx read 3 times (backend-policy.ts) and counts the operation once in
    // health: one failing query is DEGRADED, not DOWN (3 failed operations in a row are DOWN).
    expect(other.requests.map((r) => r.status)).toEqual([502, 502, 502]);
    expect(second.health.state).toBe('DEGRADED');
    expect(second.health.lastErrorCode).toBe('UPSTREAM_UNAVAILABLE');
    expect(second.health.lastErrorMessage).toMatch(/^\[second\]/);
    expect(health.data!.backends.find((b) => b.name === 'gh')!.health.state).toBe('OK');
  });

  it('should not wait for a backend that hangs past the deadline (UPSTREAM_TIMEOUT)', async () => {
    other.setFault({ hang: true });
    const started = Date.now();
    const res = await stack.query<PipelinesResult>(QUERY);
    const elapsed = Date.now() - started;
    other.setFault(null);
    expect(elapsed).toBeLessThan(3000);
    expect(res.data!.pipelines.nodes.length).toBeGreaterThan(0);
    expect(res.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ backend: 'second', code: 'UPSTREAM_TIMEOUT' }) })]);
  });

  it('should map a rejected token to UPSTREAM_UNAUTHORIZED without leaking it', async () => {
    other.setFault({ status: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' } });
    const res = await stack.query<PipelinesResult>('{ runners { nodes { name backend { name } } } }');
    other.setFault(null);
    expect(res.errors?.[0]).toMatchObject({ extensions: { backend: 'second', code: 'UPSTREAM_UNAUTHORIZED' } });
    expect(JSON.stringify(res)).not.toContain(GITHUB_TOKEN);
  });

  it('should read unknown and malformed ids as null, not as errors', async () => {
    const unknownBackend = Buffer.from('Pipeline:nowhere:a/b/runs/1').toString('base64url');
    const missingRun = Buffer.from('Pipeline:gh:octo-org/api/runs/999999999').toString('base64url');
    const res = await stack.query<{ a: unknown; b: unknown; c: unknown; n: unknown[] }>(
      `{ a: node(id: "${unknownBackend}") { id } b: node(id: "garbage!") { id } c: node(id: "${missingRun}") { id } n: nodes(ids: ["x", "${missingRun}"]) { id } }`,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ a: null, b: null, c: null, n: [null, null] });
  });

  it('should reject bad arguments with a clear BAD_USER_INPUT error', async () => {
    const res = await stack.query('{ pipelines(first: 101) { nodes { id } } }');
    expect(res.errors?.[0]).toMatchObject({ message: 'first must be between 1 and 100, got 101', extensions: { code: 'BAD_USER_INPUT' } });
    const cursor = await stack.query('{ pipelines(after: "nonsense") { nodes { id } } }');
    expect(cursor.errors?.[0]?.message).toMatch(/Invalid cursor/);
    const filter = await stack.query('{ jobs(filter: { pipelines: ["abc"] }) { nodes { id } } }');
    expect(filter.errors?.[0]?.message).toMatch(/filter.pipelines: "abc" is not a Pipeline ID/);
    const time = await stack.query('{ pipelines(filter: { createdAfter: "yesterday" }) { nodes { id } } }');
    expect(time.errors?.[0]?.message).toMatch(/DateTime must be an ISO-8601 timestamp/);
  });
});

describe('upstream rate limits are waited out exactly', () => {
  it('should send no request to a backend while its Retry-After runs, and show it in health', async () => {
    const sim = createGithubSimulator({ token: GITHUB_TOKEN, org: 'rl-org', repositories: ['svc'], history: 1, seed: 5 });
    await sim.start();
    const stack = await startStack({
      sim: { repositories: ['api'], history: 1 },
      config: { freshnessSeconds: 0 },
      extraBackends: [{ name: 'limited', provider: 'github', url: sim.url, token: { value: GITHUB_TOKEN }, organizations: ['rl-org'] }],
    });
    try {
      sim.setFault({ status: 429, retryAfterSeconds: 30, body: { message: 'API rate limit exceeded' } });
      const first = await stack.query<{ runners: unknown }>('{ runners { nodes { name } } }');
      expect(first.errors?.[0]).toMatchObject({ extensions: { backend: 'limited', code: 'UPSTREAM_RATE_LIMITED' } });
      sim.setFault(null);
      sim.resetRequests();
      stack.gateway.services.listCache.clear();
      const second = await stack.query<{ backends: { name: string; health: { rateLimitedUntil: string | null } }[] }>(
        '{ runners { nodes { name } } backends { name health { rateLimitedUntil circuit } } }',
      );
      expect(second.errors?.[0]).toMatchObject({ extensions: { backend: 'limited', code: 'UPSTREAM_RATE_LIMITED' } });
      expect(sim.requests).toEqual([]);
      const until = second.data!.backends.find((b) => b.name === 'limited')!.health.rateLimitedUntil;
      expect(Date.parse(until!) - Date.now()).toBeGreaterThan(25_000);
    } finally {
      await stack.close();
      await sim.stop();
    }
  });
});
