import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitlabSimulator } from '../../adapters/gitlab/simulator/index.ts';
import { createJenkinsSimulator } from '../../adapters/jenkins/simulator/index.ts';
import { startGatewayStack, type GatewayStack } from '../helpers/gateway-stack.ts';
import { GITLAB_TOKEN } from '../helpers/gitlab-stack.ts';
import { postgresSchemaEnv } from '../helpers/history-stores.ts';
import { JENKINS_TOKEN, JENKINS_USER } from '../helpers/jenkins-stack.ts';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';

const NOW = Date.parse('2026-11-20T12:00:00.000Z');
const DAY_MS = 86_400_000;
const DAYS = 0.5;
const SINCE = NOW - DAYS * DAY_MS;

const SYNC = `{ backends { name sync { state since imported importedJobs estimatedTotal oldestImportedAt requests projects projectsDone lastError } } }`;
interface SyncAnswer {
  backends: { name: string; sync: { state: string; since: string; imported: number; importedJobs: number; estimatedTotal: number | null; oldestImportedAt: string; requests: number; projects: number; projectsDone: number; lastError: string | null } | null }[];
}

const postgresSchema = () => postgresSchemaEnv('backfill_it');

describe.each([
  ['PGlite', false],
  ['PostgreSQL', true],
])('backfill of a GitHub simulator on %s', (_name, onServer) => {
  let stack: Stack;
  let drop = async () => {};

  beforeAll(async () => {
    let env: NodeJS.ProcessEnv | undefined;
    if (onServer) ({ env, drop } = await postgresSchema());
    const backfill = { days: DAYS, requestsPerMinute: 100_000, pageSize: 25 };
    const history = onServer ? { url: { env: 'SWITCHYARD_TEST_HISTORY_URL' }, backfill } : { backfill };
    // 12 minutes between seeded runs: 100 per repository reach 20 h back, the window 12 h.
    stack = await startStack({ sim: { repositories: ['api', 'web'], history: 100, now: () => new Date(NOW) }, config: { history }, now: () => new Date(NOW), ...(env ? { env } : {}) });
    await stack.gateway.history.ready;
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
    await drop();
  });

  it('imports exactly the pipelines and jobs of the window, newest first, and Backend.sync says DONE', async () => {
    let sync: NonNullable<SyncAnswer['backends'][number]['sync']> | null = null;
    await waitFor(async () => {
      const res = await stack.query<SyncAnswer>(SYNC);
      sync = res.data?.backends[0]?.sync ?? null;
      return sync?.state === 'DONE';
    }, 30_000, 'the backfill to finish');
    const inWindow = stack.sim.world.runs().filter((r) => Date.parse(r.createdAt) >= SINCE && Date.parse(r.createdAt) <= NOW);
    const jobsInWindow = inWindow.reduce((n, r) => n + stack.sim.world.jobs(r.id).length, 0);
    expect(inWindow.length).toBeGreaterThan(50);
    expect(inWindow.length).toBeLessThan(stack.sim.world.runs().length);

    const store = stack.gateway.history.store();
    const pipelines = await store.query<{ native_id: string; created_at: Date }>(`SELECT native_id, created_at FROM pipelines WHERE backend = 'gh'`);
    expect(pipelines).toHaveLength(inWindow.length);
    expect(Math.min(...pipelines.map((p) => p.created_at.getTime()))).toBeGreaterThanOrEqual(SINCE);
    const [{ count: jobs }] = await store.query<{ count: number }>(`SELECT count(*)::int AS count FROM jobs WHERE backend = 'gh'`) as [{ count: number }];
    expect(jobs).toBe(jobsInWindow);

    expect(sync).toMatchObject({ state: 'DONE', imported: inWindow.length, importedJobs: jobsInWindow, estimatedTotal: inWindow.length, projects: 2, projectsDone: 2, lastError: null });
    expect(Date.parse(sync!.since)).toBe(SINCE);

    // Newest first: per repository, the `created` upper bound of the list pages only goes down.
    for (const repo of ['api', 'web']) {
      const bounds = stack.sim.requests
        .filter((r) => r.path.startsWith(`/repos/octo-org/${repo}/actions/runs?`))
        .map((r) => Date.parse(decodeURIComponent(/created=[^&]*\.\.([^&]+)/.exec(r.path)![1]!)));
      expect(bounds.length).toBeGreaterThan(1);
      expect(bounds).toEqual([...bounds].sort((a, b) => b - a));
    }
    // One request per list page and one per run's jobs: nothing read twice.
    const jobReads = stack.sim.requests.filter((r) => /\/actions\/runs\/\d+\/jobs/.test(r.path)).map((r) => r.path.split('?')[0]);
    expect(new Set(jobReads).size).toBe(jobReads.length);
    expect(jobReads).toHaveLength(inWindow.length);
    expect(sync!.requests).toBe(stack.sim.requests.length);
  });
});

describe('backfill of the GitLab and Jenkins simulators', () => {
  const config = (backend: Record<string, unknown>, days: number) => ({
    history: { backfill: { days, requestsPerMinute: 100_000, pageSize: 25 } },
    backends: [backend],
  });
  async function finished(stack: GatewayStack): Promise<NonNullable<SyncAnswer['backends'][number]['sync']>> {
    let sync: SyncAnswer['backends'][number]['sync'] = null;
    await waitFor(async () => {
      sync = (await stack.query<SyncAnswer>(SYNC)).data?.backends[0]?.sync ?? null;
      return sync?.state === 'DONE' || sync?.state === 'FAILED';
    }, 60_000, 'the backfill to finish');
    return sync!;
  }

  it('GitLab: exactly the window\'s pipelines (child pipelines are listed by their parent only) and their jobs', async () => {
    const sim = createGitlabSimulator({ token: GITLAB_TOKEN, seed: 11, history: 80, now: () => new Date(NOW) });
    await sim.start();
    const stack = await startGatewayStack(config({ name: 'gl', provider: 'gitlab', url: sim.url, token: { value: GITLAB_TOKEN }, groups: [sim.world.group] }, 0.5), { now: () => new Date(NOW), onClose: () => sim.stop() });
    try {
      await stack.gateway.history.ready;
      const sync = await finished(stack);
      const inWindow = sim.world.pipelines().filter((p) => p.parent === null && Date.parse(p.createdAt) >= SINCE && Date.parse(p.createdAt) <= NOW);
      // Every attempt, retried jobs included (gitlab-retried-history.test.ts builds some).
      const jobsInWindow = inWindow.reduce((n, p) => n + sim.world.jobs(p.id).filter((j) => j.downstream === null).length, 0);
      expect(inWindow.length).toBeGreaterThan(25);
      expect(inWindow.length).toBeLessThan(sim.world.pipelines().filter((p) => p.parent === null).length);
      const store = stack.gateway.history.store();
      const pipelines = await store.query<{ created_at: Date }>(`SELECT created_at FROM pipelines WHERE backend = 'gl'`);
      expect(pipelines).toHaveLength(inWindow.length);
      expect(Math.min(...pipelines.map((p) => p.created_at.getTime()))).toBeGreaterThanOrEqual(SINCE);
      const [{ count: jobs }] = await store.query<{ count: number }>(`SELECT count(*)::int AS count FROM jobs WHERE backend = 'gl'`) as [{ count: number }];
      expect(jobs).toBe(jobsInWindow);
      expect(sync).toMatchObject({ state: 'DONE', imported: inWindow.length, importedJobs: jobsInWindow, lastError: null });
      // Jobs cost at most one read per pipeline (keyset pages of the project's jobs serve several; old ones are read per pipeline).
      const jobReads = sim.requests.filter((r) => /\/projects\/[^/]+\/(jobs\?|pipelines\/\d+\/jobs)/.test(r.path)).length;
      expect(jobReads).toBeLessThanOrEqual(inWindow.length);
    } finally {
      await stack.close();
    }
  }, 90_000);

  it('Jenkins: pages back past the newest 100 builds of a job with allBuilds ranges', async () => {
    const sim = createJenkinsSimulator({ user: JENKINS_USER, apiToken: JENKINS_TOKEN, seed: 11, jobs: 2, history: 150, now: () => new Date(NOW) });
    await sim.start();
    const days = 5;
    const since = NOW - days * DAY_MS;
    const stack = await startGatewayStack(config({ name: 'jk', provider: 'jenkins', url: sim.url, user: JENKINS_USER, apiToken: { value: JENKINS_TOKEN }, requestsPerMinute: 100_000 }, days), { now: () => new Date(NOW), onClose: () => sim.stop() });
    try {
      await stack.gateway.history.ready;
      const sync = await finished(stack);
      const inWindow = sim.world.builds().filter((b) => b.timestamp >= since && b.timestamp <= NOW);
      expect(Math.max(...sim.world.jobs().map((j) => j.builds.filter((b) => b.timestamp >= since).length))).toBeGreaterThan(100);
      const store = stack.gateway.history.store();
      const pipelines = await store.query<{ created_at: Date }>(`SELECT created_at FROM pipelines WHERE backend = 'jk'`);
      expect(pipelines).toHaveLength(inWindow.length);
      expect(Math.min(...pipelines.map((p) => p.created_at.getTime()))).toBeGreaterThanOrEqual(since);
      const withoutJobs = await store.query(`SELECT native_id FROM pipelines p WHERE backend = 'jk' AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.backend = p.backend AND j.pipeline_native_id = p.native_id)`);
      expect(withoutJobs).toEqual([]);
      expect(sync).toMatchObject({ state: 'DONE', imported: inWindow.length, lastError: null });
      expect(sim.requests.some((r) => decodeURIComponent(r.path).includes('allBuilds['))).toBe(true);
    } finally {
      await stack.close();
    }
  }, 90_000);
});
