import type { JobModel, PipelineModel, RunnerModel } from '../model.ts';
import { batchRows, namesOutside, rowKey } from './record-batch.ts';
import { KnownProjects } from './known-projects.ts';
import {
  APPLIED_VERSIONS, INSERT_TRANSITIONS, LINK_JOBS_TO_PIPELINES, MARK_APPLIED, MIGRATION_LOCK, RECORD_LOCK, MIGRATIONS, PRUNE,
  SCHEMA_MIGRATIONS_TABLE, SET_JOB_PROJECT_NAMES, SET_PIPELINE_PROJECT_NAMES, UPSERT_HISTORY_PROJECTS, UPSERT_JOBS,
  UPSERT_PIPELINES, type Migration,
} from './sql.ts';
import { CLAIM_DIRTY_DAY, DELETE_DAY, rebuildDay, type RollupKind } from './rollups/rollup-sql.ts';

/**
 * Per analytics statement: read-only, and no JIT: a figure's plan costs enough to trigger it,
 * and compiling took 2.1 of timeToGreen's 2.6 s at 1M jobs (EXPLAIN ANALYZE) for a 0.45 s run.
 * work_mem 32MB: merging two weeks of rollup histograms (~70k bucket rows at 1M jobs) then
 * hashes and sorts in memory instead of spilling to disk (EXPLAIN ANALYZE: 5 batches and an
 * external merge at the default 4MB).
 */
const LARGE_READ_SETTINGS = ['SET TRANSACTION READ ONLY', 'SET LOCAL jit = off', `SET LOCAL work_mem = '32MB'`] as const;

/** One entity observation the ingestor accepted, as the history records it. */
export interface Observation {
  readonly entity: PipelineModel | JobModel | RunnerModel;
  /** When the gateway accepted it (ISO-8601). */
  readonly observedAt: string;
  /** Its project's full name when known (scope patterns match it as well as the native id). */
  readonly projectFullName?: string | null;
}

export interface RecordResult {
  /** Transitions actually inserted (a redelivered or replayed revision is not counted). */
  readonly inserted: number;
}

/** The durable history: the same contract on PGlite and on PostgreSQL. */
export interface HistoryStore {
  /** Applies the migrations not yet applied; safe to run again and from several instances. */
  migrate(): Promise<void>;
  /** Records a batch in one transaction: idempotent per entity revision. */
  record(batch: readonly Observation[]): Promise<RecordResult>;
  /** Deletes what was observed before `cutoff`; returns the rows deleted. */
  prune(cutoff: Date): Promise<number>;
  /** Rebuilds up to `maxDays` dirty days of the daily rollups, newest first; returns how many. */
  refreshRollups(maxDays?: number): Promise<number>;
  /** Read-only access for analytics and tests. */
  query<T extends object>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** A read-only statement that reads much (a dashboard figure), with settings for it alone (no JIT). */
  queryLarge<T extends object>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Writes of the history's other users (the notification outbox and rule state): one transaction. */
  transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** What a store needs from a database driver: both drivers speak the same PostgreSQL. */
export interface SqlSession {
  query<T extends object>(sql: string, params?: readonly unknown[]): Promise<{ rows: T[]; affected: number }>;
  /** Several statements, no parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface SqlDriver extends SqlSession {
  transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

async function migrate(driver: SqlDriver, migrations: readonly Migration[]): Promise<void> {
  await driver.transaction(async (tx) => {
    // The lock first: instances starting together race even on CREATE TABLE IF NOT EXISTS (duplicate pg_type key).
    await tx.query(MIGRATION_LOCK);
    await tx.exec(SCHEMA_MIGRATIONS_TABLE);
    const applied = new Set((await tx.query<{ version: number }>(APPLIED_VERSIONS)).rows.map((r) => r.version));
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      await tx.exec(migration.sql);
      await tx.query(MARK_APPLIED, [migration.version, migration.name]);
    }
  });
}

function keysOf(result: { rows: { backend: string; native_id: string }[] } | null): Set<string> {
  return new Set(result?.rows.map((r) => rowKey(r.backend, r.native_id)));
}

/** LINK_JOBS_TO_PIPELINES' columns: the pipelines written (keys) and those only named. */
function linkColumns(written: ReadonlySet<string>, named: readonly [string[], string[], string[]] | null): [string[], string[]] | null {
  const link = new Map<string, [string, string]>();
  for (const key of written) {
    const [backend, nativeId] = key.split('\u0000') as [string, string];
    link.set(key, [backend, nativeId]);
  }
  named?.[0].forEach((backend, i) => link.set(rowKey(backend, named[1][i]!), [backend, named[1][i]!]));
  if (link.size === 0) return null;
  const columns: [string[], string[]] = [[], []];
  for (const [backend, nativeId] of link.values()) {
    columns[0].push(backend);
    columns[1].push(nativeId);
  }
  return columns;
}

/** The one HistoryStore: PGlite and PostgreSQL differ only in their SqlDriver. */
export class SqlHistoryStore implements HistoryStore {
  private readonly knownProjects = new KnownProjects();

  constructor(private readonly driver: SqlDriver, private readonly migrations: readonly Migration[] = MIGRATIONS) {}

  migrate(): Promise<void> {
    return migrate(this.driver, this.migrations);
  }

  /**
   * A fixed number of statements per batch, whatever its size (src/history/record-batch.ts);
   * fewer when the upserts wrote every row: names and links only for the rows they left alone.
   */
  async record(batch: readonly Observation[]): Promise<RecordResult> {
    if (batch.length === 0) return { inserted: 0 };
    const rows = batchRows(batch);
    const projects = this.knownProjects.unknown(rows.projects);
    const result = await this.driver.transaction(async (tx) => {
      await tx.query(RECORD_LOCK);
      const { affected: inserted } = await tx.query(INSERT_TRANSITIONS, [rows.transitions]);
      const written = (statement: string, json: string | null) => (json ? tx.query<{ backend: string; native_id: string }>(statement, [json]) : null);
      const pipelines = keysOf(await written(UPSERT_PIPELINES, rows.pipelines));
      const jobs = keysOf(await written(UPSERT_JOBS, rows.jobs));
      const pipelineNames = namesOutside(rows.pipelineNames, pipelines);
      const jobNames = namesOutside(rows.jobNames, jobs);
      if (pipelineNames) await tx.query(SET_PIPELINE_PROJECT_NAMES, pipelineNames);
      if (jobNames) await tx.query(SET_JOB_PROJECT_NAMES, jobNames);
      if (projects) await tx.query(UPSERT_HISTORY_PROJECTS, projects);
      // Jobs recorded before their pipeline: the pipelines this batch wrote or named pass their context on.
      const link = linkColumns(pipelines, pipelineNames);
      if (link) await tx.query(LINK_JOBS_TO_PIPELINES, link);
      return { inserted };
    });
    this.knownProjects.remember(projects);
    return result;
  }

  async prune(cutoff: Date): Promise<number> {
    // Pruning deletes projects nothing refers to any more: the next batch naming one upserts it again
    // (forgotten after the pass as well, for a batch that skipped one while the pass ran).
    this.knownProjects.clear();
    const deleted = await this.driver.transaction(async (tx) => {
      let rows = 0;
      for (const statement of PRUNE) rows += (await tx.query(statement, [cutoff.toISOString()])).affected;
      return rows;
    });
    this.knownProjects.clear();
    return deleted;
  }

  /** One transaction per day: a long rebuild never holds many days' marks, and several instances share the work. */
  async refreshRollups(maxDays = 400): Promise<number> {
    let rebuilt = 0;
    while (rebuilt < maxDays) {
      const claimed = await this.driver.transaction(async (tx) => {
        const [day] = (await tx.query<{ kind: string; day: string }>(CLAIM_DIRTY_DAY)).rows;
        if (!day) return false;
        if (day.kind !== 'pipelines' && day.kind !== 'jobs') return true; // not ours to build: the mark is dropped
        for (const statement of [...DELETE_DAY, ...rebuildDay(day.kind satisfies RollupKind)]) await tx.query(statement, [day.kind, day.day]);
        return true;
      });
      if (!claimed) break;
      rebuilt++;
    }
    return rebuilt;
  }

  async query<T extends object>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await this.driver.query<T>(sql, params)).rows;
  }

  /** In a read-only transaction whose settings (LARGE_READ_SETTINGS) hold for it alone (SET LOCAL). */
  transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.driver.transaction(work);
  }

  queryLarge<T extends object>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.driver.transaction(async (tx) => {
      for (const setting of LARGE_READ_SETTINGS) await tx.query(setting);
      return (await tx.query<T>(sql, params)).rows;
    });
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}
