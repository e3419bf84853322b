/**
 * One client stops reading while 200 others keep up, under a steady flow of
 * events, with the default bounds (256 events, 1 MiB unread). The gateway must
 * cut the paused one by the bound, counting what the kernel holds for it
 * (keep-alive is set far away so it cannot be what cuts), must not slow or
 * starve the others, must tell the paused one (once it reads again) that it
 * fell behind, and must let it resume from its last cursor with nothing lost
 * and nothing twice.
 */
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { JobEvent } from '../../src/events/event-types.ts';
import type { JobModel } from '../../src/model.ts';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';

const NORMAL_CLIENTS = 200;
const QUEUE_LIMIT = 256;
const QUEUE_BYTES = 1_048_576;

const SUBSCRIPTION = 'subscription ($f: JobFilter) { jobUpdated(filter: $f) { cursor job { name } } }';
const RESUME = 'subscription ($f: JobFilter, $after: String) { jobUpdated(filter: $f, after: $after) { cursor job { name } } }';

interface Received {
  jobUpdated: { cursor: string; job: { name: string } };
}

function job(branch: string, n: number, name: string): JobModel {
  return {
    type: 'Job', backend: 'gh', nativeId: `octo-org/api/jobs/${branch}-${n}`, revision: [n], projectNativeId: 'octo-org/api',
    pipelineNativeId: `octo-org/api/runs/${branch}`, name, status: 'RUNNING', waitReason: null,
    native: { provider: 'github', status: 'in_progress', conclusion: null, failureReason: null }, attempt: 1, url: null, labels: [],
    runnerNativeId: null, runnerName: null, branch, createdAt: null, queuedAt: null, startedAt: null, finishedAt: null, steps: [],
  };
}

const event = (j: JobModel, sequence: number): JobEvent => ({ type: 'Job', job: j, previousStatus: null, sequence, source: 'POLL', receivedAt: new Date().toISOString() });

describe('slow consumer: one paused client among 200', () => {
  let stack: Stack;
  let url: string;
  const clients: Client[] = [];
  const normal: string[][] = Array.from({ length: NORMAL_CLIENTS }, () => []);
  const normalErrors: unknown[] = [];
  /** Small events every normal client must receive, in order. */
  const smallNames: string[] = [];
  let sequence = 1;

  beforeAll(async () => {
    stack = await startStack({ sim: { repositories: ['api'], history: 1 }, config: { server: { keepAliveSeconds: 300 }, limits: { maxConnectionsPerIdentity: NORMAL_CLIENTS + 10 } } });
    url = `${stack.base.replace('http', 'ws')}/graphql`;
    for (let i = 0; i < NORMAL_CLIENTS; i++) {
      const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0 });
      clients.push(client);
      client.subscribe<Received>({ query: SUBSCRIPTION, variables: { f: { branch: 'small' } } }, {
        next: (v) => normal[i]!.push(v.data!.jobUpdated.job.name),
        error: (e) => normalErrors.push(e),
        complete: () => undefined,
      });
    }
    await waitFor(() => stack.gateway.subscriptionCount === NORMAL_CLIENTS, 10_000, 'normal subscribers');
  }, 30_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await stack.close();
  });

  /**
   * Pauses a client subscribed to `branch`, publishes `events` events of `nameBytes` for
   * it (and one small one for the others each time), and checks the whole story.
   */
  async function pausedAmongOthers(branch: string, events: number, nameBytes: number, resumingAfter?: string) {
    // Only the normal clients' group is left from earlier tests.
    await waitFor(() => stack.gateway.subscriptionCount === NORMAL_CLIENTS && stack.gateway.services.bus.subscriberCount === 1, 10_000, 'earlier subscriptions to end');
    const opened: WebSocket[] = [];
    class CapturingWebSocket extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args);
        opened.push(this);
      }
    }
    const paused = createClient({ url, webSocketImpl: CapturingWebSocket, retryAttempts: 0 });
    clients.push(paused);
    const before: Received['jobUpdated'][] = [];
    let receivedBytes = 0;
    const told = new Promise<{ message: string; extensions?: Record<string, unknown> }[]>((resolve) => {
      const operation = resumingAfter ? { query: RESUME, variables: { f: { branch }, after: resumingAfter } } : { query: SUBSCRIPTION, variables: { f: { branch } } };
      paused.subscribe<Received>(operation, {
        next: (v) => {
          before.push(v.data!.jobUpdated);
          receivedBytes += v.data!.jobUpdated.job.name.length;
        },
        error: (e) => resolve(e as { message: string }[]),
        complete: () => resolve([]),
      });
    });
    await waitFor(() => stack.gateway.subscriptionCount === NORMAL_CLIENTS + 1, 10_000, 'the paused subscriber');
    // Subscribers that differ only in their filter share one execution; a resume runs on its own.
    expect(stack.gateway.services.bus.subscriberCount).toBe(resumingAfter ? 2 : 1);
    expect(opened).toHaveLength(1);
    const tcp = (opened[0] as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    tcp.pause();

    // A steady flow: one small event and one for the paused client every 5 ms.
    const name = (n: number) => `${branch}-${n}-`.padEnd(nameBytes, 'x');
    for (let n = 0; n < events; n++) {
      const small = `small-${smallNames.length}`;
      smallNames.push(small);
      stack.gateway.services.bus.publish(event(job('small', smallNames.length, small), sequence++));
      stack.gateway.services.bus.publish(event(job(branch, n, name(n)), sequence++));
      await new Promise((r) => setTimeout(r, 5));
    }
    // Barrier: the gateway has let the paused member go while its client still does not read
    // (keep-alive is 300 s away: only the bound can have cut it).
    await waitFor(() => stack.gateway.subscriptionCount === NORMAL_CLIENTS, 20_000, 'the paused client to be cut');
    await waitFor(() => normal.every((names) => names.length === smallNames.length), 20_000, 'normal clients to receive every event');
    expect(normalErrors).toEqual([]);
    for (const names of normal) expect(names).toEqual(smallNames);

    // Reading again, the paused client gets what was in flight, then the overflow error.
    tcp.resume();
    const errors = await told;
    expect(errors[0]?.extensions?.['code']).toBe('SUBSCRIPTION_OVERFLOW');
    console.log(JSON.stringify({ slowConsumer: { branch, eventsPublished: events, bytesPublished: events * nameBytes, deliveredBeforeOverflow: before.length, bytesBeforeOverflow: receivedBytes } }));
    // What reached it, kernel buffers included, is within the bound.
    expect(before.length).toBeGreaterThan(0);
    expect(before.length).toBeLessThanOrEqual(QUEUE_LIMIT);
    expect(receivedBytes).toBeLessThanOrEqual(QUEUE_BYTES);

    // Resume from the last cursor it saw: the rest, exactly once, in order.
    const after: string[] = [];
    const resumed = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0 });
    clients.push(resumed);
    await new Promise<void>((resolve, reject) => {
      resumed.subscribe<Received>({ query: RESUME, variables: { f: { branch }, after: before.at(-1)!.cursor } }, {
        next: (v) => {
          after.push(v.data!.jobUpdated.job.name.slice(0, 16));
          if (after.length + before.length === events) resolve();
        },
        error: reject,
        complete: () => reject(new Error('completed early')),
      });
    });
    const all = [...before.map((e) => e.job.name.slice(0, 16)), ...after];
    expect(all).toEqual(Array.from({ length: events }, (_, n) => name(n).slice(0, 16)));
    await resumed.dispose();
    await paused.dispose();
  }

  it('cuts a paused client within 1 MiB of big events, the kernel\'s share counted; the others keep everything; it resumes', async () => {
    await pausedAmongOthers('big', 250, 64 * 1024);
  }, 60_000);

  it('cuts a paused client within 256 small events, which the kernel alone would absorb, by the bound and not keep-alive', async () => {
    await pausedAmongOthers('many', 400, 1024);
  }, 60_000);

  it('bounds a paused resuming client (a subscription of its own, paced by its reads) the same way', async () => {
    // A cursor to resume after: the current end of the history.
    const probe = stack.gateway.services.bus.subscribe('Job', () => true);
    stack.gateway.services.bus.publish(event(job('start', 0, 'start'), sequence++));
    const after = (await probe.next()).value!.cursor;
    await probe.return();
    // Up to 256 unread by the client, then up to 256 in its queue: 600 events overflow it.
    await pausedAmongOthers('solo', 600, 1024, after);
  }, 60_000);
});
