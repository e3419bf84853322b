import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createGithubSimulator, type GithubSimulator } from '../../adapters/github/simulator/index.ts';
import { spawnGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { TEST_POSTGRES_URL } from '../helpers/history-stores.ts';
import { GITHUB_TOKEN, waitFor } from '../helpers/stack.ts';

const schema = `backfill_resume_${randomBytes(6).toString('hex')}`;
const url = `${TEST_POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
let admin: pg.Client;
let sim: GithubSimulator;
const children: GatewayProcess[] = [];

beforeAll(async () => {
  admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  // 80 finished runs, 12 minutes apart: 16 hours; the window (12 h) holds about 60 of them.
  sim = createGithubSimulator({ token: GITHUB_TOKEN, seed: 5, repositories: ['api'], history: 80 });
  await sim.start();
});

afterAll(async () => {
  await Promise.all(children.map((c) => c.stop('SIGKILL')));
  await sim?.stop();
  await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin?.end();
});

// A short lease: the killed instance's lease expires (the restart then resumes) within 2 s, not the default 30.
function config(requestsPerMinute: number): Record<string, unknown> {
  return {
    logLevel: 'info',
    server: { port: 0, host: '127.0.0.1' },
    auth: { mode: 'open' },
    audit: { file: null },
    history: { url: { value: url }, backfill: { days: 0.5, requestsPerMinute, pageSize: 10, leaseSeconds: 2 } },
    backends: [{ name: 'gh', provider: 'github', url: sim.url, token: { value: GITHUB_TOKEN }, organizations: ['octo-org'] }],
  };
}

interface Progress { state: string; imported: number; imported_jobs: number; cursor_at: Date; until: Date; since: Date }
async function progress(): Promise<Progress | undefined> {
  const { rows } = await admin.query<Progress>(`SELECT state, imported, imported_jobs, cursor_at, until, since FROM backfill_progress WHERE backend = 'gh'`).catch(() => ({ rows: [] as Progress[] }));
  return rows[0];
}

const jobsRead = (path: string) => /\/actions\/runs\/(\d+)\/jobs/.exec(path)?.[1];
const createdRange = (path: string) => {
  const m = /created=([^&]+)/.exec(path);
  const [from, to] = decodeURIComponent(m![1]!).split('..');
  return { from: Date.parse(from!), to: Date.parse(to!) };
};

it('a backfill killed mid-way resumes from its cursor after a restart: done pages are not read again, and the rows are exact', async () => {
  const logs: string[] = [];
  const first = await spawnGatewayProcess(config(240), 90_000, { onLog: (line) => logs.push(line) });
  children.push(first);
  // The barrier: two pages (20 runs with their jobs) committed.
  await waitFor(async () => ((await progress())?.imported ?? 0) >= 20, 60_000, 'two committed pages');
  await first.stop('SIGKILL');
  const atKill = (await progress())!;
  expect(atKill.state).toBe('RUNNING');
  const { rows: done } = await admin.query<{ native_id: string }>(
    `SELECT p.native_id FROM pipelines p WHERE EXISTS (SELECT 1 FROM jobs j WHERE j.backend = p.backend AND j.pipeline_native_id = p.native_id)`,
  );
  const doneRuns = new Set(done.map((r) => r.native_id.split('/').pop()!));
  expect(doneRuns.size).toBeGreaterThanOrEqual(20);
  const before = sim.requests.length;

  const second = await spawnGatewayProcess(config(6000), 90_000, { onLog: (line) => logs.push(line) });
  children.push(second);
  await waitFor(async () => (await progress())?.state === 'DONE', 60_000, 'the resumed backfill to finish');
  await second.stop();
  const after = sim.requests.slice(before);

  // Not one jobs read again for a run whose jobs were committed before the kill.
  const reread = after.map((r) => jobsRead(r.path)).filter((id): id is string => id !== undefined && [...doneRuns].some((d) => d.endsWith(id)));
  expect(reread).toEqual([]);
  // Its list pages: the gap since the first start, then from the cursor down, never the committed range again.
  for (const r of after.filter((x) => x.path.includes('/actions/runs?'))) {
    const { from, to } = createdRange(r.path);
    const gap = from >= Math.floor(atKill.until.getTime() / 1000) * 1000;
    expect(gap || to <= atKill.cursor_at.getTime()).toBe(true);
  }
  expect(logs.some((l) => l.includes('"msg":"backfill started"') && l.includes('"resumed":1'))).toBe(true);

  // Exact rows: every run of the final window, once, with all its jobs.
  const final = (await progress())!;
  const inWindow = sim.world.runs().filter((r) => Date.parse(r.createdAt) >= final.since.getTime());
  const { rows: [counts] } = await admin.query<{ pipelines: number; jobs: number }>(
    `SELECT (SELECT count(*)::int FROM pipelines) AS pipelines, (SELECT count(*)::int FROM jobs) AS jobs`,
  );
  expect(counts).toEqual({ pipelines: inWindow.length, jobs: inWindow.reduce((n, r) => n + sim.world.jobs(r.id).length, 0) });
  expect(final.imported).toBe(inWindow.length);
}, 300_000);
