/**
 * Multiplexed subscriptions that differ only in their selection share one event
 * source (one bus listener) and each selection is executed once per event
 * (src/server/shared-sources.ts). Real gateway, real graphql-ws clients.
 */
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { JobEvent } from '../../src/events/event-types.ts';
import type { JobModel } from '../../src/model.ts';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';

const ISSUER = 'https://idp.example.test';
const AUDIENCE = 'switchyard';

function job(n: number, backend = 'gh'): JobModel {
  return {
    type: 'Job', backend, nativeId: `octo-org/api/jobs/shared-${n}`, revision: [n], projectNativeId: 'octo-org/api',
    pipelineNativeId: 'octo-org/api/runs/shared', name: `build-${n}`, status: 'RUNNING', waitReason: null,
    native: { provider: 'github', status: 'in_progress', conclusion: null, failureReason: null }, attempt: 1, url: null, labels: [],
    runnerNativeId: null, runnerName: null, branch: 'main', createdAt: null, queuedAt: null, startedAt: null, finishedAt: null, steps: [],
  };
}

/** One subscriber: every result it received, and how its operation ended. */
interface Subscriber {
  readonly results: FormattedExecutionResult<Record<string, unknown>, unknown>[];
  ended: unknown;
  readonly client: Client;
  readonly unsubscribe: () => void;
}

describe('selections sharing one event source', () => {
  let stack: Stack;
  let privateKey: CryptoKey;
  let sequence = 1;
  const clients: Client[] = [];

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey as CryptoKey;
    stack = await startStack({
      sim: { repositories: ['api'], history: 1 },
      config: {
        auth: {
          mode: 'required',
          apiKeys: [],
          jwt: { issuer: ISSUER, audience: AUDIENCE, publicKey: await exportSPKI(pair.publicKey), clockToleranceSeconds: 0, defaultScopes: [{ backends: ['*'] }] },
        },
      },
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    await waitFor(() => stack.gateway.subscriptionCount === 0 && stack.gateway.services.bus.subscriberCount === 0, 10_000, 'subscriptions to end');
  });
  afterAll(async () => {
    await stack.close();
  });

  const jwt = (expiresInSeconds = 600) =>
    new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setSubject('alice').setIssuer(ISSUER).setAudience(AUDIENCE)
      .setIssuedAt().setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSeconds).sign(privateKey);

  async function subscribe(query: string, variables?: Record<string, unknown>, token?: string): Promise<Subscriber> {
    const client = createClient({
      url: `${stack.base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${token ?? await jwt()}` },
    });
    clients.push(client);
    const subscriber: Subscriber = { results: [], ended: undefined, client, unsubscribe: () => undefined };
    (subscriber as { unsubscribe: () => void }).unsubscribe = client.subscribe<Record<string, unknown>>({ query, ...(variables ? { variables } : {}) }, {
      next: (r) => subscriber.results.push(r),
      error: (e) => (subscriber.ended = e ?? 'error'),
      complete: () => (subscriber.ended = 'complete'),
    });
    return subscriber;
  }

  const publish = (j: JobModel): void => {
    const event: JobEvent = { type: 'Job', job: j, previousStatus: 'QUEUED', sequence: sequence++, source: 'POLL', receivedAt: '2026-01-01T00:00:00.000Z' };
    stack.gateway.services.bus.publish(event);
  };
  const multiplexed = () => stack.gateway.multiplexed;

  it('should give different selections of one root field their own results of the same event from one source', async () => {
    const fragmentsAndDirectives = 'subscription ($full: Boolean!) { jobUpdated { ...Previous job { id @include(if: $full) native @skip(if: $full) { status } } } } fragment Previous on JobEvent { previousStatus }';
    const subscribers = [
      await subscribe('subscription { first: jobUpdated { job { name } } }'),
      await subscribe('subscription { jobUpdated { source job { name status attempt } } }'),
      await subscribe(fragmentsAndDirectives, { full: true }),
      await subscribe(fragmentsAndDirectives, { full: false }),
    ];
    await waitFor(() => stack.gateway.subscriptionCount === 4 && multiplexed().groups === 4, 10_000, 'four groups');
    // One source, one bus listener, for four different operations.
    expect(multiplexed().sources).toBe(1);
    expect(stack.gateway.services.bus.subscriberCount).toBe(1);

    publish(job(1));
    await waitFor(() => subscribers.every((s) => s.results.length === 1), 10_000, 'one result each');
    expect(subscribers.map((s) => s.results[0])).toEqual([
      { data: { first: { job: { name: 'build-1' } } } },
      { data: { jobUpdated: { source: 'POLL', job: { name: 'build-1', status: 'RUNNING', attempt: 1 } } } },
      { data: { jobUpdated: { previousStatus: 'QUEUED', job: { id: expect.any(String) as unknown } } } },
      { data: { jobUpdated: { previousStatus: 'QUEUED', job: { native: { status: 'in_progress' } } } } },
    ]);
  });

  it('should mask a resolver error in a shared execution exactly as yoga masks it on its own stream', async () => {
    const selection = 'jobUpdated { job { name backend { name } } }';
    const shared = await subscribe(`subscription { ${selection} }`);
    // A fragment at the root runs on its own, through the engine's subscribe and yoga's stream: the reference.
    const alone = await subscribe(`subscription { ... on Subscription { ${selection} } }`);
    await waitFor(() => stack.gateway.subscriptionCount === 2 && multiplexed().groups === 1, 10_000, 'both subscribed');

    // An unknown backend makes Job.backend throw a plain Error (an unexpected one, with a revealing message).
    publish(job(2, 'ghost'));
    await waitFor(() => shared.results.length === 1 && alone.results.length === 1, 10_000, 'the failing event');
    const [masked] = shared.results[0]!.errors!;
    expect(masked!.message).toBe('Unexpected error.');
    expect(JSON.stringify(shared.results[0])).not.toContain('ghost');
    const reference = alone.results[0]!.errors![0]!;
    expect(reference.message).toBe('Unexpected error.');
    expect({ message: masked!.message, path: masked!.path, extensions: masked!.extensions }).toEqual({ message: reference.message, path: reference.path, extensions: reference.extensions });
    expect(shared.results[0]!.data).toEqual(alone.results[0]!.data);
    expect(shared.ended).toBeUndefined();
  });

  it('should keep serving the others when a subscriber leaves, and close the source with the last', async () => {
    const leaving = await subscribe('subscription { jobUpdated { job { name } } }');
    const staying = await subscribe('subscription { jobUpdated { job { status } } }');
    await waitFor(() => stack.gateway.subscriptionCount === 2 && multiplexed().sources === 1, 10_000, 'both subscribed');
    leaving.unsubscribe();
    await waitFor(() => multiplexed().groups === 1 && multiplexed().members === 1, 10_000, 'one left');
    expect(multiplexed().sources).toBe(1);

    publish(job(3));
    await waitFor(() => staying.results.length === 1, 10_000, 'the event after one left');
    expect(staying.results[0]).toEqual({ data: { jobUpdated: { job: { status: 'RUNNING' } } } });
    expect(leaving.results).toEqual([]);

    staying.unsubscribe();
    await waitFor(() => multiplexed().sources === 0 && stack.gateway.services.bus.subscriberCount === 0, 10_000, 'the source to close');
  });

  it('should end only the member whose credentials expired, the source serving the others', async () => {
    const expiring = await subscribe('subscription { jobUpdated { job { name } } }', undefined, await jwt(2));
    const lasting = await subscribe('subscription { jobUpdated { job { name status } } }');
    await waitFor(() => stack.gateway.subscriptionCount === 2 && multiplexed().groups === 2, 10_000, 'both subscribed');
    expect(multiplexed().sources).toBe(1);

    publish(job(4));
    await waitFor(() => expiring.results.length === 1 && lasting.results.length === 1, 10_000, 'the event before expiry');
    await waitFor(() => expiring.ended !== undefined, 10_000, 'the expired member to end');
    expect((expiring.ended as { code?: number }).code).toBe(4403);
    await waitFor(() => multiplexed().members === 1, 10_000, 'the expired member to leave');
    expect(multiplexed().sources).toBe(1);

    publish(job(5));
    await waitFor(() => lasting.results.length === 2, 10_000, 'the event after expiry');
    expect(lasting.results[1]).toEqual({ data: { jobUpdated: { job: { name: 'build-5', status: 'RUNNING' } } } });
    expect(expiring.results).toHaveLength(1);
    expect(lasting.ended).toBeUndefined();
  });
});
