import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { SqlDriver, SqlSession } from './history-store.ts';

/** Lets I/O callbacks run: PGlite executes on the main thread, so a batch of statements would otherwise hold the event loop for its whole length. */
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function session(db: PGlite | Transaction): SqlSession {
  return {
    async query<T extends object>(sql: string, params: readonly unknown[] = []) {
      const result = await db.query<T>(sql, [...params]);
      // Between statements, the live path (webhooks, subscriptions) gets its turn.
      await yieldToLoop();
      return { rows: result.rows, affected: result.affectedRows ?? 0 };
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
  };
}

/** Embedded PostgreSQL (WASM): stored in `dataDir`, or in memory when none is given. */
export async function openPgliteDriver(dataDir?: string): Promise<SqlDriver> {
  const db = await PGlite.create(dataDir);
  return {
    ...session(db),
    transaction: (work) => db.transaction((tx) => work(session(tx))),
    close: () => db.close(),
  };
}
