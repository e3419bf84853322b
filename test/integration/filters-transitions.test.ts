import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collect, waitFor } from '../helpers/stack.ts';
import { startGitlabStack, type GitlabStack } from '../helpers/gitlab-stack.ts';

/**
 * `statusChanged` / `stateChanged` (issue 18, client kit): subscriptions that ask for
 * transitions only. The duplicate is real on GitLab: a job's failure comes by Job Hook,
 * then the next poll reads the same failed job with more fields (FAILURE → FAILURE,
 * source POLL). Absence is proven with a sentinel: a later pipeline's job, delivered
 * after the poll, on the same ordered stream.
 */
interface JobEvent {
  jobUpdated: { cursor: string; previousStatus: string | null; source: string; job: { name: string; status: string } };
}
interface RunnerEvent {
  runnerUpdated: { previousState: string | null; source: string; runner: { name: string; state: string; paused: boolean } };
}

const JOBS = 'subscription($f: JobFilter, $after: String) { jobUpdated(filter: $f, after: $after) { cursor previousStatus source job { name status } } }';
const JOBS_BY_VARIABLE = 'subscription($f: JobFilter) { jobUpdated(filter: $f) { cursor previousStatus source job { name status } } }';
const sentinelSeen = (items: JobEvent[]) => items.some((e) => e.jobUpdated.job.name === 'sentinel');
const named = (items: JobEvent[], name: string) => items.map((e) => e.jobUpdated).filter((e) => e.job.name === name);

describe('transitions only: statusChanged against the webhook-then-poll duplicate (GitLab, hooks and polls)', () => {
  let stack: GitlabStack;
  const subscribers = (n: number) => waitFor(() => stack.gateway.subscriptionCount === n, 5000, `${n} subscribers`);

  beforeAll(async () => {
    stack = await startGitlabStack();
    await stack.gateway.scheduler.pollNow('gl'); // learns the current state: later polls report changes only
  });
  afterAll(() => stack.close());
  afterEach(() => subscribers(0));

  it('delivers a failure seen by webhook and again by poll twice without it, once with statusChanged (shared group, own group, replay)', async () => {
    const client = stack.wsClient();
    // Same operation text, filter by variable: one shared execution, each member filtered on its own.
    const all = collect<JobEvent>(client, JOBS_BY_VARIABLE, { f: { backends: ['gl'] } }, sentinelSeen);
    const shared = collect<JobEvent>(client, JOBS_BY_VARIABLE, { f: { backends: ['gl'], statusChanged: true } }, sentinelSeen);
    // A literal filter: an execution of its own, filtered by the resolver.
    const literal = collect<JobEvent>(client, 'subscription { jobUpdated(filter: { statusChanged: true }) { cursor previousStatus source job { name status } } }', undefined, sentinelSeen);
    await subscribers(3);

    await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'flaky', stage: 'test', outcome: 'failed' }] });
    await stack.sim.runUntilIdle(); // hooks: pending, running, failed
    await stack.gateway.scheduler.pollNow('gl'); // the poll reads the same failed job
    await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'sentinel', stage: 'test' }] });
    await stack.sim.step();

    // The baseline: the duplicate exists.
    const baseline = named(await all.done, 'flaky');
    const failures = baseline.filter((e) => e.job.status === 'FAILURE');
    expect(failures.map((e) => [e.previousStatus, e.source])).toEqual([['RUNNING', 'WEBHOOK'], ['FAILURE', 'POLL']]);

    for (const [how, got] of [['shared group', await shared.done], ['own group', await literal.done]] as const) {
      const flaky = named(got, 'flaky');
      expect(flaky.map((e) => e.job.status), how).toEqual(['PENDING', 'QUEUED', 'RUNNING', 'FAILURE']);
      expect(flaky.at(-1), how).toMatchObject({ previousStatus: 'RUNNING', source: 'WEBHOOK' });
      expect(got.at(-1)!.jobUpdated.job.name, how).toBe('sentinel');
    }

    // Resuming after the first event replays the retained ones under the same rule.
    const replay = collect<JobEvent>(stack.wsClient(), JOBS, { f: { statusChanged: true }, after: baseline[0]!.cursor }, sentinelSeen);
    const replayed = await replay.done;
    expect(named(replayed, 'flaky').map((e) => e.job.status)).toEqual(['QUEUED', 'RUNNING', 'FAILURE']);
    // Without the filter the same replay holds the duplicate.
    const unfiltered = await collect<JobEvent>(stack.wsClient(), JOBS, { f: null, after: baseline[0]!.cursor }, sentinelSeen).done;
    expect(named(unfiltered, 'flaky').filter((e) => e.job.status === 'FAILURE')).toHaveLength(2);
    await stack.sim.runUntilIdle();
  });

  it('stateChanged drops a runner event whose state stayed (paused while idle) and keeps the transition after it', async () => {
    const runner = stack.sim.world.runners()[0]!.description;
    const RUNNERS = 'subscription($f: RunnerFilter) { runnerUpdated(filter: $f) { previousState source runner { name state paused } } }';
    const offline = (items: RunnerEvent[]) => items.some((e) => e.runnerUpdated.runner.state === 'OFFLINE');
    const client = stack.wsClient();
    const all = collect<RunnerEvent>(client, RUNNERS, { f: null }, offline);
    const changed = collect<RunnerEvent>(client, RUNNERS, { f: { stateChanged: true } }, offline);
    await subscribers(2);
    try {
      stack.sim.setRunnerStatus(runner, { paused: true });
      await stack.gateway.scheduler.pollNow('gl'); // IDLE → IDLE, now paused
      stack.sim.setRunnerStatus(runner, { online: false });
      await stack.gateway.scheduler.pollNow('gl'); // the sentinel: IDLE → OFFLINE
      const mine = (items: RunnerEvent[]) => items.map((e) => e.runnerUpdated).filter((e) => e.runner.name === runner);
      expect(mine(await all.done).map((e) => [e.previousState, e.runner.state, e.runner.paused])).toEqual([['IDLE', 'IDLE', true], ['IDLE', 'OFFLINE', true]]);
      expect(mine(await changed.done).map((e) => [e.previousState, e.runner.state])).toEqual([['IDLE', 'OFFLINE']]);
    } finally {
      stack.sim.setRunnerStatus(runner, { online: true, paused: false });
      await stack.gateway.scheduler.pollNow('gl');
    }
  });

  it('answers BAD_USER_INPUT naming the field when a query is given statusChanged or stateChanged', async () => {
    const cases = [
      ['{ jobs(filter: { statusChanged: true }) { nodes { id } } }', 'filter.statusChanged'],
      ['{ pipelines(filter: { statusChanged: false }) { nodes { id } } }', 'filter.statusChanged'],
      ['{ runners(filter: { stateChanged: true }) { nodes { id } } }', 'filter.stateChanged'],
      ['{ projects(first: 1) { nodes { pipelines(filter: { statusChanged: true }) { nodes { id } } } } }', 'filter.statusChanged'],
    ] as const;
    for (const [query, field] of cases) {
      const res = await stack.query(query);
      expect(res.errors?.[0], query).toMatchObject({ message: expect.stringContaining(field), extensions: { code: 'BAD_USER_INPUT' } });
    }
  });
});

describe('statusChanged on events shared through Redis Streams (each carries its previous status)', () => {
  const prefix = `switchyard:test:filters:${randomUUID()}:`;
  const redis = new Redis('redis://127.0.0.1:6379');
  let stack: GitlabStack;

  beforeAll(async () => {
    stack = await startGitlabStack({ config: { events: { store: 'redis', streamPrefix: prefix } } });
    await stack.gateway.scheduler.pollNow('gl');
  });
  afterAll(async () => {
    await stack.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('the webhook-then-poll duplicate is in the stream; a statusChanged subscriber reading it gets the failure once', async () => {
    const client = stack.wsClient();
    const all = collect<JobEvent>(client, JOBS_BY_VARIABLE, { f: null }, sentinelSeen);
    const changed = collect<JobEvent>(client, JOBS_BY_VARIABLE, { f: { statusChanged: true } }, sentinelSeen);
    await waitFor(() => stack.gateway.subscriptionCount === 2, 5000, 'the subscribers');
    await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'flaky', stage: 'test', outcome: 'failed' }] });
    await stack.sim.runUntilIdle();
    await stack.gateway.scheduler.pollNow('gl');
    await stack.sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'sentinel', stage: 'test' }] });
    await stack.sim.step();

    const failures = named(await all.done, 'flaky').filter((e) => e.job.status === 'FAILURE');
    expect(failures.map((e) => [e.previousStatus, e.source])).toEqual([['RUNNING', 'WEBHOOK'], ['FAILURE', 'POLL']]);
    const stored = (await redis.xrange(`${prefix}Job`, '-', '+')).map(([, fields]) => JSON.parse(fields[1]!) as { previousStatus: string | null; job: { name: string; status: string } });
    expect(stored.filter((e) => e.job.name === 'flaky' && e.job.status === 'FAILURE').map((e) => e.previousStatus)).toEqual(['RUNNING', 'FAILURE']);
    const got = await changed.done;
    expect(named(got, 'flaky').map((e) => e.job.status)).toEqual(['PENDING', 'QUEUED', 'RUNNING', 'FAILURE']);
    expect(got.at(-1)!.jobUpdated.job.name).toBe('sentinel');
    await stack.sim.runUntilIdle();
  });
});
