import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { SqlHistoryStore } from '../../src/history/history-store.ts';
import { openPgliteDriver } from '../../src/history/pglite-driver.ts';
import { openPostgresDriver } from '../../src/history/postgres-driver.ts';

/** The PostgreSQL every test uses (test/setup/prerequisites.ts checks it answers). */
export const TEST_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh, empty database for one test: `open()` gives stores over it (several share it), `drop()` removes it. */
export interface TestDatabase {
  readonly kind: 'pglite' | 'postgres';
  open(): Promise<SqlHistoryStore>;
  drop(): Promise<void>;
}

export async function pgliteDatabase(): Promise<TestDatabase> {
  const driver = await openPgliteDriver();
  // Stores share the one in-memory database; only drop() closes it.
  const shared = { ...driver, close: async () => {} };
  return { kind: 'pglite', open: async () => new SqlHistoryStore(shared), drop: () => driver.close() };
}

/** A schema of its own on the real server, named after a random id and dropped afterwards. */
export async function postgresDatabase(): Promise<TestDatabase> {
  const schema = `history_test_${randomBytes(6).toString('hex')}`;
  const opened: SqlHistoryStore[] = [];
  return {
    kind: 'postgres',
    async open() {
      const store = new SqlHistoryStore(await openPostgresDriver({ url: TEST_POSTGRES_URL, schema }));
      opened.push(store);
      return store;
    },
    async drop() {
      await Promise.all(opened.map((s) => s.close()));
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}

/** Both stores, for `describe.each(HISTORY_DATABASES)`: every history test runs on PGlite and on the real PostgreSQL. */
export const HISTORY_DATABASES: ReadonlyArray<readonly [string, () => Promise<TestDatabase>]> = [
  ['PGlite', pgliteDatabase],
  ['PostgreSQL', postgresDatabase],
];

/** A fresh database and a store over it with every migration applied. */
export async function migratedStore(createDatabase: () => Promise<TestDatabase>): Promise<{ db: TestDatabase; store: SqlHistoryStore }> {
  const db = await createDatabase();
  const store = await db.open();
  await store.migrate();
  return { db, store };
}

/**
 * A schema of its own on the real server for a gateway under test, chosen through the URL's
 * `options` (the config has no schema key): `env` carries it as SWITCHYARD_TEST_HISTORY_URL.
 */
export async function postgresSchemaEnv(prefix: string): Promise<{ env: NodeJS.ProcessEnv; drop: () => Promise<void> }> {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
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
