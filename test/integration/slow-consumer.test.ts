/**
 * One client stops reading while 200 others keep up, under a steady flow of
 * events. The gateway must not buffer without bound for the paused one, must
 * not slow or starve the others, must tell the paused one (once it reads
 * again) that it fell behind, and must let it resume from its last cursor
 * with nothing lost and nothing twice.
 */
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { JobEvent } from '../../src/events/event-types.ts';
import type { JobModel } from '../../src/model.ts';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';

const NORMAL_CLIENTS = 200;
const EVENTS = 250;
/** Big events for the paused client: the kernel absorbs a few MB per socket before the gateway has to buffer. */
const BIG_NAME_BYTES = 64 * 1024;
const QUEUE_BYTES = 65_536;

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
  beforeAll(async () => {
    stack = await startStack({ sim: { repositories: ['api'], history: 1 }, config: { subscriptionQueueLimit: 64, subscriptionQueueBytes: QUEUE_BYTES, limits: { maxConnectionsPerIdentity: NORMAL_CLIENTS + 10 } } });
  });
  afterAll(() => stack.close());

  it('bounds what is buffered for the paused client, keeps the others whole, tells it, and lets it resume', async () => {
    const url = `${stack.base.replace('http', 'ws')}/graphql`;
    const clients: Client[] = [];
    const normal: string[][] = Array.from({ length: NORMAL_CLIENTS }, () => []);
    const normalErrors: unknown[] = [];
    for (let i = 0; i < NORMAL_CLIENTS; i++) {
      const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0 });
      clients.push(client);
      client.subscribe<Received>({ query: SUBSCRIPTION, variables: { f: { branch: 'small' } } }, {
        next: (v) => normal[i]!.push(v.data!.jobUpdated.job.name),
        error: (e) => normalErrors.push(e),
        complete: () => undefined,
      });
    }

    // The paused client: a real graphql-ws client whose socket we stop reading.
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
      paused.subscribe<Received>({ query: SUBSCRIPTION, variables: { f: { branch: 'big' } } }, {
        next: (v) => {
          before.push(v.data!.jobUpdated);
          receivedBytes += v.data!.jobUpdated.job.name.length;
        },
        error: (e) => resolve(e as { message: string }[]),
        complete: () => resolve([]),
      });
    });
    await waitFor(() => stack.gateway.subscriptionCount === NORMAL_CLIENTS + 1, 10_000, 'all subscribers').catch((e: unknown) => {
      throw new Error(`${String(e)}: ${stack.gateway.subscriptionCount} subscriptions, bus ${stack.gateway.services.bus.subscriberCount}, errors ${JSON.stringify(normalErrors.slice(0, 2))}`);
    });
    // Subscribers that differ only in their filter share one execution.
    expect(stack.gateway.services.bus.subscriberCount).toBe(1);

    expect(opened).toHaveLength(1);
    const tcp = (opened[0] as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    tcp.pause();

    // A steady flow: one small and one big event every 5 ms.
    const bigName = (n: number) => `big-${n}-`.padEnd(BIG_NAME_BYTES, 'x');
    let sequence = 1;
    for (let n = 0; n < EVENTS; n++) {
      stack.gateway.services.bus.publish(event(job('small', n, `small-${n}`), sequence++));
      stack.gateway.services.bus.publish(event(job('big', n, bigName(n)), sequence++));
      await new Promise((r) => setTimeout(r, 5));
    }
    await waitFor(() => normal.every((names) => names.length === EVENTS), 20_000, 'normal clients to receive every event');
    expect(normalErrors).toEqual([]);
    for (const names of normal) expect(names).toEqual(Array.from({ length: EVENTS }, (_, n) => `small-${n}`));

    // Reading again, the paused client gets what was in flight, then the overflow error.
    tcp.resume();
    const errors = await told;
    expect(errors[0]?.extensions?.['code']).toBe('SUBSCRIPTION_OVERFLOW');
    const sentBig = EVENTS * BIG_NAME_BYTES;
    console.log(JSON.stringify({ slowConsumer: { bigEventsPublished: EVENTS, bigBytesPublished: sentBig, deliveredBeforeOverflow: before.length, bytesBeforeOverflow: receivedBytes } }));
    // Everything delivered before the error was at most what the kernel held plus the
    // gateway's bound: far less than was published for it.
    expect(before.length).toBeGreaterThan(0);
    expect(before.length).toBeLessThan(EVENTS);
    expect(receivedBytes).toBeLessThan(sentBig / 2);

    // Resume from the last cursor it saw: the rest, exactly once, in order.
    const after: string[] = [];
    const resumed = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0 });
    clients.push(resumed);
    await new Promise<void>((resolve, reject) => {
      resumed.subscribe<Received>({ query: RESUME, variables: { f: { branch: 'big' }, after: before.at(-1)!.cursor } }, {
        next: (v) => {
          after.push(v.data!.jobUpdated.job.name.slice(0, 12));
          if (after.length + before.length === EVENTS) resolve();
        },
        error: reject,
        complete: () => reject(new Error('completed early')),
      });
    });
    const all = [...before.map((e) => e.job.name.slice(0, 12)), ...after];
    expect(all).toEqual(Array.from({ length: EVENTS }, (_, n) => bigName(n).slice(0, 12)));

    await Promise.all(clients.map((c) => c.dispose()));
  }, 60_000);
});
