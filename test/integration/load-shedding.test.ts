/**
 * Past the knee the gateway sheds instead of slowing everyone: while its
 * event-loop lag is over `server.shedding.eventLoopLagMs`, new subscriptions
 * are refused (WebSocket: `error` OVERLOADED; SSE: 503 + Retry-After) and
 * /readyz says "overloaded", while existing subscriptions keep receiving.
 * The lag is injected (the gateway's lag source), so the test is deterministic.
 */
import { createClient, type Client } from 'graphql-ws';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { adapterFactories } from '../../src/adapters.ts';
import { validateConfig } from '../../src/config/load-config.ts';
import type { RunnerEvent } from '../../src/events/event-types.ts';
import { createGateway, type Gateway } from '../../src/server/create-gateway.ts';
import { runnerEvent } from '../helpers/runner-events.ts';
import { readSse } from '../helpers/sse.ts';
import { waitFor } from '../helpers/stack.ts';

const RUNNERS = 'subscription { runnerUpdated { runner { name } } }';

describe('load shedding on event-loop lag', () => {
  let lag = 0;
  let gateway: Gateway;
  let base: string;
  const clients: Client[] = [];
  const client = () => {
    const c = createClient({ url: `${base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
    clients.push(c);
    return c;
  };
  const readyz = async () => {
    const res = await fetch(`${base}/readyz`);
    return { status: res.status, body: (await res.json()) as { status: string; load: { overloaded: boolean; eventLoopLagMs: number; boundMs: number } } };
  };
  /** A subscription's events (runner names) and how it ended. */
  const subscribe = (c: Client) => {
    const names: string[] = [];
    const errors: { message: string; extensions?: Record<string, unknown> }[] = [];
    c.subscribe<{ runnerUpdated: { runner: { name: string } } }>({ query: RUNNERS }, {
      next: (v) => names.push(v.data!.runnerUpdated.runner.name),
      error: (e) => errors.push(...(e as typeof errors)),
      complete: () => undefined,
    });
    return { names, errors };
  };
  let sequence = 0;
  const publish = (name: string) => gateway.services.bus.publish(runnerEvent(name, sequence++) satisfies RunnerEvent);

  beforeAll(async () => {
    const config = validateConfig({
      logLevel: 'silent', server: { port: 0, host: '127.0.0.1', shedding: { eventLoopLagMs: 200, retryAfterSeconds: 7 } }, auth: { mode: 'open' }, audit: { file: null },
      backends: [{ name: 'gh', provider: 'github', url: 'http://127.0.0.1:9', repositories: ['o/r'] }],
    }, adapterFactories);
    gateway = createGateway({ config, factories: adapterFactories, log: pino({ level: 'silent' }), polling: false, lagSource: { sample: () => lag } });
    base = `http://127.0.0.1:${(await gateway.listen(0, '127.0.0.1')).port}`;
  });
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.dispose()));
    await gateway.close();
  });

  it('should refuse new subscriptions while lagging, keep the existing ones, report it, and recover', async () => {
    expect(await readyz()).toMatchObject({ status: 200, body: { status: 'ready', load: { overloaded: false, boundMs: 200 } } });
    const wsClient = client();
    const existing = subscribe(wsClient);
    const existingSse = readSse(`${base}/graphql`, RUNNERS);
    await waitFor(() => gateway.subscriptionCount === 2, 5000, 'two subscriptions');

    lag = 500;
    await waitFor(async () => (await readyz()).body.load.overloaded, 5000, 'overload to be reported');
    expect(await readyz()).toMatchObject({ status: 503, body: { status: 'overloaded', load: { overloaded: true, eventLoopLagMs: 500 } } });
    const health = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ gatewayLoad { overloaded eventLoopLagMs boundMs } }' }) });
    expect(await health.json()).toEqual({ data: { gatewayLoad: { overloaded: true, eventLoopLagMs: 500, boundMs: 200 } } });

    // A new subscription on the existing socket, and on a new one: OVERLOADED, sockets stay open.
    const sameSocket = subscribe(wsClient);
    const newSocket = subscribe(client());
    await waitFor(() => sameSocket.errors.length > 0 && newSocket.errors.length > 0, 5000, 'the refusals');
    for (const refused of [sameSocket, newSocket]) {
      expect(refused.errors[0]?.extensions?.['code']).toBe('OVERLOADED');
      expect(refused.errors[0]?.message).toMatch(/Retry in 7 s/);
    }
    // Queries still run.
    const query = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(query.status).toBe(200);
    // A new SSE subscription: 503 with Retry-After.
    const sse = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ query: RUNNERS }) });
    expect(sse.status).toBe(503);
    expect(sse.headers.get('retry-after')).toBe('7');
    expect(((await sse.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe('OVERLOADED');

    // The existing subscriptions still receive (a sentinel event reaches both).
    expect(gateway.subscriptionCount).toBe(2);
    publish('during-overload');
    await waitFor(() => existing.names.includes('during-overload'), 5000, 'the WebSocket subscriber');
    await existingSse.until((items) => items.length === 1);
    expect(existing.errors).toEqual([]);

    // Below half the bound it recovers: new subscriptions start again.
    // Under the bound but not under half of it: still shedding (no flapping at the edge).
    lag = 150;
    await waitFor(async () => (await readyz()).body.load.eventLoopLagMs === 150, 5000, 'the next sample');
    expect((await readyz()).body.load.overloaded).toBe(true);
    lag = 50;
    await waitFor(async () => (await readyz()).status === 200, 5000, 'recovery');
    const after = subscribe(wsClient);
    await waitFor(() => gateway.subscriptionCount === 2, 5000, 'the new subscription');
    publish('after-recovery');
    await waitFor(() => after.names.includes('after-recovery') && existing.names.includes('after-recovery'), 5000, 'both subscribers');
    expect(after.errors).toEqual([]);
  });
});
