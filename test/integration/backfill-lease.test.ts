import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, expect, it } from 'vitest';
import { createGithubSimulator, type GithubSimulator } from '../../adapters/github/simulator/index.ts';
import { spawnGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { TEST_POSTGRES_URL } from '../helpers/history-stores.ts';
import { GITHUB_TOKEN } from '../helpers/stack.ts';

/** Two gateway instances over one PostgreSQL history and one GitHub simulator. */
interface Setup {
  readonly admin: pg.Client;
  readonly url: string;
  readonly sim: GithubSimulator;
  readonly logs: Map<GatewayProcess, string[]>;
}

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  cleanups = [];
});

async function setUp(repositories: string[]): Promise<Setup> {
  const schema = `backfill_lease_${randomBytes(6).toString('hex')}`;
  const url = `${TEST_POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  cleanups.push(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });
  // 80 finished runs per repository, 12 minutes apart: 16 hours; the window (12 h) holds about 60 of them.
  const sim = createGithubSimulator({ token: GITHUB_TOKEN, seed: 5, repositories, history: 80 });
  await sim.start();
  cleanups.push(() => sim.stop());
  return { admin, url, sim, logs: new Map() };
}

async function spawn(s: Setup, backfill: Record<string, unknown>): Promise<GatewayProcess> {
  const lines: string[] = [];
  const child = await spawnGatewayProcess({
    logLevel: 'info',
    server: { port: 0, host: '127.0.0.1' },
    auth: { mode: 'open' },
    audit: { file: null },
    history: { url: { value: s.url }, backfill: { days: 0.5, pageSize: 10, ...backfill } },
    backends: [{ name: 'gh', provider: 'github', url: s.sim.url, token: { value: GITHUB_TOKEN }, organizations: ['octo-org'] }],
  }, 90_000, { onLog: (line) => lines.push(line) });
  s.logs.set(child, lines);
  cleanups.push(async () => {
    child.child.kill('SIGCONT');
    await child.stop('SIGKILL');
  });
  return child;
}

interface Sync { state: string; imported: number; estimatedTotal: number | null; requests: number; projects: number; projectsDone: number }
async function sync(child: GatewayProcess): Promise<Sync> {
  const res = await fetch(`${child.base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ backends { sync { state imported estimatedTotal requests projects projectsDone } } }' }),
  });
  const body = (await res.json()) as { data: { backends: { sync: Sync }[] } };
  return body.data.backends[0]!.sync;
}

/** Polls gently (Query.backends has a per-minute limit) until `predicate` holds, or fails at the deadline. */
async function until<T>(read: () => Promise<T>, predicate: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (predicate(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(value)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function progress(s: Setup): Promise<{ state: string; imported: number } | undefined> {
  const { rows } = await s.admin.query<{ state: string; imported: number }>(`SELECT state, imported FROM backfill_progress WHERE backend = 'gh'`).catch(() => ({ rows: [] }));
  return rows[0];
}
async function leaseHolder(s: Setup): Promise<string | null> {
  const { rows } = await s.admin.query<{ holder: string }>(`SELECT holder FROM backfill_lease WHERE backend = 'gh'`).catch(() => ({ rows: [] }));
  return rows[0]?.holder ?? null;
}
/** The holder id an instance logged when it took the lease (null if it never did). */
function holderOf(s: Setup, child: GatewayProcess): string | null {
  const line = s.logs.get(child)!.find((l) => l.includes('"msg":"backfill lease taken"'));
  return line ? (JSON.parse(line) as { holder: string }).holder : null;
}

/** The simulator's runs in the pass's window (its `since` as saved). */
async function runsOfWindow(s: Setup) {
  const { rows } = await s.admin.query<{ since: Date }>(`SELECT since FROM backfill_progress WHERE backend = 'gh'`);
  return s.sim.world.runs().filter((r) => Date.parse(r.createdAt) >= rows[0]!.since.getTime());
}
const jobsReads = (s: Setup) => s.sim.requests.map((r) => /\/actions\/runs\/(\d+)\/jobs/.exec(r.path)?.[1]).filter((id): id is string => id !== undefined);

it('two instances on one history: one backfills, the other sends no backfill request and reports its progress until DONE', async () => {
  const s = await setUp(['api', 'web']);
  const first = await spawn(s, { requestsPerMinute: 600, leaseSeconds: 30 });
  // Barrier: the first instance holds the lease and has committed a page; then it is frozen
  // (SIGSTOP) so the second starts while the pass is surely under way.
  await until(() => progress(s), (p) => (p?.imported ?? 0) >= 10 && p?.state === 'RUNNING', 60_000, 'a committed page');
  first.child.kill('SIGSTOP');
  const holder = holderOf(s, first);
  expect(holder).not.toBeNull();
  expect(await leaseHolder(s)).toBe(holder);

  const second = await spawn(s, { requestsPerMinute: 600, leaseSeconds: 30 });
  // The follower shows the shared progress: RUNNING, with what the holder has imported, of both
  // projects (the holder published how many it listed; only the first has a progress row yet).
  const following = await until(() => sync(second), (v) => v.state === 'RUNNING' && v.imported >= 10, 30_000, 'the second instance to follow');
  expect(following).toMatchObject({ projects: 2, projectsDone: 0 });
  expect(following.estimatedTotal).toBeGreaterThan(following.imported);
  first.child.kill('SIGCONT');

  const done = await until(() => sync(second), (v) => v.state === 'DONE', 60_000, 'the follower to see DONE');
  const runs = await runsOfWindow(s);
  expect(done).toMatchObject({ state: 'DONE', imported: runs.length, estimatedTotal: runs.length, projects: 2, projectsDone: 2 });
  const holderView = await sync(first);
  expect(holderView).toMatchObject({ state: 'DONE', imported: runs.length });

  // One instance's requests, not two: the holder's count is everything the simulator saw, each run's jobs read once.
  expect(s.sim.requests.length).toBe(holderView.requests);
  const reads = jobsReads(s);
  expect(new Set(reads).size).toBe(reads.length);
  expect(reads).toHaveLength(runs.length);
  expect(holderOf(s, second)).toBeNull();
  expect(s.logs.get(second)!.some((l) => l.includes('"msg":"backfill started"'))).toBe(false);
}, 240_000);

it('killing the holder mid-backfill: the other instance takes the lease after its TTL and finishes from the saved progress', async () => {
  const s = await setUp(['api']);
  // Slow enough (2 requests a second, about 70 in all) to be mid-pass while the second instance starts.
  const first = await spawn(s, { requestsPerMinute: 120, leaseSeconds: 2 });
  await until(() => progress(s), (p) => (p?.imported ?? 0) >= 10 && p?.state === 'RUNNING', 60_000, 'a committed page');
  const second = await spawn(s, { requestsPerMinute: 6000, leaseSeconds: 2 });
  // Barrier: the second follows while the first still holds the lease (renewing it every 2/3 s).
  await until(() => sync(second), (v) => v.state === 'RUNNING' && v.imported >= 10, 30_000, 'the second instance to follow');
  expect(await leaseHolder(s)).toBe(holderOf(s, first));
  expect(holderOf(s, second)).toBeNull();
  await first.stop('SIGKILL');
  const atKill = (await progress(s))!;
  expect(atKill.state).toBe('RUNNING');
  const { rows: done } = await s.admin.query<{ native_id: string }>(
    `SELECT p.native_id FROM pipelines p WHERE EXISTS (SELECT 1 FROM jobs j WHERE j.backend = p.backend AND j.pipeline_native_id = p.native_id)`,
  );
  const committed = new Set(done.map((r) => r.native_id.split('/').pop()!));
  const before = s.sim.requests.length;

  const finished = await until(() => sync(second), (v) => v.state === 'DONE', 60_000, 'the second instance to finish');
  expect(holderOf(s, second)).not.toBeNull();
  expect(await leaseHolder(s)).toBe(holderOf(s, second));
  expect(s.logs.get(second)!.some((l) => l.includes('"msg":"backfill started"') && l.includes('"resumed":1'))).toBe(true);
  // Resumed, not restarted: no run whose jobs were committed before the kill is read again.
  const reread = s.sim.requests.slice(before).map((r) => /\/actions\/runs\/(\d+)\/jobs/.exec(r.path)?.[1]).filter((id) => id !== undefined && [...committed].some((c) => c.endsWith(id)));
  expect(reread).toEqual([]);

  // Exact rows: every run of the window, once, with all its jobs.
  const runs = await runsOfWindow(s);
  const { rows: [counts] } = await s.admin.query<{ pipelines: number; jobs: number }>(
    `SELECT (SELECT count(*)::int FROM pipelines) AS pipelines, (SELECT count(*)::int FROM jobs) AS jobs`,
  );
  expect(counts).toEqual({ pipelines: runs.length, jobs: runs.reduce((n, r) => n + s.sim.world.jobs(r.id).length, 0) });
  expect(finished).toMatchObject({ state: 'DONE', imported: runs.length });
}, 240_000);

it('a holder frozen past its TTL (a long pause) stops when it wakes, once another instance has taken the lease, and follows it', async () => {
  const s = await setUp(['api']);
  const first = await spawn(s, { requestsPerMinute: 120, leaseSeconds: 2 });
  await until(() => progress(s), (p) => (p?.imported ?? 0) >= 10 && p?.state === 'RUNNING', 60_000, 'a committed page');
  const second = await spawn(s, { requestsPerMinute: 6000, leaseSeconds: 2 });
  await until(() => sync(second), (v) => v.state === 'RUNNING' && v.imported >= 10, 30_000, 'the second instance to follow');
  first.child.kill('SIGSTOP');
  // Barrier: the second instance holds the lease (the frozen one stopped renewing).
  await until(() => leaseHolder(s), (h) => h === holderOf(s, second), 30_000, 'the takeover');
  first.child.kill('SIGCONT');
  await until(async () => s.logs.get(first)!.some((l) => l.includes('"msg":"backfill lease lost;')), Boolean, 30_000, 'the woken holder to stop');

  const runs = await until(async () => (await sync(second)).state === 'DONE' ? runsOfWindow(s) : null, (r) => r !== null, 60_000, 'the new holder to finish');
  await until(() => sync(first), (v) => v.state === 'DONE' && v.imported === runs!.length, 30_000, 'the woken instance to follow to DONE');
  expect(await leaseHolder(s)).toBe(holderOf(s, second));
  expect(s.logs.get(first)!.filter((l) => l.includes('"msg":"backfill started"'))).toHaveLength(1);
  const { rows: [counts] } = await s.admin.query<{ pipelines: number; jobs: number; imported: number }>(
    `SELECT (SELECT count(*)::int FROM pipelines) AS pipelines, (SELECT count(*)::int FROM jobs) AS jobs, (SELECT imported FROM backfill_progress) AS imported`,
  );
  expect(counts).toEqual({ pipelines: runs!.length, jobs: runs!.reduce((n, r) => n + s.sim.world.jobs(r.id).length, 0), imported: runs!.length });
}, 240_000);
