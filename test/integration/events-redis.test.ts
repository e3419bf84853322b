import { randomUUID } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGithubSimulator, type GithubSimulator } from '../../adapters/github/simulator/index.ts';
import { sharedRedisGatewayConfig, spawnGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { GITHUB_TOKEN, WEBHOOK_SECRET, waitFor } from '../helpers/stack.ts';

interface Received {
  readonly cursor: string;
  readonly id: string;
  readonly name: string;
  readonly status: string;
}

const JOBS = 'subscription($after: String) { jobUpdated(after: $after) { cursor job { id name status } } }';
/** The Redis Stream entry id inside a cursor (`r1.<epoch>.<id>`). */
const entryId = (cursor: string) => cursor.slice(cursor.lastIndexOf('.') + 1);
/** Orders Redis Stream entry ids (`<ms>-<seq>`): negative, 0 or positive. */
function compareEntryIds(a: string, b: string): number {
  const [ams, aseq] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bms, bseq] = b.split('-').map(BigInt) as [bigint, bigint];
  return ams !== bms ? (ams < bms ? -1 : 1) : aseq === bseq ? 0 : aseq < bseq ? -1 : 1;
}

/** A subscription that records what it receives, and how it ended. */
function subscribe(client: Client, after?: string) {
  const items: Received[] = [];
  const errors: unknown[] = [];
  const unsubscribe = client.subscribe<{ jobUpdated: { cursor: string; job: { id: string; name: string; status: string } } }>(
    { query: JOBS, variables: after ? { after } : {} },
    {
      next: (value) => {
        if (value.errors) errors.push(...value.errors);
        else if (value.data) items.push({ cursor: value.data.jobUpdated.cursor, ...value.data.jobUpdated.job });
      },
      error: (error) => errors.push(error),
      complete: () => undefined,
    },
  );
  return { items, errors, unsubscribe };
}

describe('events shared through Redis Streams by two gateway processes', () => {
  const prefix = `switchyard:test:events:${randomUUID()}:`;
  const redis = new Redis('redis://127.0.0.1:6379');
  const gateways: GatewayProcess[] = [];
  const clients: Client[] = [];
  let sim: GithubSimulator;
  let wsA: string;
  let wsB: string;

  const client = (url: string) => {
    const c = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0 });
    clients.push(c);
    return c;
  };
  /** What was published: the Job stream itself. */
  const stream = async () => (await redis.xrange(`${prefix}Job`, '-', '+')).map(([id]) => id);

  beforeAll(async () => {
    sim = createGithubSimulator({ token: GITHUB_TOKEN, seed: 11, repositories: ['api'], history: 1, runners: [{ name: 'solo', labels: ['self-hosted', 'linux'], scope: 'org' }] });
    await sim.start();
    const config = sharedRedisGatewayConfig({ simUrl: sim.url, streamPrefix: prefix });
    const started = Date.now();
    const [a, b] = await Promise.all([spawnGatewayProcess(config), spawnGatewayProcess(config)]);
    gateways.push(a, b);
    console.info(`two gateway processes up in ${Date.now() - started} ms`);
    wsA = a.wsUrl;
    wsB = b.wsUrl;
    // Webhooks (signed by the simulator) go to gateway A only.
    sim.setWebhook({ url: `${a.base}/webhooks/gh`, secret: WEBHOOK_SECRET });
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.dispose()));
    for (const g of gateways) void g.stop();
    await sim?.stop();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('should deliver every event to every subscriber on both instances exactly once, in order per entity', async () => {
    const subs = [subscribe(client(wsA)), subscribe(client(wsA)), subscribe(client(wsB)), subscribe(client(wsB))];
    // graphql-ws does not acknowledge subscriptions: warm up until every subscriber has seen an event.
    for (let i = 0; !subs.every((s) => s.items.length > 0); i++) {
      expect(i).toBeLessThan(20);
      await sim.triggerRun({ repo: 'api', jobs: [{ name: `warmup-${i}`, labels: ['self-hosted'], outcome: 'success' }] });
      await sim.runUntilIdle();
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 300));
    const mark = (await stream()).at(-1)!;

    const started = Date.now();
    for (let run = 0; run < 3; run++) {
      await sim.triggerRun({
        repo: 'api',
        jobs: [
          { name: `build-${run}`, labels: ['self-hosted'], outcome: 'success' },
          { name: `test-${run}`, labels: ['self-hosted'], outcome: run === 1 ? 'failure' : 'success' },
        ],
      });
    }
    await sim.runUntilIdle();
    const expectedIds = async () => (await redis.xrange(`${prefix}Job`, '-', '+')).map(([id]) => id).filter((id) => compareEntryIds(id, mark) > 0);
    // Everything published has reached every subscriber.
    await waitFor(async () => {
      const ids = await expectedIds();
      return ids.length > 0 && subs.every((s) => s.items.filter((e) => compareEntryIds(entryId(e.cursor), mark) > 0).length >= ids.length);
    }, 15_000, 'all events on all subscribers');
    // Barrier for "no stray duplicates": a sentinel run, stored after all of the above. Each
    // subscriber gets the Job stream in stream order (event-bus.ts offer() passes only cursors
    // after the last one it passed; one FIFO WebSocket each), so once a subscriber has the
    // stream's last entry, a duplicate of anything before it would already be in its list.
    // Compared up to that entry (a later poll event may follow).
    await sim.triggerRun({ repo: 'api', jobs: [{ name: 'sentinel', labels: ['self-hosted'], outcome: 'success' }] });
    await sim.runUntilIdle();
    const end = (await stream()).at(-1)!;
    await waitFor(() => subs.every((s) => s.items.some((e) => entryId(e.cursor) === end)), 15_000, 'the sentinel on every subscriber');
    const after = (id: string) => compareEntryIds(id, mark) > 0 && compareEntryIds(id, end) <= 0;
    const ids = (await expectedIds()).filter(after);
    const truth = (await redis.xrange(`${prefix}Job`, '-', '+'))
      .filter(([id]) => after(id))
      .map(([id, fields]) => {
        const e = JSON.parse(fields[fields.indexOf('e') + 1]!) as { job: { name: string; status: string } };
        return { id, name: e.job.name, status: e.job.status };
      });
    expect(truth.map((t) => t.name)).toEqual(expect.arrayContaining(['build-0', 'test-1', 'build-2']));
    for (const s of subs) {
      const got = s.items.filter((e) => after(entryId(e.cursor)));
      // Exactly the published sequence: none lost, none duplicated, same order (hence in order per entity).
      expect(got.map((e) => entryId(e.cursor))).toEqual(ids);
      expect(got.map((e) => ({ name: e.name, status: e.status }))).toEqual(truth.map(({ name, status }) => ({ name, status })));
      expect(s.errors).toEqual([]);
      const perJob = new Map<string, string[]>();
      for (const e of got) perJob.set(e.id, [...(perJob.get(e.id) ?? []), e.status]);
      for (const statuses of perJob.values()) expect(statuses.at(-1)).toMatch(/SUCCESS|FAILURE/);
    }
    console.info(`redis events: ${ids.length} job events × ${subs.length} subscribers on 2 processes, delivered in ${Date.now() - started} ms`);
    for (const s of subs) s.unsubscribe();
  }, 60_000);

  it('should resume on the other instance after a disconnect: exactly the missed events, then live ones', async () => {
    const cA = client(wsA);
    const first = subscribe(client(wsB));
    for (let i = 0; first.items.length === 0; i++) {
      expect(i).toBeLessThan(20);
      await sim.triggerRun({ repo: 'api', jobs: [{ name: `before-${i}`, labels: ['self-hosted'], outcome: 'success' }] });
      await sim.runUntilIdle();
      await new Promise((r) => setTimeout(r, 200));
    }
    // Unsubscribe only once `first` has everything stored so far, so the events after its last cursor are exactly 'missed'.
    const seenAll = (await stream()).at(-1)!;
    await waitFor(() => first.items.some((e) => entryId(e.cursor) === seenAll), 10_000, 'the first subscriber to catch up');
    first.unsubscribe();
    const last = first.items.at(-1)!.cursor;

    await sim.triggerRun({ repo: 'api', jobs: [{ name: 'missed', labels: ['self-hosted'], outcome: 'success' }] });
    await sim.runUntilIdle();
    await new Promise((r) => setTimeout(r, 300));
    const missed = (await redis.xrange(`${prefix}Job`, `(${entryId(last)}`, '+')).map(([id]) => id);
    expect(missed.length).toBeGreaterThanOrEqual(3); // QUEUED, RUNNING, SUCCESS at least

    const resumed = subscribe(cA, last);
    await waitFor(() => resumed.items.length >= missed.length, 10_000, 'replay');
    await sim.triggerRun({ repo: 'api', jobs: [{ name: 'live', labels: ['self-hosted'], outcome: 'success' }] });
    await sim.runUntilIdle();
    await waitFor(() => resumed.items.some((e) => e.name === 'live' && e.status === 'SUCCESS'), 10_000, 'live events');
    // Barrier for "no duplicate, nothing extra": the stream's last entry now. The subscriber gets the
    // stream in order, so once it has that entry, anything stray before it is in its list too.
    const all = (await redis.xrange(`${prefix}Job`, `(${entryId(last)}`, '+')).map(([id]) => id);
    await waitFor(() => resumed.items.some((e) => entryId(e.cursor) === all.at(-1)), 10_000, "the stream's last entry");
    const got = resumed.items.map((e) => entryId(e.cursor));
    expect(got.slice(0, got.indexOf(all.at(-1)!) + 1)).toEqual(all);
    expect(resumed.items.slice(0, missed.length).every((e) => e.name === 'missed')).toBe(true);
    expect(resumed.errors).toEqual([]);
    resumed.unsubscribe();
  }, 60_000);

  it('should end a subscription whose cursor is not in the history with HISTORY_LOST', async () => {
    const [oldest] = await stream();
    // An id just before the oldest retained entry: whatever followed it may be gone.
    const [ms] = oldest!.split('-');
    const epoch = (await redis.get(`${prefix}epoch`))!;
    for (const cursor of [`r1.${epoch}.${Number(ms) - 1}-0`, `r1.0123456789abcdef.${oldest}`]) {
      const sub = subscribe(client(wsB), cursor);
      await waitFor(() => sub.errors.length > 0, 5000, 'HISTORY_LOST');
      expect(JSON.stringify(sub.errors)).toContain('HISTORY_LOST');
      expect(JSON.stringify(sub.errors)).toMatch(/[Rr]efetch/);
      expect(sub.items).toEqual([]);
    }
  });
});
