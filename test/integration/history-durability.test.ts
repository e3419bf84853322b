import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryStatus } from '../../src/history/history-service.ts';
import type { SqlHistoryStore } from '../../src/history/history-store.ts';
import { difference, postgresSchema, publishedRevisions, recordedRevisions, streamMarks } from '../helpers/history-recorded.ts';
import { startGatewayStack, type GatewayStack } from '../helpers/gateway-stack.ts';
import { collect, GITHUB_TOKEN, startStack, waitFor, WEBHOOK_SECRET, type Stack } from '../helpers/stack.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

const JOB_EVENTS = 'subscription { jobUpdated { job { name status } } }';
type JobEvent = { jobUpdated: { job: { name: string; status: string } } };

async function readyz(stack: GatewayStack): Promise<{ status: number; body: { status: string; history: HistoryStatus } }> {
  const res = await fetch(`${stack.base}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string; history: HistoryStatus } };
}

describe('history with Redis events: a PostgreSQL lost at run time (through a proxy the test cuts)', () => {
  const prefix = `switchyard:test:hdur:${randomUUID()}:`;
  const redis = new Redis('redis://127.0.0.1:6379');
  const logs: Record<string, unknown>[] = [];
  let proxy: TcpProxy;
  let database: Awaited<ReturnType<typeof postgresSchema>>;
  let reader: SqlHistoryStore;
  let stack: Stack;

  beforeAll(async () => {
    proxy = await startTcpProxy(5432);
    database = await postgresSchema(proxy.port);
    reader = await database.reader();
    stack = await startStack({
      sim: { repositories: ['api'], history: 1 },
      config: { events: { store: 'redis', streamPrefix: prefix }, history: { url: { env: 'SWITCHYARD_TEST_HISTORY_URL' } } },
      env: { ...process.env, SWITCHYARD_TEST_HISTORY_URL: database.url },
      logSink: (line) => void logs.push(JSON.parse(line) as Record<string, unknown>),
    });
    await stack.gateway.history.ready;
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
    await reader?.close();
    await proxy?.close();
    await database?.drop();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('keeps live queries and subscriptions working, answers analytics ANALYTICS_UNAVAILABLE naming the cause, then records every event of the outage', async () => {
    await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'before-outage', labels: ['self-hosted'], outcome: 'success' }] });
    await stack.sim.runUntilIdle();
    await waitFor(async () => difference(await publishedRevisions(redis, prefix), (await recordedRevisions(reader)).keys).length === 0, 15_000, 'the events before the outage recorded');
    const before = await recordedRevisions(reader);
    const marks = await streamMarks(redis, prefix);
    expect((await readyz(stack)).body.history).toMatchObject({ state: 'ok', feed: 'redis-stream', lag: 0, pending: 0, lost: 0 });

    const live = collect<JobEvent>(stack.wsClient(), JOB_EVENTS, undefined, (items) => items.some((e) => e.jobUpdated.job.name === 'during-outage-2' && e.jobUpdated.job.status === 'SUCCESS'), 20_000);
    await waitFor(() => stack.gateway.subscriptionCount === 1, 5000, 'the subscription');
    await proxy.cut();
    for (let i = 0; i < 3; i++) {
      await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: `during-outage-${i}`, labels: ['self-hosted'], outcome: i === 1 ? 'failure' : 'success' }, { name: `lint-${i}`, labels: ['self-hosted'], outcome: 'success' }] });
    }
    await stack.sim.runUntilIdle();
    // The subscription saw the outage's events live.
    await live.done;
    await waitFor(async () => (await readyz(stack)).body.history.state === 'degraded', 15_000, 'the history to notice its database is gone');

    // In the same window: /readyz stays ready, a live query answers, analytics do not.
    const health = await readyz(stack);
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ready');
    expect(health.body.history).toMatchObject({ state: 'degraded', feed: 'redis-stream', cause: expect.stringMatching(/ECONNREFUSED|terminated|closed|reset/i) });
    expect((health.body.history.lag ?? 0) + (health.body.history.pending ?? 0)).toBeGreaterThan(0);
    const query = await stack.query<{ jobs: { nodes: { name: string }[] } }>('{ jobs(first: 50) { nodes { name status } } }');
    expect(query.errors).toBeUndefined();
    expect(query.data!.jobs.nodes.map((j) => j.name)).toContain('during-outage-2');
    const analytics = await stack.gateway.history.read((store) => store.query('SELECT count(*) FROM transitions')).then(
      () => null,
      (error: Error & { extensions?: { code?: string } }) => error,
    );
    expect(analytics?.extensions?.code).toBe('ANALYTICS_UNAVAILABLE');
    expect(analytics?.message).toMatch(/History and analytics are unavailable: the history database is unreachable since .*(ECONNREFUSED|terminated|closed|reset)/i);

    const duringOutage = await publishedRevisions(redis, prefix, marks);
    expect(duringOutage.size).toBeGreaterThanOrEqual(6);
    expect(difference(duringOutage, (await recordedRevisions(reader)).keys)).toHaveLength(duringOutage.size);

    await proxy.restore();
    await waitFor(async () => (await recordedRevisions(reader)).rows === before.rows + duringOutage.size, 30_000, 'the catch-up');
    const after = await recordedRevisions(reader);
    // Exactly what was published, once each: nothing lost, nothing twice.
    expect(difference(duringOutage, after.keys)).toEqual([]);
    expect(after.rows).toBe(before.rows + duringOutage.size);
    expect(after.keys.size).toBe(after.rows);
    await waitFor(async () => (await readyz(stack)).body.history.state === 'ok', 10_000, 'the history to recover');
    await waitFor(async () => (await readyz(stack)).body.history.pending === 0, 10_000, 'every entry acknowledged');
    expect((await readyz(stack)).body.history).toMatchObject({ state: 'ok', lag: 0, pending: 0, lost: 0, gaps: 0 });
    expect(await stack.gateway.history.read((store) => store.query<{ n: number }>('SELECT count(*)::int AS n FROM transitions'))).toEqual([{ n: after.rows }]);

    // One line when it degraded, one when it recovered.
    expect(logs.filter((l) => String(l.msg).startsWith('history degraded'))).toHaveLength(1);
    expect(logs.filter((l) => String(l.msg).startsWith('history recovered'))).toHaveLength(1);
  }, 90_000);
});

describe('history recorded by two gateway instances sharing Redis and one PostgreSQL', () => {
  const prefix = `switchyard:test:hdur2:${randomUUID()}:`;
  const redis = new Redis('redis://127.0.0.1:6379');
  let database: Awaited<ReturnType<typeof postgresSchema>>;
  let reader: SqlHistoryStore;
  let a: Stack;
  let b: GatewayStack;

  beforeAll(async () => {
    database = await postgresSchema();
    reader = await database.reader();
    const env = { ...process.env, SWITCHYARD_TEST_HISTORY_URL: database.url };
    const config = { events: { store: 'redis', streamPrefix: prefix }, history: { url: { env: 'SWITCHYARD_TEST_HISTORY_URL' } } };
    a = await startStack({ sim: { repositories: ['api'], history: 1 }, config, env });
    // B: the same backend (A's simulator), the same Redis namespace and database.
    b = await startGatewayStack({
      ...config,
      backends: [{
        name: 'gh', provider: 'github', url: a.sim.url, token: { value: GITHUB_TOKEN }, webhookSecret: { value: WEBHOOK_SECRET },
        organizations: ['octo-org'], runners: { organizations: ['octo-org'] },
      }],
    }, { env });
    await Promise.all([a.gateway.history.ready, b.gateway.history.ready]);
  }, 60_000);

  afterAll(async () => {
    await b?.close();
    await a?.close();
    await reader?.close();
    await database?.drop();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  /** Both instances have read and acknowledged everything, and the history holds exactly what was published. */
  const settled = async () => {
    const [ha, hb] = await Promise.all([readyz(a), readyz(b)]);
    if (ha.body.history.lag !== 0 || ha.body.history.pending !== 0 || hb.body.history.lag !== 0) return false;
    const recorded = await recordedRevisions(reader);
    return difference(await publishedRevisions(redis, prefix), recorded.keys).length === 0;
  };

  it('records each entity revision once: webhooks to one, redeliveries and replays to the other, and the streams replayed to the group', async () => {
    for (let i = 0; i < 4; i++) {
      await a.sim.triggerRun({ repo: 'api', jobs: [{ name: `build-${i}`, labels: ['self-hosted'], outcome: 'success' }, { name: `test-${i}`, labels: ['self-hosted'], outcome: i === 2 ? 'failure' : 'success' }] });
    }
    await a.sim.runUntilIdle();
    await waitFor(settled, 20_000, 'everything published recorded');
    const published = await publishedRevisions(redis, prefix);
    const first = await recordedRevisions(reader);
    expect(first.rows).toBe(published.size);
    const rows = async () => (await reader.query<{ p: number; j: number }>('SELECT (SELECT count(*)::int FROM pipelines) AS p, (SELECT count(*)::int FROM jobs) AS j'))[0]!;
    const shapes = await rows();
    expect(shapes.p).toBe(4);
    expect(shapes.j).toBe(8);

    // The same deliveries to B: a redelivery (same id: a duplicate), and a replay (a new id: accepted, nothing new to publish).
    const deliveries = a.sim.deliveries.filter((d) => d.event === 'workflow_job' || d.event === 'workflow_run');
    expect(deliveries.length).toBeGreaterThan(10);
    for (const d of deliveries) {
      const redelivered = await fetch(`${b.base}/webhooks/gh`, { method: 'POST', headers: d.headers, body: d.body });
      expect(redelivered.status).toBe(200);
      const replayed = await fetch(`${b.base}/webhooks/gh`, { method: 'POST', headers: { ...d.headers, 'x-github-delivery': randomUUID() }, body: d.body });
      expect(replayed.status).toBeLessThan(300);
    }
    // The streams replayed to the group from the start: both instances read everything again.
    for (const type of ['Job', 'Pipeline', 'Runner']) await redis.xgroup('SETID', `${prefix}${type}`, 'history', '0', 'ENTRIESREAD', 0);
    expect((await readyz(a)).body.history.lag).toBeGreaterThan(0);
    await waitFor(settled, 20_000, 'the replay read and acknowledged');

    const second = await recordedRevisions(reader);
    expect(second.rows).toBe(published.size);
    expect(difference(published, second.keys)).toEqual([]);
    expect(await rows()).toEqual(shapes);
    // Rows inserted by either instance add up to the rows there are: nothing was counted twice.
    const [ha, hb] = await Promise.all([readyz(a), readyz(b)]);
    expect(ha.body.history.written + hb.body.history.written).toBe(published.size);
  }, 90_000);
});
