/**
 * Fault test with a checker of its own: two gateway processes share a private,
 * persisted Redis; signed GitHub webhooks arrive at a steady rate through a
 * relay that redelivers failed deliveries to a live instance; resuming
 * graphql-ws clients are subscribed on both instances. Mid-run one gateway is
 * killed with SIGKILL (and started again) and Redis is restarted. Every
 * logical subscriber must end with 0 lost, 0 duplicated, 0 unexpected events.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createGithubSimulator, type GithubSimulator } from '../../adapters/github/simulator/index.ts';
import { countDeliveries, jobChangeOf, type SentJobChange, type SubscriberCounts } from '../helpers/delivery-checker.ts';
import { sharedRedisGatewayConfig, spawnGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.ts';
import { ResumingSubscriber, type JobFilter } from '../helpers/resuming-subscriber.ts';
import { GITHUB_TOKEN, startStack, WEBHOOK_SECRET, waitFor } from '../helpers/stack.ts';
import { startWebhookRelay, type WebhookRelay } from '../helpers/webhook-relay.ts';

/** Measured jobs (each sends queued, in_progress and completed), and the pause between simulator steps. */
const JOBS = 48;
const STEP_MS = 40;
/** Longer than ioredis' reconnect budget for a command (maxRetriesPerRequest), so webhooks meet a Redis that is down. */
const REDIS_DOWN_MS = 1500;
const FILTERS: readonly JobFilter[] = [{}, { status: ['RUNNING'] }, { status: ['SUCCESS', 'FAILURE'] }];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('fault test: SIGKILL of a gateway and a Redis restart lose nothing', () => {
  let redis: PrivateRedis | undefined;
  let sim: GithubSimulator | undefined;
  let relay: WebhookRelay | undefined;
  const gateways: (GatewayProcess | null)[] = [null, null];
  const subscribers: ResumingSubscriber[] = [];

  afterAll(async () => {
    await Promise.allSettled(subscribers.map((s) => s.stop()));
    await sim?.stop();
    await relay?.close();
    await Promise.allSettled(gateways.map((g) => g?.stop('SIGKILL')));
    await redis?.stop();
  });

  it('should count 0 lost, 0 duplicated and 0 unexpected events per subscriber', async () => {
    const started = Date.now();
    redis = await startPrivateRedis();
    sim = createGithubSimulator({ token: GITHUB_TOKEN, seed: 31, repositories: ['api', 'web'], history: 1 });
    await sim.start();
    const config = sharedRedisGatewayConfig({ simUrl: sim.url, streamPrefix: 'switchyard:fault:', redisUrl: redis.url });
    const live = () => gateways.filter((g): g is GatewayProcess => g !== null);
    [gateways[0], gateways[1]] = await Promise.all([spawnGatewayProcess(config), spawnGatewayProcess(config)]);
    relay = await startWebhookRelay(() => live().map((g) => `${g.base}/webhooks/gh`));
    sim.setWebhook({ url: relay.url, secret: WEBHOOK_SECRET });

    // Two subscribers per filter, one starting on each instance; each resumes wherever it can.
    FILTERS.forEach((filter) => {
      for (let i = 0; i < 2; i++) {
        const subscriber = new ResumingSubscriber(`${JSON.stringify(filter)}@${i}`, filter, (attempt) => {
          const urls = live().map((g) => g.wsUrl);
          return urls.length ? urls[(i + attempt) % urls.length]! : null;
        });
        subscribers.push(subscriber);
        subscriber.start();
      }
    });
    // graphql-ws does not acknowledge subscriptions: warm up until every subscriber has seen a change.
    for (let i = 0; !subscribers.every((s) => s.received.length > 0); i++) {
      expect(i).toBeLessThan(40);
      await sim.triggerRun({ repo: 'api', jobs: [{ name: `warmup-${i}`, labels: ['self-hosted', 'linux'], outcome: 'failure' }] });
      await sim.runUntilIdle();
      await relay.drained(10_000);
      await sleep(200);
    }

    // Steady traffic: simulator steps at a fixed pace, a new run whenever nothing can move.
    let created = 0;
    let killed = false;
    let redisRestarted = false;
    let restartA: Promise<void> | null = null;
    let restartRedis: Promise<void> | null = null;
    const trafficStarted = Date.now();
    while (created < JOBS || (await sim.step())) {
      if (created < JOBS && !(await sim.step())) {
        const names = [`f-${created}`, `f-${created + 1}`];
        created += names.length;
        await sim.triggerRun({
          repo: created % 4 === 0 ? 'api' : 'web',
          jobs: names.map((name, j) => ({ name, labels: ['self-hosted', 'linux'], outcome: j === 1 ? 'failure' : 'success' })),
        });
      }
      if (!killed && created >= JOBS * 0.25) {
        killed = true;
        // The dead instance stays a target (as behind a load balancer) until its replacement is up.
        restartA = gateways[0]!.stop('SIGKILL').then(async () => {
          await sleep(1000);
          gateways[0] = await spawnGatewayProcess(config);
        });
      }
      if (!redisRestarted && created >= JOBS * 0.6) {
        redisRestarted = true;
        restartRedis = redis.restart(REDIS_DOWN_MS);
      }
      await sleep(STEP_MS);
    }
    await Promise.all([restartA, restartRedis]);
    await relay.drained(60_000);
    const trafficMs = Date.now() - trafficStarted;

    const measured = (name: string) => name.startsWith('f-');
    const sent: SentJobChange[] = relay.deliveries
      .filter((d) => d.event === 'workflow_job')
      .map((d) => jobChangeOf(d.body))
      .filter((c): c is SentJobChange => c !== null && measured(c.name));
    const count = (): SubscriberCounts[] => subscribers.map((s) => countDeliveries(s.label, s.filter, sent, s.received, measured));
    // Everything expected has arrived everywhere (lost reaches 0).
    await waitFor(() => count().every((c) => c.lost === 0), 30_000, 'every expected event on every subscriber').catch(() => undefined);
    // Barrier for "no stray duplicates": a sentinel job (QUEUED, RUNNING, SUCCESS: in every filter),
    // sent once every measured delivery was answered, so stored after all of them. A subscriber
    // gets the stream in order (within a stream the bus passes only cursors after the last; a
    // resume replays after the last cursor received), so once it has the sentinel's event, any
    // duplicate of a measured one would already be counted. The sentinel itself is not measured.
    await sim.triggerRun({ repo: 'api', jobs: [{ name: 'sentinel', labels: ['self-hosted', 'linux'], outcome: 'success' }] });
    await sim.runUntilIdle();
    await relay.drained(30_000);
    const sentinelOf = (s: ResumingSubscriber) => (s.filter.status?.includes('SUCCESS') || !s.filter.status ? 'SUCCESS' : 'RUNNING');
    const sentinelSeen = await waitFor(() => subscribers.every((s) => s.received.some((e) => e.name === 'sentinel' && e.status === sentinelOf(s))), 30_000, 'the sentinel on every subscriber')
      .then(() => true, () => false);

    const counts = count();
    const total = (k: 'lost' | 'duplicated' | 'unexpected' | 'expected' | 'received') => counts.reduce((n, c) => n + c[k], 0);
    const redelivered = relay.deliveries.filter((d) => d.attempts.length > 1);
    const summary = {
      test: 'fault-redis',
      webhooksSent: relay.deliveries.length,
      jobChangesSent: sent.length,
      subscribers: subscribers.length,
      expected: total('expected'),
      received: total('received'),
      lost: total('lost'),
      duplicated: total('duplicated'),
      unexpected: total('unexpected'),
      gatewaySigkills: 1,
      gatewayRestarts: 1,
      redisRestarts: 1,
      redeliveredWebhooks: redelivered.length,
      failedAttempts: Object.fromEntries(
        [...new Set(redelivered.flatMap((d) => d.attempts.slice(0, -1)))].map((status) => [status, redelivered.reduce((n, d) => n + d.attempts.slice(0, -1).filter((a) => a === status).length, 0)]),
      ),
      resubscriptions: subscribers.reduce((n, s) => n + s.resubscriptions, 0),
      sentinelSeen,
      serverErrorCodes: [...new Set(subscribers.flatMap((s) => s.errorCodes))],
      trafficMs,
      durationMs: Date.now() - started,
    };
    console.log(JSON.stringify(summary));
    expect(sent.length).toBe(JOBS * 3);
    expect(sentinelSeen).toBe(true);
    expect(counts.filter((c) => c.lost + c.duplicated + c.unexpected > 0)).toEqual([]);
    expect(summary.serverErrorCodes).not.toContain('HISTORY_LOST');
    // The faults were real: some deliveries had to be redelivered, and subscribers had to resume.
    expect(summary.redeliveredWebhooks).toBeGreaterThan(0);
    expect(summary.resubscriptions).toBeGreaterThan(0);
  }, 150_000);
});

describe('a webhook whose changes Redis would not store', () => {
  it('should be answered 503, not acknowledged, and publish once when redelivered', async () => {
    const redis = await startPrivateRedis();
    const admin = new Redis(redis.url);
    const prefix = 'switchyard:refused:';
    const stack = await startStack({ sim: { repositories: ['api'], history: 1 }, config: { events: { store: 'redis', redisUrl: redis.url, streamPrefix: prefix } } });
    try {
      // Delivery ids can still be claimed, but no event can be appended (inside the script too).
      await admin.call('ACL', 'SETUSER', 'default', '-xadd');
      await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'refused', labels: ['self-hosted', 'linux'], outcome: 'success' }] });
      const refused = stack.sim.deliveries.filter((d) => d.event === 'workflow_job');
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.map((d) => d.status)).toEqual(refused.map(() => 503));
      expect(await admin.xlen(`${prefix}Job`)).toBe(0);

      await admin.call('ACL', 'SETUSER', 'default', '+xadd');
      for (const d of refused) expect(await stack.sim.redeliver(d.id)).toBe(202);
      const stored = async () => (await admin.xrange(`${prefix}Job`, '-', '+')).map(([, f]) => (JSON.parse(f[1]!) as { job: { name: string; status: string } }).job);
      expect(await stored()).toEqual([expect.objectContaining({ name: 'refused', status: 'QUEUED' })]);
      // A second redelivery is a duplicate now, and appends nothing.
      expect(await stack.sim.redeliver(refused[0]!.id)).toBe(200);
      expect(await admin.xlen(`${prefix}Job`)).toBe(1);
    } finally {
      await stack.close();
      admin.disconnect();
      await redis.stop();
    }
  }, 30_000);
});
