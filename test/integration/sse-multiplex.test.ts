/**
 * SSE subscriptions join the subscription multiplexer: a real gateway on
 * 127.0.0.1, real fetch-based SSE clients (distinct-connections mode, as an
 * EventSource reads them) and a real graphql-ws client. Identical operations
 * share one execution (one bus listener, one group); each stream still gets
 * every event with its cursor on the `id:` line, its own filter, its own
 * credential check and its own bound; a Last-Event-ID reconnect resumes alone.
 */
import { request, type IncomingMessage } from 'node:http';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApiKey } from '../../src/auth/api-keys.ts';
import type { JobEvent, WithCursor } from '../../src/events/event-types.ts';
import type { JobModel } from '../../src/model.ts';
import { openSseStream, type SseEvent } from '../helpers/sse.ts';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';

const QUERY = 'subscription { jobUpdated { job { name } } }';
const FILTERED = 'subscription ($f: JobFilter) { jobUpdated(filter: $f) { job { name } } }';
const QUEUE_LIMIT = 64;
const QUEUE_BYTES = 65_536;

type JobData = { jobUpdated: { job: { name: string } } };
const nameOf = (e: SseEvent) => (e.data.data as JobData).jobUpdated.job.name;

function job(branch: string, n: number, name: string): JobModel {
  return {
    type: 'Job', backend: 'gh', nativeId: `octo-org/api/jobs/${branch}-${n}`, revision: [n], projectNativeId: 'octo-org/api',
    pipelineNativeId: `octo-org/api/runs/${branch}`, name, status: 'RUNNING', waitReason: null,
    native: { provider: 'github', status: 'in_progress', conclusion: null, failureReason: null }, attempt: 1, url: null, labels: [],
    runnerNativeId: null, runnerName: null, branch, createdAt: null, queuedAt: null, startedAt: null, finishedAt: null, steps: [],
  };
}

describe('SSE multiplexed with graphql-ws', () => {
  let stack: Stack;
  const keys: Record<string, string> = {};
  const apiKeys: { id: string; hash: string; scopes: unknown[]; revoked?: boolean }[] = [];
  /** Ground truth: every Job event the bus delivers, with its cursor. */
  const published: WithCursor<JobEvent>[] = [];
  let sequence = 1;
  let n = 0;

  beforeAll(async () => {
    for (const id of ['reader', 'revocable']) {
      const k = await createApiKey(id);
      keys[id] = k.key;
      // Equal scopes: both keys' subscriptions fall in one group.
      apiKeys.push({ id, hash: k.hash, scopes: [{ backends: ['*'] }] });
    }
    stack = await startStack({
      sim: { repositories: ['api'], history: 1 },
      config: {
        auth: { mode: 'required', apiKeys },
        subscriptionQueueLimit: QUEUE_LIMIT, subscriptionQueueBytes: QUEUE_BYTES,
        server: { keepAliveSeconds: 300 }, limits: { maxConnectionsPerIdentity: 100 },
      },
    });
    const all = stack.gateway.services.bus.subscribe('Job', () => true);
    void (async () => {
      for await (const e of all) published.push(e);
    })();
  });
  afterAll(() => stack.close());

  const auth = (id = 'reader') => ({ authorization: `Bearer ${keys[id]}` });
  const publish = (branch: string, name: string) => stack.gateway.services.bus.publish({ type: 'Job', job: job(branch, n++, name), previousStatus: null, sequence: sequence++, source: 'POLL', receivedAt: new Date().toISOString() });
  /** The ground-truth listener plus `groups` multiplexed groups, `members` members in all. */
  const settled = (groups: number, members: number) =>
    waitFor(() => stack.gateway.multiplexed.groups === groups && stack.gateway.multiplexed.members === members && stack.gateway.services.bus.subscriberCount === groups + 1, 10_000, `${groups} groups of ${members} members`);

  it('runs N identical SSE subscriptions (and an identical graphql-ws one) as one execution; each gets every event with its cursor as `id:`', async () => {
    const streams = Array.from({ length: 5 }, () => openSseStream(stack.graphqlUrl, { query: QUERY, headers: auth() }));
    await settled(1, 5);
    // A graphql-ws subscriber with the same text, variables and scope joins the same group.
    const ws = createClient({ url: `${stack.base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: auth() });
    const wsNames: string[] = [];
    ws.subscribe<JobData>({ query: QUERY }, { next: (v) => wsNames.push(v.data!.jobUpdated.job.name), error: () => undefined, complete: () => undefined });
    await settled(1, 6);

    const before = published.length;
    for (let i = 0; i < 20; i++) publish('shared', `shared-${i}`);
    const expected = Array.from({ length: 20 }, (_, i) => `shared-${i}`);
    for (const s of streams) await s.until((events) => events.length === 20);
    await waitFor(() => wsNames.length === 20, 5000, 'the graphql-ws member');
    const cursors = published.slice(before).map((e) => e.cursor);
    for (const s of streams) {
      expect(s.events.map(nameOf)).toEqual(expected);
      expect(s.events.map((e) => e.id)).toEqual(cursors);
    }
    expect(wsNames).toEqual(expected);
    for (const s of streams) s.close();
    await ws.dispose();
    await settled(0, 0);
  });

  it('gives each member its own filter in one shared execution', async () => {
    const a = openSseStream(stack.graphqlUrl, { query: FILTERED, variables: { f: { branch: 'left' } }, headers: auth() });
    const b = openSseStream(stack.graphqlUrl, { query: FILTERED, variables: { f: { branch: 'right' } }, headers: auth() });
    await settled(1, 2);
    for (let i = 0; i < 3; i++) {
      publish('left', `left-${i}`);
      publish('right', `right-${i}`);
    }
    await a.until((events) => events.length === 3);
    await b.until((events) => events.length === 3);
    // Sentinel: one more event for each, so nothing of the other side can still be on its way.
    publish('right', 'right-end');
    publish('left', 'left-end');
    await a.until((events) => events.length === 4);
    await b.until((events) => events.length === 4);
    expect(a.events.map(nameOf)).toEqual(['left-0', 'left-1', 'left-2', 'left-end']);
    expect(b.events.map(nameOf)).toEqual(['right-0', 'right-1', 'right-2', 'right-end']);
    a.close();
    b.close();
    await settled(0, 0);
  });

  it('ends only the member whose key is revoked, with the error graphql-ws members get, then `complete`', async () => {
    const kept = openSseStream(stack.graphqlUrl, { query: QUERY, headers: auth('reader') });
    const revoked = openSseStream(stack.graphqlUrl, { query: QUERY, headers: auth('revocable') });
    await settled(1, 2);
    await stack.gateway.reloadApiKeys(apiKeys.map((k) => (k.id === 'revocable' ? { ...k, revoked: true } : k)) as never);
    // Pushed by the credential watcher: no event is needed to end it.
    await revoked.until(() => revoked.completed, 2000);
    expect(revoked.events.map((e) => e.data)).toEqual([{ errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) })] }]);
    await settled(1, 1);
    publish('after-revoke', 'after-revoke');
    await kept.until((events) => events.some((e) => nameOf(e) === 'after-revoke'));
    expect(kept.completed).toBe(false);
    kept.close();
    await settled(0, 0);
    await stack.gateway.reloadApiKeys(apiKeys as never);
  });

  it('ends a client that stops reading with SUBSCRIPTION_OVERFLOW without slowing the others', async () => {
    const readers = Array.from({ length: 3 }, () => openSseStream(stack.graphqlUrl, { query: QUERY, headers: auth() }));
    // A raw HTTP client whose socket stops reading after the head.
    let pausedText = '';
    const pausedRes = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(stack.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...auth() } }, resolve);
      req.on('error', reject);
      req.end(JSON.stringify({ query: QUERY }));
    });
    pausedRes.setEncoding('utf8');
    pausedRes.socket.pause();
    await settled(1, 4);

    // Big events: the kernel's buffers (a few MB on loopback) fill and the response's own buffer grows past the bound.
    const big = (i: number) => `big-${i}-`.padEnd(60_000, 'x');
    const count = 200;
    for (let i = 0; i < count; i++) {
      publish('big', big(i));
      // One turn per event, so each is its own batch (no single burst beyond the bound).
      await new Promise((r) => setImmediate(r));
    }
    // Barrier: the paused member was let go while its client still does not read (keep-alive is 300 s away).
    await settled(1, 3);
    for (const r of readers) await r.until((events) => events.length === count, 20_000);
    for (const r of readers) expect(r.events.map(nameOf)).toEqual(Array.from({ length: count }, (_, i) => big(i)));

    // Reading again: what was in flight, then the overflow error as the last `next`, then `complete`.
    pausedRes.on('data', (chunk: string) => (pausedText += chunk));
    pausedRes.socket.resume();
    await new Promise((resolve) => pausedRes.on('end', resolve));
    const events = pausedText.split('\n\n').filter((e) => e.startsWith('event: '));
    expect(events.at(-1)).toBe('event: complete\ndata:');
    const last = JSON.parse(events.at(-2)!.split('\n').find((l) => l.startsWith('data: '))!.slice(6)) as { errors: { extensions: { code: string } }[] };
    expect(last.errors[0]!.extensions.code).toBe('SUBSCRIPTION_OVERFLOW');
    const delivered = events.length - 2;
    console.log(JSON.stringify({ sseSlowReader: { published: count, deliveredBeforeOverflow: delivered } }));
    expect(delivered).toBeLessThan(count);
    for (const r of readers) r.close();
    await settled(0, 0);
  });

  it('resumes a multiplexed stream after its Last-Event-ID on its own, then live', async () => {
    const first = openSseStream(stack.graphqlUrl, { query: QUERY, headers: auth() });
    const other = openSseStream(stack.graphqlUrl, { query: QUERY, headers: auth() });
    await settled(1, 2);
    publish('resume', 'seen');
    await first.until((events) => events.length === 1);
    first.close();
    await settled(1, 1);
    publish('resume', 'missed-1');
    publish('resume', 'missed-2');
    await other.until((events) => events.length === 3);
    const resumed = openSseStream(stack.graphqlUrl, { query: 'subscription ($after: String) { jobUpdated(after: $after) { job { name } } }', lastEventId: first.events[0]!.id!, headers: auth() });
    await resumed.until((events) => events.length === 2);
    // The resume runs alone: a listener of its own beside the group.
    await waitFor(() => stack.gateway.services.bus.subscriberCount === 3 && stack.gateway.multiplexed.members === 1, 5000, 'the resume beside the group');
    publish('resume', 'live');
    await resumed.until((events) => events.length === 3);
    await other.until((events) => events.length === 4);
    expect(resumed.events.map(nameOf)).toEqual(['missed-1', 'missed-2', 'live']);
    expect(resumed.events.map((e) => e.id)).toEqual(other.events.slice(1).map((e) => e.id));
    resumed.close();
    other.close();
    await settled(0, 0);
  });
});
