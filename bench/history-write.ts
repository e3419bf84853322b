/**
 * History write throughput (issue 13): 10,000 transitions (jobs, 5 revisions each) recorded in
 * batches of 500, on in-memory PGlite and on the PostgreSQL at 127.0.0.1:5432 (database `test`,
 * a schema of its own, dropped afterwards). Also PGlite's open + migrate cost (demo start-up).
 *   npx tsx bench/history-write.ts [transitions]
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { SqlHistoryStore, type Observation } from '../src/history/history-store.ts';
import { openPgliteDriver } from '../src/history/pglite-driver.ts';
import { openPostgresDriver } from '../src/history/postgres-driver.ts';
import type { JobModel } from '../src/model.ts';

const URL = 'postgres://postgres@127.0.0.1:5432/test';
const total = Number(process.argv[2] ?? 10_000);
const BATCH = 500;

function observations(n: number): Observation[] {
  return Array.from({ length: n }, (_, i): Observation => {
    const job: JobModel = {
      type: 'Job', backend: 'gh', nativeId: `job-${Math.floor(i / 5)}`, revision: [1, i % 5], projectNativeId: 'acme/web',
      pipelineNativeId: `p-${Math.floor(i / 50)}`, name: `test-${i % 7}`, status: i % 5 === 4 ? 'SUCCESS' : 'RUNNING', waitReason: null,
      native: { provider: 'github', status: 'in_progress', conclusion: null, failureReason: null }, attempt: 1, url: null,
      labels: ['linux'], runnerNativeId: 'r1', runnerName: 'runner-1', branch: 'main', createdAt: '2026-01-01T10:00:00.000Z',
      queuedAt: '2026-01-01T10:00:00.000Z', startedAt: '2026-01-01T10:00:05.000Z', finishedAt: null, steps: [],
    };
    return { entity: job, observedAt: new Date(Date.UTC(2026, 0, 1, 10) + i).toISOString() };
  });
}

async function measure(name: string, store: SqlHistoryStore): Promise<void> {
  await store.migrate();
  const rows = observations(total);
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i += BATCH) await store.record(rows.slice(i, i + BATCH));
  const seconds = (performance.now() - t0) / 1000;
  console.log(`${name}: ${total} transitions in ${seconds.toFixed(2)} s = ${Math.round(total / seconds)} transitions/s`);
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const lite = new SqlHistoryStore(await openPgliteDriver());
  const t1 = performance.now();
  await lite.migrate();
  console.log(`PGlite in memory: open ${Math.round(t1 - t0)} ms, migrate ${Math.round(performance.now() - t1)} ms`);
  await measure('PGlite (in memory)', lite);
  await lite.close();

  const schema = `history_bench_${randomBytes(4).toString('hex')}`;
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

await main();
