/**
 * Every statement the history runs, in one place, for both stores (PGlite and
 * PostgreSQL): the same migrations and the same SQL, so nothing is written twice.
 * Migrations are append-only: never edit one that has shipped, add the next.
 * Versions taken by work in flight (issue 13): 2 revision order, 3 backfill
 * progress, 4 analytics indexes, 5 runner pools.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const SCHEMA_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

export const APPLIED_VERSIONS = 'SELECT version FROM schema_migrations ORDER BY version';
export const MARK_APPLIED = 'INSERT INTO schema_migrations (version, name) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING';
/** Serializes migration runs of several instances on one database (PostgreSQL; a no-op cost on PGlite). */
export const MIGRATION_LOCK = 'SELECT pg_advisory_xact_lock(727274)';

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'transitions and final shapes',
    sql: `
CREATE TABLE transitions (
  id bigserial PRIMARY KEY,
  entity_type text NOT NULL,
  backend text NOT NULL,
  native_id text NOT NULL,
  revision double precision[] NOT NULL,
  status text NOT NULL,
  wait_reason text,
  observed_at timestamptz NOT NULL,
  payload jsonb NOT NULL,
  CONSTRAINT transitions_entity_revision UNIQUE (entity_type, backend, native_id, revision)
);
CREATE INDEX transitions_observed_at ON transitions (observed_at);

CREATE TABLE pipelines (
  backend text NOT NULL,
  native_id text NOT NULL,
  revision double precision[] NOT NULL,
  project_native_id text NOT NULL,
  number integer,
  name text,
  status text NOT NULL,
  wait_reason text,
  native_status text,
  native_conclusion text,
  failure_reason text,
  attempt integer NOT NULL,
  branch text,
  ref text,
  commit_sha text,
  event text,
  actor text,
  url text,
  created_at timestamptz,
  queued_at timestamptz,
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz,
  queue_ms double precision,
  duration_ms double precision,
  recorded_at timestamptz NOT NULL,
  PRIMARY KEY (backend, native_id)
);
CREATE INDEX pipelines_recorded_at ON pipelines (recorded_at);

CREATE TABLE jobs (
  backend text NOT NULL,
  native_id text NOT NULL,
  revision double precision[] NOT NULL,
  project_native_id text NOT NULL,
  pipeline_native_id text NOT NULL,
  name text NOT NULL,
  status text NOT NULL,
  wait_reason text,
  native_status text,
  native_conclusion text,
  failure_reason text,
  attempt integer NOT NULL,
  branch text,
  labels text[] NOT NULL,
  runner_native_id text,
  runner_name text,
  url text,
  created_at timestamptz,
  queued_at timestamptz,
  started_at timestamptz,
  finished_at timestamptz,
  queue_ms double precision,
  duration_ms double precision,
  recorded_at timestamptz NOT NULL,
  PRIMARY KEY (backend, native_id)
);
CREATE INDEX jobs_recorded_at ON jobs (recorded_at);
`,
  },
  {
    version: 2,
    name: 'revision order: missing parts count as 0',
    // PostgreSQL's array < ranks a prefix lower ([1,2] < [1,2,0]); the gateway's
    // compareRevisions (src/model.ts) pads with zeros. The upserts use this instead.
    sql: `
CREATE OR REPLACE FUNCTION revision_newer(a double precision[], b double precision[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce((
    SELECT coalesce(a[i], 0) > coalesce(b[i], 0)
    FROM generate_series(1, greatest(coalesce(array_length(a, 1), 0), coalesce(array_length(b, 1), 0))) AS i
    WHERE coalesce(a[i], 0) <> coalesce(b[i], 0)
    ORDER BY i
    LIMIT 1
  ), false)
$$;
`,
  },
];

/** One row per accepted observation; a redelivered or replayed revision is ignored. */
export const INSERT_TRANSITION = `
INSERT INTO transitions (entity_type, backend, native_id, revision, status, wait_reason, observed_at, payload)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (entity_type, backend, native_id, revision) DO NOTHING`;

/** The final shape moves forward only: an older or equal revision (compared as compareRevisions does, migration 2) changes nothing. */
export const UPSERT_PIPELINE = `
INSERT INTO pipelines (backend, native_id, revision, project_native_id, number, name, status, wait_reason,
  native_status, native_conclusion, failure_reason, attempt, branch, ref, commit_sha, event, actor, url,
  created_at, queued_at, started_at, finished_at, updated_at, queue_ms, duration_ms, recorded_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)
ON CONFLICT (backend, native_id) DO UPDATE SET
  revision = EXCLUDED.revision, project_native_id = EXCLUDED.project_native_id, number = EXCLUDED.number,
  name = EXCLUDED.name, status = EXCLUDED.status, wait_reason = EXCLUDED.wait_reason,
  native_status = EXCLUDED.native_status, native_conclusion = EXCLUDED.native_conclusion,
  failure_reason = EXCLUDED.failure_reason, attempt = EXCLUDED.attempt, branch = EXCLUDED.branch,
  ref = EXCLUDED.ref, commit_sha = EXCLUDED.commit_sha, event = EXCLUDED.event, actor = EXCLUDED.actor,
  url = EXCLUDED.url, created_at = EXCLUDED.created_at, queued_at = EXCLUDED.queued_at,
  started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at, updated_at = EXCLUDED.updated_at,
  queue_ms = EXCLUDED.queue_ms, duration_ms = EXCLUDED.duration_ms, recorded_at = EXCLUDED.recorded_at
WHERE revision_newer(EXCLUDED.revision, pipelines.revision)`;

export const UPSERT_JOB = `
INSERT INTO jobs (backend, native_id, revision, project_native_id, pipeline_native_id, name, status, wait_reason,
  native_status, native_conclusion, failure_reason, attempt, branch, labels, runner_native_id, runner_name, url,
  created_at, queued_at, started_at, finished_at, queue_ms, duration_ms, recorded_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)
ON CONFLICT (backend, native_id) DO UPDATE SET
  revision = EXCLUDED.revision, project_native_id = EXCLUDED.project_native_id,
  pipeline_native_id = EXCLUDED.pipeline_native_id, name = EXCLUDED.name, status = EXCLUDED.status,
  wait_reason = EXCLUDED.wait_reason, native_status = EXCLUDED.native_status,
  native_conclusion = EXCLUDED.native_conclusion, failure_reason = EXCLUDED.failure_reason,
  attempt = EXCLUDED.attempt, branch = EXCLUDED.branch, labels = EXCLUDED.labels,
  runner_native_id = EXCLUDED.runner_native_id, runner_name = EXCLUDED.runner_name, url = EXCLUDED.url,
  created_at = EXCLUDED.created_at, queued_at = EXCLUDED.queued_at, started_at = EXCLUDED.started_at,
  finished_at = EXCLUDED.finished_at, queue_ms = EXCLUDED.queue_ms, duration_ms = EXCLUDED.duration_ms,
  recorded_at = EXCLUDED.recorded_at
WHERE revision_newer(EXCLUDED.revision, jobs.revision)`;

/** Retention: everything observed before the cutoff ($1). */
export const PRUNE = [
  'DELETE FROM transitions WHERE observed_at < $1',
  'DELETE FROM pipelines WHERE recorded_at < $1',
  'DELETE FROM jobs WHERE recorded_at < $1',
] as const;
