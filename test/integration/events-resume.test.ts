import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobEvent, WithCursor } from '../../src/events/event-types.ts';
import { startStack, waitFor, waitForSubscribers, type Stack } from '../helpers/stack.ts';

interface Received {
  readonly cursor: string;
  readonly name: string;
  readonly status: string;
}

function subscribe(client: Client, after?: string) {
  const items: Received[] = [];
  const errors: { message: string; extensions?: { code?: string } }[] = [];
  let completed = false;
  const unsubscribe = client.subscribe<{ jobUpdated: { cursor: string; job: { name: string; status: string } } }>(
    { query: 'subscription($after: String) { jobUpdated(after: $after) { cursor job { name status } } }', variables: after ? { after } : {} },
    {
      next: (value) => {
        if (value.errors) errors.push(...(value.errors as never[]));
        else if (value.data) items.push({ cursor: value.data.jobUpdated.cursor, ...value.data.jobUpdated.job });
      },
      error: (error) => errors.push(...(Array.isArray(error) ? error : [{ message: String(error) }])),
      complete: () => {
        completed = true;
      },
    },
  );
  return { items, errors, unsubscribe, get completed() { return completed; } };
}

describe('resuming a subscription by cursor (embedded event store)', () => {
  let stack: Stack;
  /** Ground truth: every Job event the bus delivers, with its cursor. */
  const published: WithCursor<JobEvent>[] = [];

  beforeAll(async () => {
    stack = await startStack({ sim: { repositories: ['api'], history: 1, runners: [{ name: 'solo', labels: ['self-hosted', 'linux'], scope: 'org' }] } });
    const all = stack.gateway.services.bus.subscribe('Job', () => true);
    void (async () => {
      for await (const e of all) published.push(e);
    })();
  });
  afterAll(() => stack.close());

  const run = async (name: string) => {
    await stack.sim.triggerRun({ repo: 'api', jobs: [{ name, labels: ['self-hosted'], outcome: 'success' }] });
    await stack.sim.runUntilIdle();
  };

  it('should replay exactly the missed events after a disconnect, then live ones', async () => {
    const client = stack.wsClient();
    const first = subscribe(client);
    await waitForSubscribers(stack, 2);
    await run('seen');
    await waitFor(() => first.items.some((e) => e.name === 'seen' && e.status === 'SUCCESS'), 5000, 'first events');
    first.unsubscribe();
    await waitForSubscribers(stack, 1);
    const last = first.items.at(-1)!.cursor;

    await run('missed');
    await waitFor(() => published.some((e) => e.job.name === 'missed' && e.job.status === 'SUCCESS'), 5000, 'missed events');
    const missed = published.slice(published.findIndex((e) => e.cursor === last) + 1).map((e) => e.cursor);
    expect(missed.length).toBeGreaterThanOrEqual(3);

    const resumed = subscribe(stack.wsClient(), last);
    await waitFor(() => resumed.items.length >= missed.length, 5000, 'replay');
    expect(resumed.items.map((e) => e.cursor)).toEqual(missed);
    expect(resumed.items.every((e) => e.name === 'missed')).toBe(true);

    await run('live');
    await waitFor(() => resumed.items.some((e) => e.name === 'live' && e.status === 'SUCCESS'), 5000, 'live');
    const expected = published.slice(published.findIndex((e) => e.cursor === last) + 1).map((e) => e.cursor);
    expect(resumed.items.map((e) => e.cursor)).toEqual(expected);
    expect(resumed.errors).toEqual([]);
    resumed.unsubscribe();
    await waitForSubscribers(stack, 1);
  });

  it('should tell a client whose cursor is from another process that history was lost, and end', async () => {
    const sub = subscribe(stack.wsClient(), 'm1.0123456789abcdef.1');
    await waitFor(() => sub.errors.length > 0 || sub.completed, 5000, 'an error');
    expect(sub.errors[0]).toMatchObject({ extensions: { code: 'HISTORY_LOST' }, message: expect.stringMatching(/Refetch/) });
    expect(sub.items).toEqual([]);
    await waitForSubscribers(stack, 1);
  });
});
