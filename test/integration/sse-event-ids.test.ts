/**
 * SSE streams carry `id: <cursor>` on each event, and a reconnect with
 * `Last-Event-ID` resumes after it: a real gateway, a real GitHub simulator,
 * and a fetch-based SSE client in distinct-connections mode (GET and POST).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobEvent, WithCursor } from '../../src/events/event-types.ts';
import { openSseStream, type SseEvent } from '../helpers/sse.ts';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';

type JobData = { jobUpdated: { cursor?: string; job: { name: string; status: string } } };
const jobOf = (e: SseEvent) => (e.data.data as JobData).jobUpdated.job;
const finished = (name: string) => (events: SseEvent[]) => events.some((e) => jobOf(e).name === name && jobOf(e).status === 'SUCCESS');

describe('SSE event ids and Last-Event-ID', () => {
  let stack: Stack;
  /** Ground truth: every Job event the bus delivers, with its cursor, in order. */
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
  /** One listener (the ground truth) plus `streams` SSE subscriptions. */
  const streamsOpen = (streams: number) => waitFor(() => stack.gateway.subscriptionCount === streams + 1, 5000, `${streams} SSE subscriptions`);
  /** The published cursors after `cursor` (all of them without one). */
  const cursorsAfter = (cursor: string | undefined) => published.slice(cursor ? published.findIndex((e) => e.cursor === cursor) + 1 : 0).map((e) => e.cursor);

  it('puts the event cursor on every `id:` line, selected or not, and leaves the data as selected', async () => {
    const bare = openSseStream(stack.graphqlUrl, { query: 'subscription { jobUpdated { job { name status } } }' });
    const withCursor = openSseStream(stack.graphqlUrl, { query: 'subscription { jobUpdated { cursor job { name status } } }' });
    const pipelines = openSseStream(stack.graphqlUrl, { query: 'subscription { changes: pipelineUpdated { cursor pipeline { status } } }' });
    const runners = openSseStream(stack.graphqlUrl, { query: 'subscription { runnerUpdated { cursor runner { state } } }' });
    await streamsOpen(4);
    const before = published.at(-1)?.cursor;
    await run('ids');
    await Promise.all([bare.until(finished('ids')), withCursor.until(finished('ids'))]);
    await pipelines.until((events) => events.some((e) => (e.data.data as { changes: { pipeline: { status: string } } }).changes.pipeline.status === 'SUCCESS'));
    await runners.until((events) => events.length > 0);
    for (const stream of [bare, withCursor, pipelines, runners]) stream.close();

    // Every field with a cursor, under an alias too.
    for (const e of pipelines.events) expect(e.id).toBe((e.data.data as { changes: { cursor: string } }).changes.cursor);
    for (const e of runners.events) expect(e.id).toBe((e.data.data as { runnerUpdated: { cursor: string } }).runnerUpdated.cursor);

    expect(withCursor.events.length).toBeGreaterThan(0);
    for (const e of withCursor.events) expect(e.id).toBe((e.data.data as JobData).jobUpdated.cursor);
    expect(bare.events.map((e) => e.id)).toEqual(withCursor.events.map((e) => e.id));
    expect(bare.events.map((e) => e.id)).toEqual(cursorsAfter(before).slice(0, bare.events.length));
    for (const e of bare.events) expect(Object.keys((e.data.data as JobData).jobUpdated)).toEqual(['job']);
    await streamsOpen(0);
  });

  for (const method of ['POST', 'GET'] as const) {
    it(`resumes after Last-Event-ID over ${method}: the missed events exactly, then live ones, and the header wins over \`after\``, async () => {
      const query = 'subscription($after: String) { jobUpdated(after: $after) { job { name status } } }';
      const oldest = published.at(-1)?.cursor;
      const first = openSseStream(stack.graphqlUrl, { method, query });
      await streamsOpen(1);
      await run(`seen-${method}`);
      await first.until(finished(`seen-${method}`));
      first.close();
      await streamsOpen(0);
      const lastSeen = first.events.at(-1)!.id!;

      await run(`missed-${method}`);
      // An older `after` in the operation: the header is newer and wins.
      const resumed = openSseStream(stack.graphqlUrl, { method, query, variables: oldest ? { after: oldest } : {}, lastEventId: lastSeen });
      await resumed.until(finished(`missed-${method}`));
      await streamsOpen(1);
      await run(`live-${method}`);
      await resumed.until(finished(`live-${method}`));
      resumed.close();
      await streamsOpen(0);

      const names = [...new Set(resumed.events.map((e) => jobOf(e).name))];
      expect(names).toEqual([`missed-${method}`, `live-${method}`]);
      const ids = resumed.events.map((e) => e.id);
      expect(ids).toEqual(cursorsAfter(lastSeen).slice(0, ids.length));
      expect(new Set(ids).size).toBe(ids.length);
    });
  }
});
