/**
 * Latency of the analytics a dashboard asks (issue 13) at 100k and 1M recorded jobs, on the
 * PostgreSQL at 127.0.0.1:5432 (database `test`, a schema of its own, dropped afterwards) and
 * on in-memory PGlite. The history is generated in SQL (generate_series; 10 jobs per pipeline,
 * 50 projects on 2 backends, 30 days, every commit of a project built twice so flaky jobs exist), then each
 * query runs ITERATIONS times after 2 warm-ups through the same builders the resolvers use.
 *   npx tsx bench/analytics-queries.ts [jobs,...=100000,1000000] [pgliteMaxJobs=1000000]
 * PGlite builds its history only up to pgliteMaxJobs (building 1M takes minutes there).
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { ALL_SCOPE, compileScope, type CompiledScope } from '../src/auth/scope.ts';
import { failureCauses, flaky, stats, timeToGreen } from '../src/history/analytics/analytics.ts';
import { analyticsScope } from '../src/history/analytics/scope.ts';
import { SqlHistoryStore } from '../src/history/history-store.ts';
import { ANALYZE_ROLLUPS } from '../src/history/rollups/rollup-sql.ts';
import { openPgliteDriver } from '../src/history/pglite-driver.ts';
import { openPostgresDriver } from '../src/history/postgres-driver.ts';

const URL = 'postgres://postgres@127.0.0.1:5432/test';
const sizes = (process.argv[2] ?? '100000,1000000').split(',').map(Number);
const pgliteMax = Number(process.argv[3] ?? 1_000_000);
const ITERATIONS = Number(process.env.ITERATIONS ?? 20);
const JOBS_PER_PIPELINE = 10;
const END = new Date('2026-06-01T00:00:00.000Z');
const DAYS = 30;
const PROVIDERS = new Map([['gh', 'github'], ['gl', 'gitlab']]);

/** A deterministic 0..1023 from an integer expression (no random(): every run builds the same history). */
const h = (expr: string, salt: number) => `(hashint8((${expr})::bigint * 7919 + ${salt}) & 1023)`;

export async function generate(store: SqlHistoryStore, jobs: number): Promise<void> {
  const pipelines = jobs / JOBS_PER_PIPELINE;
  const spanMs = DAYS * 86_400_000;
  await store.query(`
INSERT INTO pipelines (backend, native_id, revision, project_native_id, project_full_name, number, name, status, native_status,
  native_conclusion, failure_reason, attempt, branch, commit_sha, created_at, queued_at, started_at, finished_at, queue_ms, duration_ms, recorded_at)
SELECT backend, 'p' || i, ARRAY[1]::float8[], project, project, i, 'wf-' || (i % 3), status, 'completed', lower(status),
  CASE status WHEN 'FAILURE' THEN 'tests failed' WHEN 'ERROR' THEN 'runner lost' END, 1 + i % 2, branch, 'c' || (i % 50) || '-' || (i / 100),
  finished - make_interval(secs => (duration + queue) / 1000.0), finished - make_interval(secs => (duration + queue) / 1000.0),
  finished - make_interval(secs => duration / 1000.0), finished, queue, duration, finished
FROM (
  SELECT i, CASE WHEN i % 2 = 0 THEN 'gh' ELSE 'gl' END AS backend, 'org/proj-' || (i % 50) AS project,
    CASE WHEN ${h('i', 1)} < 4 * 1024 / 5 THEN 'SUCCESS' WHEN ${h('i', 1)} < 900 THEN 'FAILURE' WHEN ${h('i', 1)} < 940 THEN 'TIMED_OUT'
      WHEN ${h('i', 1)} < 980 THEN 'ERROR' ELSE 'CANCELED' END AS status,
    CASE WHEN ${h('i', 2)} < 600 THEN 'main' ELSE 'feature-' || (${h('i', 3)} % 20) END AS branch,
    timestamptz '${END.toISOString()}' - make_interval(secs => (${pipelines} - i)::float8 * ${spanMs / 1000} / ${pipelines}) AS finished,
    (60000 + ${h('i', 4)} * 500)::float8 AS duration, (${h('i', 5)} * 20)::float8 AS queue
  FROM generate_series(1, ${pipelines}) AS i
) s`);
  await store.query(`
INSERT INTO jobs (backend, native_id, revision, project_native_id, project_full_name, pipeline_native_id, pipeline_name, commit_sha, name,
  status, native_status, native_conclusion, failure_reason, attempt, branch, labels, runner_native_id, runner_name,
  created_at, queued_at, started_at, finished_at, queue_ms, duration_ms, recorded_at)
SELECT p.backend, 'j' || p.number || '-' || k, ARRAY[1]::float8[], p.project_native_id, p.project_full_name, p.native_id, p.name,
  p.commit_sha, 'job-' || k, js.status, 'completed', lower(js.status),
  CASE js.status WHEN 'FAILURE' THEN 'exit code 1' WHEN 'ERROR' THEN 'runner lost' END, p.attempt, p.branch,
  CASE WHEN k = 9 THEN ARRAY['gpu'] ELSE ARRAY['linux', 'x64'] END, 'r' || (${h('p.number * 10 + k', 6)} % 40), 'runner-' || (${h('p.number * 10 + k', 6)} % 40),
  p.started_at, p.started_at, p.started_at, p.finished_at - make_interval(secs => k), 1000, p.duration_ms / (1 + k), p.finished_at
FROM pipelines p CROSS JOIN generate_series(0, ${JOBS_PER_PIPELINE - 1}) AS k
CROSS JOIN LATERAL (SELECT CASE
  WHEN ${h('p.number * 10 + k', 7)} < CASE WHEN k = 3 THEN 800 ELSE 990 END THEN 'SUCCESS'
  WHEN ${h('p.number * 10 + k', 8)} < 700 THEN 'FAILURE' WHEN ${h('p.number * 10 + k', 8)} < 850 THEN 'TIMED_OUT' ELSE 'ERROR' END AS status) js`);
  await store.query(`INSERT INTO history_projects (backend, project_native_id, project_full_name)
    SELECT DISTINCT backend, project_native_id, project_full_name FROM pipelines ON CONFLICT DO NOTHING`);
  // As autovacuum would after a bulk load: statistics, and the visibility map index-only scans need.
  await store.query('VACUUM ANALYZE pipelines');
  await store.query('VACUUM ANALYZE jobs');
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

async function time(name: string, work: () => Promise<unknown>): Promise<string> {
  for (let i = 0; i < 2; i++) await work();
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const t0 = performance.now();
    await work();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return `  ${name.padEnd(44)} p50 ${percentile(samples, 0.5).toFixed(1).padStart(8)} ms   p95 ${percentile(samples, 0.95).toFixed(1).padStart(8)} ms`;
}

async function measure(label: string, store: SqlHistoryStore, jobs: number): Promise<void> {
  await store.migrate();
  const t0 = performance.now();
  await generate(store, jobs);
  console.log(`${label}, ${jobs.toLocaleString('en')} jobs: history generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  // Steady state: the background refresher has built the daily rollups (history/rollups).
  const t1 = performance.now();
  const days = await store.refreshRollups();
  await store.query(ANALYZE_ROLLUPS); // as the refresher does after a catch-up
  console.log(`  rollups: ${days} days rebuilt in ${((performance.now() - t1) / 1000).toFixed(1)} s (${((performance.now() - t1) / days).toFixed(0)} ms per day)`);
  const window = { from: new Date(END.getTime() - 14 * 86_400_000), to: END };
  // As a dashboard asks at 17:00 for the last 14 days: 17 h of today and 7 h of the first day come from rows.
  const partial = { from: new Date(END.getTime() - 14 * 86_400_000 - 7 * 3_600_000), to: new Date(END.getTime() - 7 * 3_600_000) };
  const oneProject = compileScope({ backends: ['gh'], projects: ['org/proj-2'] });
  const scope = (s: CompiledScope) => analyticsScope(store, s, PROVIDERS, null);
  const lines = [
    await time('pipelineStats by PROJECT, DAY (14 d)', async () => stats(store, 'pipelines', await scope(ALL_SCOPE), window, ['PROJECT', 'DAY'], null)),
    await time('jobStats by PROJECT, DAY (14 d, partial days)', async () => stats(store, 'jobs', await scope(ALL_SCOPE), partial, ['PROJECT', 'DAY'], null)),
    await time('jobStats by JOB_NAME (14 d, rows only)', async () => stats(store, 'jobs', await scope(ALL_SCOPE), window, ['JOB_NAME'], null)),
    await time('jobStats by PROJECT, DAY (14 d)', async () => stats(store, 'jobs', await scope(ALL_SCOPE), window, ['PROJECT', 'DAY'], null)),
    await time('jobStats by PROJECT, DAY, one-project key', async () => stats(store, 'jobs', await scope(oneProject), window, ['PROJECT', 'DAY'], null)),
    await time('timeToGreen, main (14 d)', async () => timeToGreen(store, await scope(ALL_SCOPE), window, null, 'main')),
    await time('flakyJobs top 20 (14 d)', async () => flaky(store, await scope(ALL_SCOPE), window, null, 20, 'FLAKE_RATE')),
    await time('failureCauses top 10 (14 d)', async () => failureCauses(store, await scope(ALL_SCOPE), window, null, 10)),
  ];
  console.log(lines.join('\n'));
}

async function onPostgres(jobs: number): Promise<void> {
  const schema = `analytics_bench_${randomBytes(4).toString('hex')}`;
  const store = new SqlHistoryStore(await openPostgresDriver({ url: URL, schema }));
  try {
    await measure('PostgreSQL 127.0.0.1', store, jobs);
  } finally {
    await store.close();
    const client = new pg.Client({ connectionString: URL });
    await client.connect();
    await client.query(`DROP SCHEMA ${schema} CASCADE`);
    await client.end();
  }
}

async function onPglite(jobs: number): Promise<void> {
  const store = new SqlHistoryStore(await openPgliteDriver());
  try {
    await measure('PGlite (in memory)', store, jobs);
  } finally {
    await store.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  for (const jobs of sizes) {
    await onPostgres(jobs);
    if (jobs <= pgliteMax) await onPglite(jobs);
    else console.log(`PGlite (in memory), ${jobs.toLocaleString('en')} jobs: skipped (above pgliteMaxJobs ${pgliteMax})`);
  }
}
