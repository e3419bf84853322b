import { RULES_MIGRATION } from '../notify/rules/rules-migration.ts';
/**
 * Every statement the history runs, in one place, for both stores (PGlite and
 * PostgreSQL): the same migrations and the same SQL, so nothing is written twice.
 * Migrations are append-only: never edit one that has shipped, add the next.
 * Versions taken by work in flight (issue 13): 2 revision order, 3 backfill
 * progress, 4 analytics indexes, 5 runner pools, 6 daily rollups, 7 backfill lease,
 * 8 covering index for pool windows.
 */
import { OUTBOX_MIGRATION } from '../notify/delivery/outbox-migration.ts';

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
/**
 * Serializes the batches of several instances on one database. Batches of different
 * instances touch shared rows (a project's row, the jobs of one pipeline) in different
 * orders, which deadlocks; one writer at a time is ample for write-behind (thousands of
 * rows per second) and each instance already writes one batch at a time.
 */
export const RECORD_LOCK = 'SELECT pg_advisory_xact_lock(727275)';

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
  {
    version: 3,
    name: 'backfill progress',
    sql: `
CREATE TABLE backfill_progress (
  backend text NOT NULL,
  project_native_id text NOT NULL,
  state text NOT NULL,
  since timestamptz NOT NULL,
  until timestamptz NOT NULL,
  cursor_at timestamptz NOT NULL,
  covered_from timestamptz,
  covered_to timestamptz,
  imported integer NOT NULL DEFAULT 0,
  imported_jobs integer NOT NULL DEFAULT 0,
  estimated_total integer,
  requests integer NOT NULL DEFAULT 0,
  last_error text,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (backend, project_native_id)
);
CREATE INDEX jobs_backend_pipeline ON jobs (backend, pipeline_native_id);
`,
  },
  {
    version: 4,
    name: 'analytics: denormalized job context, projects seen, dashboard indexes',
    // Jobs carry their pipeline's commit and name (flaky jobs, grouping by workflow) and every row
    // its project's full name (scope patterns match it), so no dashboard query needs a join.
    sql: `
ALTER TABLE pipelines ADD COLUMN project_full_name text;
ALTER TABLE jobs ADD COLUMN project_full_name text;
ALTER TABLE jobs ADD COLUMN commit_sha text;
ALTER TABLE jobs ADD COLUMN pipeline_name text;
CREATE TABLE history_projects (
  backend text NOT NULL,
  project_native_id text NOT NULL,
  project_full_name text,
  PRIMARY KEY (backend, project_native_id)
);
INSERT INTO history_projects (backend, project_native_id)
  SELECT DISTINCT backend, project_native_id FROM pipelines
  UNION SELECT DISTINCT backend, project_native_id FROM jobs
  ON CONFLICT DO NOTHING;
UPDATE jobs j SET commit_sha = p.commit_sha, pipeline_name = p.name
  FROM pipelines p WHERE p.backend = j.backend AND p.native_id = j.pipeline_native_id;
CREATE INDEX pipelines_finished_at ON pipelines (finished_at) INCLUDE (backend, project_native_id, status);
CREATE INDEX pipelines_branch_finished ON pipelines (backend, project_native_id, branch, finished_at);
CREATE INDEX jobs_finished_at ON jobs (finished_at);
-- Flaky jobs: an index-only scan already grouped by (backend, project, job, commit), no sort.
CREATE INDEX jobs_flaky ON jobs (backend, project_native_id, name, commit_sha) INCLUDE (finished_at, status, duration_ms)
  WHERE commit_sha IS NOT NULL;
`,
  },
  {
    version: 5,
    name: 'runner pools, estimates and history pages',
    sql: `
-- A job's pool: its labels trimmed, lower-cased, without empties or duplicates, sorted bytewise
-- (as src/pools/pool-labels.ts sorts them), so it compares equal to a normalized pool and can be indexed.
CREATE FUNCTION pool_labels(labels text[]) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT coalesce(array_agg(DISTINCT lower(btrim(l)) COLLATE "C" ORDER BY lower(btrim(l)) COLLATE "C"), '{}'::text[])
  FROM unnest(labels) AS l WHERE btrim(l) <> ''
$fn$;
-- History pages (pipelines/jobs newest first per backend) and the live-window coverage check.
-- (created_at alone: a page over several backends is a backward scan stopped by its LIMIT.)
CREATE INDEX pools_pipelines_backend_created ON pipelines (backend, created_at DESC);
CREATE INDEX pools_pipelines_created ON pipelines (created_at DESC);
CREATE INDEX pools_jobs_created ON jobs (created_at DESC);
-- The projects of a backend (a restricted caller's scope), by skip scan.
CREATE INDEX pools_pipelines_projects ON pipelines (backend, project_native_id);
CREATE INDEX pools_jobs_projects ON jobs (backend, project_native_id);
-- Pool waits and queue pressure (a pool's jobs by start), waits of every pool in a window, runner busy time.
CREATE INDEX pools_jobs_pool_started ON jobs (backend, pool_labels(labels), started_at);
CREATE INDEX pools_jobs_backend_started ON jobs (backend, started_at);
CREATE INDEX pools_jobs_runner_finished ON jobs (backend, runner_native_id, finished_at) INCLUDE (started_at);
CREATE INDEX pools_transitions_runners ON transitions (backend, observed_at) WHERE entity_type = 'Runner';
-- Estimates: the last successful runs of one name on a project (and branch).
CREATE INDEX estimates_jobs_success ON jobs (backend, project_native_id, name, branch, finished_at DESC NULLS LAST) WHERE status = 'SUCCESS';
CREATE INDEX estimates_pipelines_success ON pipelines (backend, project_native_id, name, branch, finished_at DESC NULLS LAST) WHERE status = 'SUCCESS';
CREATE INDEX estimates_jobs_success_any_branch ON jobs (backend, project_native_id, name, finished_at DESC NULLS LAST) WHERE status = 'SUCCESS';
CREATE INDEX estimates_pipelines_success_any_branch ON pipelines (backend, project_native_id, name, finished_at DESC NULLS LAST) WHERE status = 'SUCCESS';
CREATE INDEX estimates_pipelines_success_branch ON pipelines (backend, project_native_id, branch, finished_at DESC NULLS LAST) WHERE status = 'SUCCESS';
`,
  },
  {
    version: 6,
    name: 'daily rollups for the dashboard figures',
    // See src/history/rollups/rollup-sql.ts: per UTC day, backend and project, the counts by status
    // and reason and the log-bucket histograms of duration and queue time; a day any write touches
    // is marked dirty by these triggers in the writing transaction, and read from the rows until refreshed.
    sql: `
CREATE FUNCTION duration_bucket(ms double precision) RETURNS smallint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT CASE WHEN ms IS NULL THEN NULL WHEN ms <= 1 THEN 0::smallint ELSE ceil(ln(ms) * 16 / ln(2))::smallint END
$fn$;
CREATE TABLE rollup_counts (
  kind text NOT NULL,
  day date NOT NULL,
  backend text NOT NULL,
  project_native_id text NOT NULL,
  status text NOT NULL,
  reason text NOT NULL,
  n integer NOT NULL
);
CREATE INDEX rollup_counts_day ON rollup_counts (kind, day);
CREATE TABLE rollup_histograms (
  kind text NOT NULL,
  day date NOT NULL,
  backend text NOT NULL,
  project_native_id text NOT NULL,
  metric "char" NOT NULL,
  -- The day's histogram as parallel arrays, buckets ascending: one row per project and metric.
  buckets smallint[] NOT NULL,
  counts integer[] NOT NULL
);
CREATE INDEX rollup_histograms_day ON rollup_histograms (kind, day);
-- Flaky jobs' denominator: per day and job name, the distinct commits it ran on (decisively).
CREATE TABLE rollup_job_commits (
  day date NOT NULL,
  backend text NOT NULL,
  project_native_id text NOT NULL,
  name text NOT NULL,
  commits integer NOT NULL
);
CREATE INDEX rollup_job_commits_day ON rollup_job_commits (day);
-- A pool's runners over a window: each runner's latest transition before a moment, by index probe.
CREATE INDEX pools_transitions_runner_history ON transitions (backend, native_id, observed_at) WHERE entity_type = 'Runner';
-- Flaky jobs start from the red attempts in the window: few, and found here without the rest.
CREATE INDEX jobs_red_finished ON jobs (finished_at) INCLUDE (backend, project_native_id, name, commit_sha, duration_ms)
  WHERE status IN ('FAILURE', 'TIMED_OUT', 'ERROR');
CREATE TABLE rollup_dirty (
  kind text NOT NULL,
  day date NOT NULL,
  PRIMARY KEY (kind, day)
);
-- DO UPDATE ... WHERE false writes nothing but locks the dirty row until the writer commits, so a
-- refresh claiming that day waits for the write and then aggregates it (see rollup-sql.ts).
CREATE FUNCTION rollup_mark_row() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.finished_at IS NOT NULL THEN
    INSERT INTO rollup_dirty (kind, day) VALUES (TG_TABLE_NAME, (OLD.finished_at AT TIME ZONE 'UTC')::date)
    ON CONFLICT (kind, day) DO UPDATE SET day = EXCLUDED.day WHERE false;
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.finished_at IS NOT NULL THEN
    INSERT INTO rollup_dirty (kind, day) VALUES (TG_TABLE_NAME, (NEW.finished_at AT TIME ZONE 'UTC')::date)
    ON CONFLICT (kind, day) DO UPDATE SET day = EXCLUDED.day WHERE false;
  END IF;
  RETURN NULL;
END
$fn$;
CREATE FUNCTION rollup_mark_deleted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO rollup_dirty (kind, day)
  SELECT DISTINCT TG_TABLE_NAME, (finished_at AT TIME ZONE 'UTC')::date FROM gone WHERE finished_at IS NOT NULL
  ON CONFLICT (kind, day) DO UPDATE SET day = EXCLUDED.day WHERE false;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER pipelines_rollup_insert AFTER INSERT ON pipelines FOR EACH ROW WHEN (NEW.finished_at IS NOT NULL) EXECUTE FUNCTION rollup_mark_row();
CREATE TRIGGER jobs_rollup_insert AFTER INSERT ON jobs FOR EACH ROW WHEN (NEW.finished_at IS NOT NULL) EXECUTE FUNCTION rollup_mark_row();
CREATE TRIGGER pipelines_rollup_update AFTER UPDATE ON pipelines FOR EACH ROW
  WHEN ((OLD.finished_at IS NOT NULL OR NEW.finished_at IS NOT NULL) AND (OLD.finished_at, OLD.backend, OLD.project_native_id, OLD.status,
    OLD.failure_reason, OLD.native_conclusion, OLD.native_status, OLD.duration_ms, OLD.queue_ms) IS DISTINCT FROM (NEW.finished_at,
    NEW.backend, NEW.project_native_id, NEW.status, NEW.failure_reason, NEW.native_conclusion, NEW.native_status, NEW.duration_ms, NEW.queue_ms))
  EXECUTE FUNCTION rollup_mark_row();
CREATE TRIGGER jobs_rollup_update AFTER UPDATE ON jobs FOR EACH ROW
  WHEN ((OLD.finished_at IS NOT NULL OR NEW.finished_at IS NOT NULL) AND (OLD.finished_at, OLD.backend, OLD.project_native_id, OLD.status,
    OLD.failure_reason, OLD.native_conclusion, OLD.native_status, OLD.duration_ms, OLD.queue_ms, OLD.name, OLD.commit_sha) IS DISTINCT FROM (NEW.finished_at,
    NEW.backend, NEW.project_native_id, NEW.status, NEW.failure_reason, NEW.native_conclusion, NEW.native_status, NEW.duration_ms, NEW.queue_ms,
    NEW.name, NEW.commit_sha))
  EXECUTE FUNCTION rollup_mark_row();
CREATE TRIGGER pipelines_rollup_delete AFTER DELETE ON pipelines REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION rollup_mark_deleted();
CREATE TRIGGER jobs_rollup_delete AFTER DELETE ON jobs REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION rollup_mark_deleted();
-- What was recorded before this migration: every day with a finished row is built by the first refresh.
INSERT INTO rollup_dirty (kind, day) SELECT DISTINCT 'pipelines', (finished_at AT TIME ZONE 'UTC')::date FROM pipelines WHERE finished_at IS NOT NULL;
INSERT INTO rollup_dirty (kind, day) SELECT DISTINCT 'jobs', (finished_at AT TIME ZONE 'UTC')::date FROM jobs WHERE finished_at IS NOT NULL;
`,
  },
  {
    version: 7,
    name: 'backfill lease',
    // One row per backend: which instance runs its backfill (src/history/backfill/backfill-lease.ts).
    // expires_at and ended_at are the database's clock (one clock for every instance);
    // started_at, finished_at and paused_until the holder's, as in backfill_progress.
    sql: `
CREATE TABLE backfill_lease (
  backend text PRIMARY KEY,
  holder text NOT NULL,
  expires_at timestamptz NOT NULL,
  state text NOT NULL,
  started_at timestamptz,
  finished_at timestamptz,
  paused_until timestamptz,
  projects integer,
  last_error text,
  ended_at timestamptz
);
`,
  },
  {
    version: 8,
    name: 'runner pool windows: covering index of pool jobs by start',
    // A pool window (src/history/pools/pool-window.ts) reads its pool's jobs of the window twice (waits,
    // queue pressure): index-only with the columns they read. `labels` is included too: PostgreSQL
    // plans an index-only scan over an expression index only when the expression's columns are in it.
    // It replaces pools_jobs_pool_started (same key), so a write still updates one index for pools.
    sql: `
CREATE INDEX pools_jobs_pool_started_covering ON jobs (backend, pool_labels(labels), started_at)
  INCLUDE (labels, queue_ms, project_native_id, queued_at, created_at, finished_at);
DROP INDEX pools_jobs_pool_started;
`,
  },
  {
    version: 9,
    name: 'time to green: covering indexes',
    // Time to green (analytics/time-to-green.ts) reads the window's series and reds by index-only scan,
    // and finds the green that ends each red's period by one index-only probe that skips the reds.
    sql: `
CREATE INDEX pipelines_decisive_finished ON pipelines (finished_at) INCLUDE (backend, project_native_id, branch, native_id, status, name)
  WHERE status IN ('SUCCESS', 'FAILURE', 'TIMED_OUT', 'ERROR');
CREATE INDEX pipelines_green_next ON pipelines (backend, project_native_id, branch, finished_at, native_id) INCLUDE (name)
  WHERE status = 'SUCCESS';
`,
  },
  OUTBOX_MIGRATION,
  RULES_MIGRATION,
];

/** Projects seen in a batch ($1 backends, $2 native ids, $3 full names or null): scope rules need the full name. */
export const UPSERT_HISTORY_PROJECTS = `
INSERT INTO history_projects (backend, project_native_id, project_full_name)
SELECT DISTINCT ON (b, n) b, n, f FROM unnest($1::text[], $2::text[], $3::text[]) AS t(b, n, f) ORDER BY b, n, f NULLS LAST
ON CONFLICT (backend, project_native_id) DO UPDATE SET project_full_name = EXCLUDED.project_full_name
WHERE EXCLUDED.project_full_name IS NOT NULL AND history_projects.project_full_name IS DISTINCT FROM EXCLUDED.project_full_name`;

/**
 * After a batch, copies the commit, name and project full name of each pipeline the batch
 * inserted or changed onto its jobs recorded earlier ($1 backends, $2 pipeline native ids): a
 * job may be recorded before its pipeline. Jobs recorded after it take them in UPSERT_JOBS.
 */
export const LINK_JOBS_TO_PIPELINES = `
UPDATE jobs j SET commit_sha = p.commit_sha, pipeline_name = p.name,
  project_full_name = COALESCE(j.project_full_name, p.project_full_name)
FROM unnest($1::text[], $2::text[]) AS t(backend, pipeline_native_id), pipelines p
WHERE j.backend = t.backend AND j.pipeline_native_id = t.pipeline_native_id
  AND p.backend = t.backend AND p.native_id = t.pipeline_native_id
  AND (j.commit_sha IS DISTINCT FROM p.commit_sha OR j.pipeline_name IS DISTINCT FROM p.name
    OR (j.project_full_name IS NULL AND p.project_full_name IS NOT NULL))`;

/**
 * A batch is recorded in a fixed number of statements, whatever its size: each takes its rows
 * as one JSON array ($1) of objects keyed by column name. On embedded PGlite a statement's
 * fixed cost (parse, plan, the trip to its thread) was most of a row's cost, and that CPU is
 * taken from the live path (bench/README.md section 9).
 */
const PIPELINE_COLUMNS = [
  ['backend', 'text'], ['native_id', 'text'], ['revision', 'double precision[]'], ['project_native_id', 'text'],
  ['number', 'integer'], ['name', 'text'], ['status', 'text'], ['wait_reason', 'text'], ['native_status', 'text'],
  ['native_conclusion', 'text'], ['failure_reason', 'text'], ['attempt', 'integer'], ['branch', 'text'], ['ref', 'text'],
  ['commit_sha', 'text'], ['event', 'text'], ['actor', 'text'], ['url', 'text'], ['created_at', 'timestamptz'],
  ['queued_at', 'timestamptz'], ['started_at', 'timestamptz'], ['finished_at', 'timestamptz'], ['updated_at', 'timestamptz'],
  ['queue_ms', 'double precision'], ['duration_ms', 'double precision'], ['recorded_at', 'timestamptz'],
  ['project_full_name', 'text'],
] as const;

const JOB_COLUMNS = [
  ['backend', 'text'], ['native_id', 'text'], ['revision', 'double precision[]'], ['project_native_id', 'text'],
  ['pipeline_native_id', 'text'], ['name', 'text'], ['status', 'text'], ['wait_reason', 'text'], ['native_status', 'text'],
  ['native_conclusion', 'text'], ['failure_reason', 'text'], ['attempt', 'integer'], ['branch', 'text'], ['labels', 'text[]'],
  ['runner_native_id', 'text'], ['runner_name', 'text'], ['url', 'text'], ['created_at', 'timestamptz'],
  ['queued_at', 'timestamptz'], ['started_at', 'timestamptz'], ['finished_at', 'timestamptz'],
  ['queue_ms', 'double precision'], ['duration_ms', 'double precision'], ['recorded_at', 'timestamptz'],
  ['project_full_name', 'text'],
] as const;

export type PipelineColumn = (typeof PIPELINE_COLUMNS)[number][0];
export type JobColumn = (typeof JOB_COLUMNS)[number][0];

/** Columns a row takes from another table as it is written (a job from its pipeline), as SQL over `t` and the join. */
interface RowContext {
  readonly join: string;
  readonly columns: Readonly<Record<string, string>>;
}


/**
 * The final shape moves forward only: an older or equal revision (compared as compareRevisions
 * does, migration 2) changes nothing. One row per (backend, native_id) in $1 (the batch's newest:
 * ON CONFLICT DO UPDATE may not touch a row twice in one statement). Returns the rows written,
 * so the store sets names and links only for the others.
 */
function upsertFinalShape(table: string, columns: readonly (readonly [string, string])[], context?: RowContext): string {
  const own = columns.map(([name]) => name);
  const taken = context?.columns ?? {};
  const extra = Object.keys(taken).filter((name) => !own.includes(name));
  const names = [...own, ...extra];
  const values = names.map((name) => taken[name] ?? `t.${name}`);
  // A project name or a pipeline's context an observation does not know (null) is kept, never unlearned.
  const kept = new Set(['project_full_name', ...Object.keys(taken)]);
  const updated = names.filter((name) => name !== 'backend' && name !== 'native_id')
    .map((name) => (kept.has(name) ? `${name} = COALESCE(EXCLUDED.${name}, ${table}.${name})` : `${name} = EXCLUDED.${name}`));
  return `
INSERT INTO ${table} (${names.join(', ')})
SELECT ${values.join(', ')} FROM json_to_recordset($1::json) AS t(${columns.map(([name, type]) => `${name} ${type}`).join(', ')})${context ? `\n${context.join}` : ''}
ON CONFLICT (backend, native_id) DO UPDATE SET ${updated.join(', ')}
WHERE revision_newer(EXCLUDED.revision, ${table}.revision)
RETURNING backend, native_id`;
}

export const UPSERT_PIPELINES = upsertFinalShape('pipelines', PIPELINE_COLUMNS);
/** A job takes its pipeline's commit and name (and project name, when it has none) if the pipeline is recorded already. */
export const UPSERT_JOBS = upsertFinalShape('jobs', JOB_COLUMNS, {
  join: 'LEFT JOIN pipelines p ON p.backend = t.backend AND p.native_id = t.pipeline_native_id',
  columns: { project_full_name: 'COALESCE(t.project_full_name, p.project_full_name)', commit_sha: 'p.commit_sha', pipeline_name: 'p.name' },
});

/**
 * One row per accepted observation, in the batch's order; a redelivered or replayed revision is
 * ignored (also when it is twice in $1: DO NOTHING skips a row this statement inserted).
 */
export const INSERT_TRANSITIONS = `
INSERT INTO transitions (entity_type, backend, native_id, revision, status, wait_reason, observed_at, payload)
SELECT entity_type, backend, native_id, revision, status, wait_reason, observed_at, payload
FROM ROWS FROM (json_to_recordset($1::json) AS (entity_type text, backend text, native_id text, revision double precision[],
  status text, wait_reason text, observed_at timestamptz, payload jsonb)) WITH ORDINALITY AS t(entity_type, backend, native_id,
  revision, status, wait_reason, observed_at, payload, position)
ORDER BY position
ON CONFLICT (entity_type, backend, native_id, revision) DO NOTHING`;

/** Sets rows' project full names when the observations knew them ($1 backends, $2 native ids, $3 names; one per row). */
const setProjectNames = (table: string) => `
UPDATE ${table} r SET project_full_name = t.name
FROM unnest($1::text[], $2::text[], $3::text[]) AS t(backend, native_id, name)
WHERE r.backend = t.backend AND r.native_id = t.native_id AND r.project_full_name IS DISTINCT FROM t.name`;
export const SET_PIPELINE_PROJECT_NAMES = setProjectNames('pipelines');
export const SET_JOB_PROJECT_NAMES = setProjectNames('jobs');

/**
 * Retention: everything observed before the cutoff ($1), then the projects no pipeline or job
 * refers to any more: an anti-join, index-only on pipelines_branch_finished for pipelines; jobs
 * have no index by project (it would tax every write), so at worst one scan of them per hourly
 * pass, in the background. A project seen again is upserted again by its next batch.
 */
export const PRUNE = [
  'DELETE FROM transitions WHERE observed_at < $1',
  'DELETE FROM pipelines WHERE recorded_at < $1',
  'DELETE FROM jobs WHERE recorded_at < $1',
  `DELETE FROM history_projects hp
WHERE NOT EXISTS (SELECT 1 FROM pipelines p WHERE p.backend = hp.backend AND p.project_native_id = hp.project_native_id)
  AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.backend = hp.backend AND j.project_native_id = hp.project_native_id)
  AND $1::timestamptz IS NOT NULL`, // every statement is given the cutoff; this one only types it
] as const;

/**
 * Backfill progress, one row per backend + project (migration 3): the pass's window
 * [since, until], its cursor (the `createdBefore` of the next page: everything in
 * [cursor_at, until] is imported) and what earlier passes covered completely.
 */
export const BACKFILL_PROGRESS_OF_BACKEND = `
SELECT project_native_id, state, since, until, cursor_at, covered_from, covered_to, imported, imported_jobs,
  estimated_total, requests, last_error
FROM backfill_progress WHERE backend = $1`;

export const UPSERT_BACKFILL_PROGRESS = `
INSERT INTO backfill_progress (backend, project_native_id, state, since, until, cursor_at, covered_from, covered_to,
  imported, imported_jobs, estimated_total, requests, last_error, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (backend, project_native_id) DO UPDATE SET
  state = EXCLUDED.state, since = EXCLUDED.since, until = EXCLUDED.until, cursor_at = EXCLUDED.cursor_at,
  covered_from = EXCLUDED.covered_from, covered_to = EXCLUDED.covered_to, imported = EXCLUDED.imported,
  imported_jobs = EXCLUDED.imported_jobs, estimated_total = EXCLUDED.estimated_total, requests = EXCLUDED.requests,
  last_error = EXCLUDED.last_error, updated_at = EXCLUDED.updated_at`;

/** Pipelines of a page already recorded, with their status and how many of their jobs are (finished ones need no jobs request). */
export const RECORDED_FINISHED_PIPELINES = `
SELECT p.native_id, p.status, p.revision, (SELECT count(*) FROM jobs j WHERE j.backend = p.backend AND j.pipeline_native_id = p.native_id)::int AS jobs
FROM pipelines p
WHERE p.backend = $1 AND p.native_id = ANY($2::text[])`;

/** The database's clock: every instance compares lease times on it. */
export const DATABASE_NOW = 'SELECT clock_timestamp() AS now';

/**
 * Takes a backend's backfill lease ($1 backend, $2 holder, $3 seconds, $4 when the taker joined,
 * $5 its pass start): a new row, or one whose holder let it expire while RUNNING (died or shut
 * down), or a pass that ended before the taker joined (a new round). A pass that ended after it
 * joined is not run again. Returns the row only when taken.
 */
export const TAKE_BACKFILL_LEASE = `
INSERT INTO backfill_lease AS l (backend, holder, expires_at, state, started_at)
VALUES ($1, $2, clock_timestamp() + $3::double precision * interval '1 second', 'RUNNING', $5)
ON CONFLICT (backend) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at, state = 'RUNNING',
  started_at = EXCLUDED.started_at, finished_at = NULL, paused_until = NULL, projects = NULL, last_error = NULL, ended_at = NULL
WHERE l.holder = EXCLUDED.holder
  OR (l.expires_at <= clock_timestamp() AND (l.state = 'RUNNING' OR l.ended_at < $4::timestamptz))
RETURNING holder`;

/**
 * The holder extends its lease and publishes what only it knows ($3 seconds, $4 state, $5 paused
 * until, $6 projects, $7 listing error); a renewal racing the pass's end does not reopen it.
 */
export const RENEW_BACKFILL_LEASE = `
UPDATE backfill_lease SET expires_at = clock_timestamp() + $3::double precision * interval '1 second',
  state = $4, paused_until = $5, projects = $6, last_error = $7
WHERE backend = $1 AND holder = $2 AND state = 'RUNNING'
RETURNING holder`;

/** The holder's pass ended ($3 DONE or FAILED, $4 finished at): released, and marked so followers of this round stop. */
export const END_BACKFILL_LEASE = `
UPDATE backfill_lease SET state = $3, finished_at = $4, paused_until = NULL, projects = $5, last_error = $6,
  ended_at = clock_timestamp(), expires_at = clock_timestamp()
WHERE backend = $1 AND holder = $2`;

/** The holder stops mid-pass (shutdown): released at once, still RUNNING, so a follower takes over now. */
export const RELEASE_BACKFILL_LEASE = `
UPDATE backfill_lease SET expires_at = clock_timestamp(), paused_until = NULL WHERE backend = $1 AND holder = $2`;

export const BACKFILL_LEASE_OF_BACKEND = `
SELECT holder, state, started_at, finished_at, paused_until, projects, last_error, ended_at,
  expires_at <= clock_timestamp() AS expired
FROM backfill_lease WHERE backend = $1`;

/** The progress rows with when they were written (a follower tells this pass's rows from earlier ones). */
export const BACKFILL_PROGRESS_FOLLOWED = `
SELECT project_native_id, state, since, until, cursor_at, covered_from, covered_to, imported, imported_jobs,
  estimated_total, requests, last_error, updated_at
FROM backfill_progress WHERE backend = $1`;

/**
 * UPSERT_BACKFILL_PROGRESS by the lease holder only ($15 holder): a holder that lost its lease
 * cannot move the cursor of the instance that took over. Returns a row when written.
 */
export const UPSERT_BACKFILL_PROGRESS_LEASED = `
INSERT INTO backfill_progress (backend, project_native_id, state, since, until, cursor_at, covered_from, covered_to,
  imported, imported_jobs, estimated_total, requests, last_error, updated_at)
SELECT $1::text, $2::text, $3::text, $4::timestamptz, $5::timestamptz, $6::timestamptz, $7::timestamptz, $8::timestamptz,
  $9::integer, $10::integer, $11::integer, $12::integer, $13::text, $14::timestamptz
WHERE EXISTS (SELECT 1 FROM backfill_lease WHERE backend = $1::text AND holder = $15::text)
ON CONFLICT (backend, project_native_id) DO UPDATE SET
  state = EXCLUDED.state, since = EXCLUDED.since, until = EXCLUDED.until, cursor_at = EXCLUDED.cursor_at,
  covered_from = EXCLUDED.covered_from, covered_to = EXCLUDED.covered_to, imported = EXCLUDED.imported,
  imported_jobs = EXCLUDED.imported_jobs, estimated_total = EXCLUDED.estimated_total, requests = EXCLUDED.requests,
  last_error = EXCLUDED.last_error, updated_at = EXCLUDED.updated_at
RETURNING 1 AS written`;
