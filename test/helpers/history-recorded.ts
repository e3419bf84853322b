/**
 * What the history should hold and what it holds, as sets of entity revisions
 * (`Type|backend|nativeId|revision`), for exact comparisons in the durability tests.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import pg from 'pg';
import type { ChangeEvent } from '../../src/events/event-types.ts';
import { SqlHistoryStore, type HistoryStore } from '../../src/history/history-store.ts';
import { openPostgresDriver } from '../../src/history/postgres-driver.ts';
import { TEST_POSTGRES_URL } from './history-stores.ts';

const TYPES = ['Job', 'Pipeline', 'Runner'] as const;

const key = (type: string, backend: string, nativeId: string, revision: readonly number[]) => `${type}|${backend}|${nativeId}|${revision.join(',')}`;

/** Every entity revision the event streams hold (after stream entry id `after` of each stream, when given). */
export async function publishedRevisions(redis: Redis, prefix: string, after: Partial<Record<string, string>> = {}): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const type of TYPES) {
    const start = after[type] ? `(${after[type]}` : '-';
    for (const [, fields] of await redis.xrange(`${prefix}${type}`, start, '+')) {
      const event = JSON.parse(fields[fields.indexOf('e') + 1]!) as ChangeEvent;
      const entity = event.type === 'Job' ? event.job : event.type === 'Pipeline' ? event.pipeline : event.runner;
      keys.add(key(event.type, entity.backend, entity.nativeId, entity.revision));
    }
  }
  return keys;
}

/** The last entry id of each stream now (a mark to compare "published after" against). */
export async function streamMarks(redis: Redis, prefix: string): Promise<Record<string, string>> {
  const marks: Record<string, string> = {};
  for (const type of TYPES) marks[type] = (await redis.xrevrange(`${prefix}${type}`, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0';
  return marks;
}

/** Every transition the history recorded, as the same keys; `rows` counts rows (a duplicate would show there). */
export async function recordedRevisions(store: HistoryStore): Promise<{ keys: Set<string>; rows: number }> {
  const rows = await store.query<{ entity_type: string; backend: string; native_id: string; revision: number[] }>(
    'SELECT entity_type, backend, native_id, revision FROM transitions',
  );
  return { keys: new Set(rows.map((r) => key(r.entity_type, r.backend, r.native_id, r.revision))), rows: rows.length };
}

/** A schema of its own on the test PostgreSQL, reached through `port` (a proxy, or 5432). */
export async function postgresSchema(port = 5432): Promise<{ schema: string; url: string; reader: () => Promise<SqlHistoryStore>; drop: () => Promise<void> }> {
  const schema = `history_dur_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  return {
    schema,
    /** A store over the same schema straight on 5432 (past any proxy), to look at what was recorded. */
    reader: async () => new SqlHistoryStore(await openPostgresDriver({ url: TEST_POSTGRES_URL, schema })),
    url: `postgres://postgres@127.0.0.1:${port}/test?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    drop: async () => {
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}

export function difference<T>(a: Set<T>, b: Set<T>): T[] {
  return [...a].filter((x) => !b.has(x));
}
