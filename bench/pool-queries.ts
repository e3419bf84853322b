/**
 * Latency of the history reads behind runner pools, estimates and history pages (issue 13),
 * over a constructed history of N jobs (default 100,000; N/10 pipelines, 40 runners with one
 * busy/idle transition per job, 30 days, 5 label sets, 50 projects) on in-memory PGlite and on the PostgreSQL at 127.0.0.1:5432
 * (a schema of its own, dropped afterwards). 20 runs of each read; p50 and p95 in ms.
 *   npx tsx bench/pool-queries.ts [jobs] [pglite|postgres|both]
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { compileScope } from '../src/auth/scope.ts';
import { estimateSamples } from '../src/history/estimates.ts';
import { historyPipelines } from '../src/history/history-lists.ts';
import { SqlHistoryStore } from '../src/history/history-store.ts';
import { openPgliteDriver } from '../src/history/pglite-driver.ts';
import { poolWaitsBetween } from '../src/history/pools/pool-waits.ts';
import { poolWindow } from '../src/history/pools/pool-window.ts';
import { openPostgresDriver } from '../src/history/postgres-driver.ts';
import { projectScope } from '../src/history/project-scope.ts';
import { poolOf } from '../src/pools/pool-labels.ts';
import { percentileCont } from '../src/pools/percentiles.ts';

const URL = 'postgres://postgres@127.0.0.1:5432/test';
const total = Number(process.argv[2] ?? 100_000);
const which = process.argv[3] ?? 'both';
const RUNS = 20;
const DAY = 86_400_000;

const labels = (modulo: number) => `(CASE g % ${modulo} WHEN 0 THEN ARRAY['self-hosted','Linux','X64'] WHEN 1 THEN ARRAY['self-hosted','linux']
  WHEN 2 THEN ARRAY['self-hosted','Linux','ARM64'] WHEN 3 THEN ARRAY['ubuntu-latest'] ELSE ARRAY['gpu','self-hosted'] END)`;

async function fill(store: SqlHistoryStore, now: Date): Promise<void> {
  const spanMs = 30 * DAY;
  await store.query(`
    INSERT INTO jobs (backend, native_id, revision, project_native_id, pipeline_native_id, name, status, attempt, branch, labels,
      runner_native_id, created_at, queued_at, started_at, finished_at, queue_ms, duration_ms, recorded_at)
    SELECT 'gh', 'j' || g, '{1}', 'acme/p' || (g % 50), 'p' || (g / 10), 'job-' || (g % 20),
      CASE WHEN g % 10 = 0 THEN 'FAILURE' ELSE 'SUCCESS' END, 1, CASE WHEN g % 3 = 0 THEN 'main' ELSE 'b' || (g % 40) END,
      ${labels(5)}, 'r' || (g % 40), t, t, t + (g % 120) * interval '1 second', t + (g % 120 + 60 + g % 600) * interval '1 second',
      (g % 120) * 1000, (60 + g % 600) * 1000, $2
    FROM generate_series(1, $1::int) AS g, LATERAL (SELECT $2::timestamptz - g * ($3::float8 / $1) * interval '1 millisecond' AS t) AS at`,
  [total, now.toISOString(), spanMs]);
  await store.query(`
    INSERT INTO pipelines (backend, native_id, revision, project_native_id, name, status, attempt, branch, created_at, started_at, finished_at, queue_ms, duration_ms, recorded_at)
    SELECT 'gh', 'p' || g, '{1}', 'acme/p' || (g % 50), 'ci', 'SUCCESS', 1, CASE WHEN g % 3 = 0 THEN 'main' ELSE 'b' || (g % 40) END,
      t, t, t + (300 + g % 900) * interval '1 second', 0, (300 + g % 900) * 1000, $2
    FROM generate_series(1, $1::int / 10) AS g, LATERAL (SELECT $2::timestamptz - g * ($3::float8 / ($1 / 10)) * interval '1 millisecond' AS t) AS at`,
  [total, now.toISOString(), spanMs]);
  await store.query(`
    INSERT INTO transitions (entity_type, backend, native_id, revision, status, observed_at, payload)
    SELECT 'Runner', 'gh', 'r' || g, '{1}', 'IDLE', $1::timestamptz - interval '40 days',
      jsonb_build_object('labels', to_jsonb(${labels(3)}))
    FROM generate_series(0, 39) AS g`, [now.toISOString()]);
  // Runners go busy and idle with the jobs: one transition per job, as the live path records them.
  await store.query(`
    INSERT INTO transitions (entity_type, backend, native_id, revision, status, observed_at, payload)
    SELECT 'Runner', 'gh', 'r' || (g % 40), ARRAY[2, g]::float8[], CASE WHEN g % 2 = 0 THEN 'BUSY' ELSE 'IDLE' END,
      $2::timestamptz - g * ($3::float8 / $1) * interval '1 millisecond', jsonb_build_object('labels', to_jsonb(${labels(3).replaceAll('g %', '(g % 40) %')}))
    FROM generate_series(1, $1::int) AS g`, [total, now.toISOString(), spanMs]);
  // A steady-state database: autovacuum has run (visibility map set, statistics current).
  await store.query('VACUUM ANALYZE');
}

async function timed(name: string, work: () => Promise<unknown>): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await work();
    times.push(performance.now() - t0);
  }
  console.log(`  ${name}: p50 ${percentileCont(times, 0.5)!.toFixed(1)} ms, p95 ${percentileCont(times, 0.95)!.toFixed(1)} ms`);
}

/** BENCH_EXPLAIN=1: print the plan of every read slower than 50 ms (once per statement). */
function explainSlow(store: SqlHistoryStore): void {
  if (!process.env.BENCH_EXPLAIN) return;
  const query = store.query.bind(store);
  const shown = new Set<string>();
  store.query = async <T extends object>(sql: string, params: readonly unknown[] = []): Promise<T[]> => {
    const t0 = performance.now();
    const rows = await query<T>(sql, params);
    if (performance.now() - t0 > 50 && !shown.has(sql) && /^\s*(WITH|SELECT|\()/.test(sql)) {
      shown.add(sql);
      const plan = await query<{ 'QUERY PLAN': string }>(`EXPLAIN ANALYZE ${sql}`, params);
      console.log(`--- ${(performance.now() - t0).toFixed(0)} ms\n${plan.map((r) => r['QUERY PLAN']).join('\n')}`);
    }
    return rows;
  };
}

async function measure(name: string, store: SqlHistoryStore): Promise<void> {
  await store.migrate();
  explainSlow(store);
  const now = new Date();
  const t0 = performance.now();
  await fill(store, now);
  console.log(`${name}: ${total} jobs, ${total / 10} pipelines filled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const all = compileScope({ backends: ['*'] });
  const restricted = compileScope({ backends: ['gh'], projects: ['acme/p1*'], runners: true });
  const pool = poolOf('gh', ['self-hosted', 'linux', 'x64']);
  const keys = Array.from({ length: 20 }, (_, i) => ({ kind: 'Job' as const, backend: 'gh', project: `acme/p${i}`, name: `job-${i}`, branch: 'main' }));
  await timed('pool waits, last hour, every pool (unrestricted)', async () =>
    poolWaitsBetween(store, await projectScope(store, all, ['gh']), ['gh'], new Date(now.getTime() - 3_600_000), now));
  await timed('pool waits, last hour, every pool (restricted to 11 projects)', async () =>
    poolWaitsBetween(store, await projectScope(store, restricted, ['gh']), ['gh'], new Date(now.getTime() - 3_600_000), now));
  await timed('pool window, 24 h in 24 buckets', async () => poolWindow(store, {
    pool, from: new Date(now.getTime() - DAY), to: now, bucketMs: 3_600_000, scope: await projectScope(store, all, ['gh']), withRunners: true, now,
  }));
  await timed('pool window, 7 days in 168 buckets', async () => poolWindow(store, {
    pool, from: new Date(now.getTime() - 7 * DAY), to: now, bucketMs: 3_600_000, scope: await projectScope(store, all, ['gh']), withRunners: true, now,
  }));
  await timed('estimates, 20 jobs in one query', () => estimateSamples(store, keys));
  await timed('history page of 50 pipelines, 10 days back', async () => historyPipelines(store, {
    backends: ['gh'], projects: null, statuses: null, branch: null, createdAfter: null, createdBefore: new Date(now.getTime() - 10 * DAY), limit: 51,
    scope: await projectScope(store, all, ['gh']),
  }, () => 'github'));
}

async function main(): Promise<void> {
  if (which !== 'postgres') {
    const lite = new SqlHistoryStore(await openPgliteDriver());
    await measure('PGlite (in memory)', lite);
    await lite.close();
  }
  if (which === 'pglite') return;
  const schema = `pools_bench_${randomBytes(4).toString('hex')}`;
  const server = new SqlHistoryStore(await openPostgresDriver({ url: URL, schema }));
  try {
    await measure('PostgreSQL 127.0.0.1', server);
  } finally {
    await server.close();
    const client = new pg.Client({ connectionString: URL });
    await client.connect();
    await client.query(`DROP SCHEMA ${schema} CASCADE`);
    await client.end();
  }
}

void main();
