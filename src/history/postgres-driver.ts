import pg from 'pg';
import type { SqlDriver, SqlSession } from './history-store.ts';
import { MIGRATION_LOCK } from './sql.ts';

function session(client: pg.Pool | pg.PoolClient): SqlSession {
  return {
    async query<T extends object>(sql: string, params: readonly unknown[] = []) {
      const result = await client.query<T>(sql, [...params]);
      return { rows: result.rows, affected: result.rowCount ?? 0 };
    },
    async exec(sql: string) {
      await client.query(sql);
    },
  };
}

export interface PostgresOptions {
  readonly url: string;
  /** A schema to keep the tables in (created when missing); the database's default search_path otherwise. */
  readonly schema?: string;
  readonly maxConnections?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A PostgreSQL server through a `pg` pool. Connects once at open, so a wrong URL fails at start. */
export async function openPostgresDriver(options: PostgresOptions): Promise<SqlDriver> {
  if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) throw new Error(`invalid schema name ${JSON.stringify(options.schema)}`);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 4,
    connectionTimeoutMillis: 5000,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // An idle client losing its server must not crash the process: the next query reports it.
  pool.on('error', () => {});
  try {
    // One simple-protocol message is one implicit transaction: the lock (the migrations' own) holds until
    // the schema exists, so instances starting together do not race on IF NOT EXISTS (duplicate pg_namespace key).
    if (options.schema) await pool.query(`${MIGRATION_LOCK}; CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
    else await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
  return {
    ...session(pool),
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(session(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
