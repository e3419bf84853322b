import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, waitFor } from '../helpers/stack.ts';
import { PAYLOAD, gid, startActionsStack, type ActionsStack } from '../helpers/actions-stack.ts';

/**
 * Issue 15 item 5: after an action the gateway re-reads the pipeline until the change shows, so
 * a graphql-ws subscriber sees it with no webhook and no poller (both off here). The upstream
 * shows a write's effect only after a lag, as GitHub does for re-runs.
 */
interface PipelineEvent { pipelineUpdated: { source: string; pipeline: { id: string; number: number; status: string; attempt: number; branch: string; inputs: { name: string; value: string }[] | null } } }
const SUB = 'subscription { pipelineUpdated(filter: { backends: ["tci"] }) { source pipeline { id number status attempt branch inputs { name value } } } }';

describe('actions: feedback through the live path (testci, no webhook, no polling)', () => {
  let stack: ActionsStack;
  const ws = () => createClient({ url: stack.graphqlUrl.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${stack.keys.admin}` } });
  beforeAll(async () => {
    stack = await startActionsStack({ keys: { admin: [{ backends: ['*'], actions: ['*'] }] } });
  });
  afterAll(() => stack?.close());

  it('should show a re-run (attempt 2) to a pipelineUpdated subscriber once the lagging upstream shows it', async () => {
    const client = ws();
    const events = collect<PipelineEvent>(client, SUB, undefined, (items) => items.some((e) => e.pipelineUpdated.pipeline.attempt === 2));
    await waitFor(() => stack.gateway.subscriptionCount === 1, 5000, 'the subscription');
    stack.upstream.lagNextWrite(1200);
    const res = await stack.gql<{ retryPipeline: { errors: unknown[]; pipeline: { attempt: number } } }>(stack.keys.admin!, `mutation($id: ID!) { retryPipeline(input: { id: $id }) { ${PAYLOAD} pipeline { attempt } } }`, { id: gid('Pipeline', 'tci', 'acme-api/builds/101') });
    expect(res.data!.retryPipeline.errors).toEqual([]);
    // The immediate re-read still saw the old attempt: the change comes from the follow-up.
    expect(res.data!.retryPipeline.pipeline.attempt).toBe(1);
    const seen = (await events.done).map((e) => e.pipelineUpdated);
    expect(seen.at(-1)).toMatchObject({ source: 'POLL', pipeline: { number: 7, status: 'RUNNING', attempt: 2 } });
    expect(stack.writes()).toHaveLength(1);
    await client.dispose();
  });

  it('should find a triggered pipeline the upstream does not name, and show it with its inputs', async () => {
    const client = ws();
    const events = collect<PipelineEvent>(client, SUB, undefined, (items) => items.some((e) => e.pipelineUpdated.pipeline.branch === 'feature/x' && e.pipelineUpdated.pipeline.status === 'QUEUED'));
    await waitFor(() => stack.gateway.subscriptionCount === 1, 5000, 'the subscription');
    stack.upstream.lagNextWrite(1200);
    const res = await stack.gql<{ triggerPipeline: { errors: unknown[]; pipeline: unknown; upstream: { calls: unknown[] } } }>(stack.keys.admin!,
      `mutation($p: ID!) { triggerPipeline(input: { project: $p, ref: "feature/x", inputs: [{ name: "target", value: "staging" }, { name: "dry", value: true }] }) { ${PAYLOAD} pipeline { id } } }`,
      { p: gid('Project', 'tci', 'acme-api') });
    expect(res.data!.triggerPipeline.errors).toEqual([]);
    expect(res.data!.triggerPipeline.upstream.calls).toEqual([{ method: 'POST', path: '/api/projects/acme-api/builds', status: 204 }]);
    const seen = (await events.done).map((e) => e.pipelineUpdated).at(-1)!;
    expect(seen).toMatchObject({ source: 'POLL', pipeline: { number: 9, status: 'QUEUED', branch: 'feature/x', inputs: [{ name: 'target', value: 'staging' }, { name: 'dry', value: 'true' }] } });
    await client.dispose();
  });

  it('should show a cancelled job to a jobUpdated subscriber, and answer a retried job with the new one', async () => {
    const client = ws();
    const events = collect<{ jobUpdated: { source: string; job: { id: string; status: string } } }>(client,
      'subscription { jobUpdated(filter: { backends: ["tci"] }) { source job { id status } } }', undefined,
      (items) => items.some((e) => e.jobUpdated.job.status === 'CANCELED'));
    await waitFor(() => stack.gateway.subscriptionCount === 1, 5000, 'the subscription');
    const id = gid('Job', 'tci', 'acme-api/jobs/1003');
    stack.upstream.lagNextWrite(800);
    const cancel = await stack.gql<{ cancelJob: { errors: unknown[]; job: { id: string; status: string } } }>(stack.keys.admin!, `mutation($id: ID!) { cancelJob(input: { id: $id }) { ${PAYLOAD} job { id status } } }`, { id });
    expect(cancel.data!.cancelJob.errors).toEqual([]);
    expect((await events.done).at(-1)!.jobUpdated).toEqual({ source: 'POLL', job: { id, status: 'CANCELED' } });
    await client.dispose();
    const retry = await stack.gql<{ retryJob: { errors: unknown[]; job: { id: string; status: string } } }>(stack.keys.admin!, `mutation($id: ID!) { retryJob(input: { id: $id }) { ${PAYLOAD} job { id status } } }`, { id });
    expect(retry.data!.retryJob.errors).toEqual([]);
    expect(retry.data!.retryJob.job).toEqual({ id: gid('Job', 'tci', 'acme-api/jobs/3002'), status: 'QUEUED' });
  });
});
