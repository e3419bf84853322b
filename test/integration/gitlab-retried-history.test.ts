/**
 * GitLab retried jobs reach the history (issue 13, flaky jobs): a job fails, is retried
 * and passes on the same commit. GitLab's REST lists hide retried jobs unless asked
 * (`include_retried`), so before this the backfill and the poll recorded the pass alone
 * and flakyJobs never saw the flake. Both paths of the adapter's jobs read are covered:
 * a project with one pipeline (read per pipeline) and one with two (the project's
 * keyset listing). Pipeline.jobs still shows the latest attempt, now numbered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createGitlabSimulator, type GitlabSimulator } from '../../adapters/gitlab/simulator/index.ts';
import { startGatewayStack, type GatewayStack } from '../helpers/gateway-stack.ts';
import { GITLAB_TOKEN } from '../helpers/gitlab-stack.ts';
import { postgresSchemaEnv } from '../helpers/history-stores.ts';
import { waitFor } from '../helpers/stack.ts';

const START = Date.parse('2026-11-20T12:00:00.000Z');
const MINUTE = 60_000;

interface Retried {
  readonly project: string;
  readonly failedId: number;
  readonly passedId: number;
}

/**
 * `frontend`: one pipeline whose `e2e` fails and passes on retry; `backend`: two pipelines,
 * the newer one's `unit` failing then passing. The clock moves between the steps.
 */
async function retriedJobs(sim: GitlabSimulator, clock: { ms: number }): Promise<Retried[]> {
  const out: Retried[] = [];
  const flaky = async (project: string, name: string) => {
    const { jobIds } = await sim.triggerPipeline({ project, jobs: [{ name: 'lint', stage: 'test' }, { name, stage: 'test', outcome: 'failed' }] });
    await sim.runUntilIdle();
    clock.ms += 5 * MINUTE;
    const failedId = jobIds[1]!;
    const { jobId } = await sim.retryJob(failedId);
    await sim.runUntilIdle();
    clock.ms += 5 * MINUTE;
    out.push({ project, failedId, passedId: jobId });
  };
  await sim.triggerPipeline({ project: 'backend', jobs: [{ name: 'unit', stage: 'test' }] });
  await sim.runUntilIdle();
  clock.ms += 5 * MINUTE;
  await flaky('backend', 'unit');
  await flaky('frontend', 'e2e');
  return out;
}

const postgresSchema = () => postgresSchemaEnv('gl_retried');

const FLAKY = `query ($window: AnalyticsWindowInput) { flakyJobs(window: $window) { jobs { project jobName flakyCommits failedAttempts } } }`;
const PIPELINE_JOBS = `query ($before: DateTime) {
  pipelines(first: 10, filter: { backends: ["gl"], createdBefore: $before }) { nodes { jobs { nodes { name status attempt } } } }
}`;
type PipelineJobs = { pipelines: { nodes: { jobs: { nodes: { name: string; status: string; attempt: number }[] } }[] } };
const shownJobs = (data: PipelineJobs) => data.pipelines.nodes.flatMap((p) => p.jobs.nodes.map((j) => `${j.name}:${j.status}:${j.attempt}`)).sort();
const LATEST = ['e2e:SUCCESS:2', 'lint:SUCCESS:1', 'lint:SUCCESS:1', 'unit:SUCCESS:1', 'unit:SUCCESS:2'];

interface JobRow { native_id: string; name: string; status: string; attempt: number }

describe.each([
  ['PGlite', false],
  ['PostgreSQL', true],
])('GitLab retried jobs in the history on %s', (_name, onServer) => {
  let stack: GatewayStack | undefined;
  let drop = async () => {};
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
    await drop();
    drop = async () => {};
  });

  /** A gateway over `sim` (started), with the backfill of `backfillDays` or none. */
  async function start(sim: GitlabSimulator, backfillDays: number, clock: { ms: number }): Promise<GatewayStack> {
    let env: NodeJS.ProcessEnv | undefined;
    if (onServer) ({ env, drop } = await postgresSchema());
    const backfill = backfillDays > 0 ? { days: backfillDays, requestsPerMinute: 100_000, pageSize: 25 } : { enabled: false };
    const history = onServer ? { url: { env: 'SWITCHYARD_TEST_HISTORY_URL' }, backfill } : { backfill };
    stack = await startGatewayStack(
      { history, backends: [{ name: 'gl', provider: 'gitlab', url: sim.url, token: { value: GITLAB_TOKEN }, groups: [sim.world.group] }] },
      { now: () => new Date(clock.ms), onClose: () => sim.stop(), ...(env ? { env } : {}) },
    );
    await stack.gateway.history.ready;
    return stack;
  }

  async function simulator(clock: { ms: number }): Promise<GitlabSimulator> {
    const sim = createGitlabSimulator({ token: GITLAB_TOKEN, seed: 5, history: 0, now: () => new Date(clock.ms) });
    await sim.start();
    return sim;
  }

  async function recordedJobs(s: GatewayStack, project: string, sim: GitlabSimulator): Promise<JobRow[]> {
    const projectId = sim.world.projects().find((p) => p.path === project)!.id;
    return s.gateway.history.store().query<JobRow>(
      `SELECT native_id, name, status, attempt FROM jobs WHERE backend = 'gl' AND native_id LIKE $1 ORDER BY native_id`, [`${projectId}/jobs/%`],
    );
  }

  async function expectBothAttempts(s: GatewayStack, sim: GitlabSimulator, retried: readonly Retried[], window: { from: string; to: string }): Promise<void> {
    for (const r of retried) {
      const projectId = sim.world.projects().find((p) => p.path === r.project)!.id;
      const rows = await recordedJobs(s, r.project, sim);
      const attempts = rows.filter((j) => j.native_id === `${projectId}/jobs/${r.failedId}` || j.native_id === `${projectId}/jobs/${r.passedId}`);
      expect(attempts.map((j) => [j.native_id, j.status, j.attempt]), r.project).toEqual([
        [`${projectId}/jobs/${r.failedId}`, 'FAILURE', 1],
        [`${projectId}/jobs/${r.passedId}`, 'SUCCESS', 2],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
    }
    const flaky = await s.query<{ flakyJobs: { jobs: { project: string; jobName: string; flakyCommits: number; failedAttempts: number }[] } }>(FLAKY, { window });
    expect(flaky.errors).toBeUndefined();
    // (The project reads as its name or its native id, depending on whether a listing named it yet.)
    expect(flaky.data!.flakyJobs.jobs.map((j) => [j.jobName, j.flakyCommits, j.failedAttempts]).sort()).toEqual([['e2e', 1, 1], ['unit', 1, 1]]);
  }

  it('the backfill records the failed attempt and the retry that passed, and flakyJobs reports the job', async () => {
    const clock = { ms: START };
    const sim = await simulator(clock);
    // All of it before the gateway starts: only the backfill can bring it.
    const retried = await retriedJobs(sim, clock);
    const s = await start(sim, 1, clock);
    await waitFor(async () => ['DONE', 'FAILED'].includes(s.gateway.history.sync('gl')?.state ?? ''), 60_000, 'the backfill to finish');
    expect(s.gateway.history.sync('gl')).toMatchObject({ state: 'DONE', lastError: null });
    await expectBothAttempts(s, sim, retried, { from: new Date(START - MINUTE).toISOString(), to: new Date(clock.ms + MINUTE).toISOString() });

    // Every attempt at no request more: one read for frontend's lone pipeline, one keyset page for backend's two.
    const jobReads = sim.requests.map((r) => r.path).filter((path) => /\/jobs(\?|$)/.test(path));
    expect(jobReads.filter((path) => /\/projects\/[^/]+\/pipelines\/\d+\/jobs\?.*include_retried=true/.test(path)), jobReads.join('\n')).toHaveLength(1);
    expect(jobReads.filter((path) => /\/projects\/[^/]+\/jobs\?/.test(path)), jobReads.join('\n')).toHaveLength(1);
    expect(jobReads).toHaveLength(2);

    // Pipeline.jobs shows the latest attempt of each name, numbered: read upstream while the pipelines are recent...
    const live = await s.query<PipelineJobs>(PIPELINE_JOBS);
    expect(live.errors).toBeUndefined();
    expect(shownJobs(live.data!)).toEqual(LATEST);
    // ...and from the history once they are older than the live window (24 h), which holds every attempt.
    const createdBefore = new Date(clock.ms).toISOString();
    clock.ms += 25 * 60 * MINUTE;
    const old = await s.query<PipelineJobs>(PIPELINE_JOBS, { before: createdBefore });
    expect(old.errors).toBeUndefined();
    expect(shownJobs(old.data!)).toEqual(LATEST);
  }, 90_000);

  it('a poll that finds a job failed and retried since the last cycle records both attempts', async () => {
    const clock = { ms: START };
    const sim = await simulator(clock);
    const s = await start(sim, 0, clock);
    await s.gateway.scheduler.pollNow('gl');
    // Everything happens between two cycles: the failed attempt is already retried when the poll looks.
    const retried = await retriedJobs(sim, clock);
    await s.gateway.scheduler.pollNow('gl');
    await waitFor(async () => (await recordedJobs(s, 'frontend', sim)).length === 3, 30_000, 'the frontend jobs recorded');
    await waitFor(async () => (await recordedJobs(s, 'backend', sim)).length === 4, 30_000, 'the backend jobs recorded');
    await expectBothAttempts(s, sim, retried, { from: new Date(START - MINUTE).toISOString(), to: new Date(clock.ms + MINUTE).toISOString() });
  }, 90_000);
});
