import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_POSTGRES_URL } from '../helpers/history-stores.ts';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';

const NOW = Date.parse('2026-11-20T12:00:00.000Z');
const DAY_MS = 86_400_000;
const DAYS = 0.5;
const SINCE = NOW - DAYS * DAY_MS;

const SYNC = `{ backends { name sync { state since imported importedJobs estimatedTotal oldestImportedAt requests projects projectsDone lastError } } }`;
interface SyncAnswer {
  backends: { name: string; sync: { state: string; since: string; imported: number; importedJobs: number; estimatedTotal: number | null; oldestImportedAt: string; requests: number; projects: number; projectsDone: number; lastError: string | null } | null }[];
}

/** A schema of its own for this run, chosen through the URL's `options`. */
async function postgresSchema(): Promise<{ env: NodeJS.ProcessEnv; drop: () => Promise<void> }> {
  const schema = `backfill_it_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = `${TEST_POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return {
    env: { ...process.env, SWITCHYARD_TEST_HISTORY_URL: url },
    drop: async () => {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

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
