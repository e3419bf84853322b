import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createApiKey } from '../../src/auth/api-keys.ts';
import type { ContractUpstream } from '../../src/adapter-testing.ts';
import type { EventType } from '../../src/events/event-types.ts';
import { startGatewayStack, type GatewayStack } from '../helpers/gateway-stack.ts';
import { collect, waitFor } from '../helpers/stack.ts';
import { contractFactories, contractSubjects } from './kits.ts';

/**
 * Through a real gateway over each adapter's simulator (or fake server):
 * scope visibility of the related entities (`Job.runner`, `Runner.currentJob`)
 * and resume with `after` on all three subscription fields.
 */
const subjects = await contractSubjects();
const BACKEND = 'contract';

interface JobEv { jobUpdated: { cursor: string; job: { id: string; status: string; runner: { id: string } | null } } }
interface RunnerEv { runnerUpdated: { cursor: string; runner: { id: string; state: string; currentJob: { id: string } | null } } }

const FIELDS = [
  ['jobUpdated', 'Job'],
  ['pipelineUpdated', 'Pipeline'],
  ['runnerUpdated', 'Runner'],
] as const satisfies readonly (readonly [string, EventType])[];

describe.each(subjects)('gateway: $provider', ({ provider, kit }) => {
  let upstream: ContractUpstream;
  let stack: GatewayStack;
  const keys: Record<'full' | 'noRunners' | 'otherProjects', string> = { full: '', noRunners: '', otherProjects: '' };
  /** Ground truth: what a live subscription (no `after`) received, per field. */
  const live: Record<string, readonly Record<string, { cursor: string }>[]> = {};
  const clients: Client[] = [];
  const client = (key: string) => {
    const c = createClient({ url: `${stack.base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${key}` } });
    clients.push(c);
    return c;
  };
  let full: { jobs: JobEv[]; runners: RunnerEv[] };
  let noRunners: JobEv[];
  let otherProjects: RunnerEv[];

  beforeAll(async () => {
    upstream = await kit.startUpstream();
    const made = await Promise.all((Object.keys(keys) as (keyof typeof keys)[]).map(async (id) => [id, await createApiKey(id.toLowerCase())] as const));
    const scopes = {
      full: [{ backends: ['*'] }],
      noRunners: [{ backends: [BACKEND], runners: false }],
      otherProjects: [{ backends: [BACKEND], projects: ['no-such-project-anywhere/**'], runners: true }],
    };
    for (const [id, { key }] of made) keys[id] = key;
    stack = await startGatewayStack(
      {
        auth: { mode: 'required', apiKeys: made.map(([id, { hash }]) => ({ id: id.toLowerCase(), hash, scopes: scopes[id] })) },
        backends: [{ name: BACKEND, provider, ...upstream.backend }],
      },
      // The suite's registry: a provider defined under test/ is served as well.
      { factories: contractFactories, onClose: () => upstream.stop() },
    );
    upstream.connect(`${stack.base}/webhooks/${BACKEND}`);
    const before = stack.gateway.subscriptionCount;
    for (const [field] of FIELDS) {
      const c = collect<Record<string, { cursor: string }>>(client(keys.full), `subscription { ${field} { cursor } }`, undefined, () => false, 60_000);
      c.done.catch(() => undefined);
      live[field] = c.items;
    }
    const jobs = collect<JobEv>(client(keys.full), 'subscription { jobUpdated { cursor job { id status runner { id } } } }', undefined, () => false, 60_000);
    const runners = collect<RunnerEv>(client(keys.full), 'subscription { runnerUpdated { cursor runner { id state currentJob { id } } } }', undefined, () => false, 60_000);
    const blind = collect<JobEv>(client(keys.noRunners), 'subscription { jobUpdated { cursor job { id status runner { id } } } }', undefined, () => false, 60_000);
    const foreign = collect<RunnerEv>(client(keys.otherProjects), 'subscription { runnerUpdated { cursor runner { id state currentJob { id } } } }', undefined, () => false, 60_000);
    for (const c of [jobs, runners, blind, foreign]) c.done.catch(() => undefined);
    full = { jobs: jobs.items, runners: runners.items };
    noRunners = blind.items;
    otherProjects = foreign.items;
    await waitFor(() => stack.gateway.subscriptionCount === before + 4 + FIELDS.length, 5000, 'subscribers');

    await upstream.runJobOnRunner(async () => {
      await stack.gateway.scheduler.pollNow(BACKEND);
    });
    // The runner was BUSY with its job, then freed: every event of the run is out.
    await waitFor(() => {
      const busy = full.runners.findIndex((e) => e.runnerUpdated.runner.state === 'BUSY' && e.runnerUpdated.runner.currentJob !== null);
      return busy >= 0 && full.runners.slice(busy + 1).some((e) => e.runnerUpdated.runner.state !== 'BUSY');
    }, 20_000, 'the runner BUSY with a job, then free');
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.dispose()));
    await stack?.close();
  });

  it('should show the runner of a job only to a credential that may see runners (Job.runner)', async () => {
    const seen = full.jobs.find((e) => e.jobUpdated.job.runner !== null);
    expect(seen, 'a job event naming its runner').toBeDefined();
    const { id, status } = seen!.jobUpdated.job;
    await waitFor(() => noRunners.some((e) => e.jobUpdated.job.id === id && e.jobUpdated.job.status === status), 10_000, 'the same job event without runners');
    const same = noRunners.filter((e) => e.jobUpdated.job.id === id);
    expect(same.map((e) => e.jobUpdated.job.runner)).toEqual(same.map(() => null));
  });

  it("should hide a runner's current job from a credential outside that job's project (Runner.currentJob)", async () => {
    const busy = full.runners.find((e) => e.runnerUpdated.runner.state === 'BUSY' && e.runnerUpdated.runner.currentJob !== null)!;
    const { id } = busy.runnerUpdated.runner;
    await waitFor(() => otherProjects.some((e) => e.runnerUpdated.runner.id === id && e.runnerUpdated.runner.state === 'BUSY'), 10_000, 'the BUSY runner event for a foreign credential');
    const same = otherProjects.filter((e) => e.runnerUpdated.runner.id === id);
    expect(same.map((e) => e.runnerUpdated.runner.currentJob)).toEqual(same.map(() => null));
  });

  it.each(FIELDS)('should resume %s with `after`: exactly the events a live subscriber got after the cursor, in order', async (field, type) => {
    const truth = live[field]!.map((e) => e[field]!.cursor);
    expect(truth.length, `${type} events received live`).toBeGreaterThanOrEqual(2);
    const [from, ...missed] = truth;
    const query = `subscription($after: String) { ${field}(after: $after) { cursor } }`;
    const resumed = collect<Record<string, { cursor: string }>>(
      client(keys.full), query, { after: from },
      (items) => items.some((e) => e[field]!.cursor === missed.at(-1)),
      10_000,
    );
    const items = await resumed.done;
    expect(items.map((e) => e[field]!.cursor).slice(0, missed.length)).toEqual(missed);
  });
});
