import type { Migration } from '../../history/sql.ts';

/**
 * Notification rules' state in the history database (issue 16): per branch and pipeline name,
 * the last finished pipeline and the colour it left (so a transition is seen once by every
 * instance, SELECT ... FOR UPDATE), and the personal watches.
 */
export const RULES_MIGRATION: Migration = {
  version: 11,
  name: 'notification rules: branch state and watches',
  sql: `
CREATE TABLE notify_branch_state (
  backend text NOT NULL,
  project_native_id text NOT NULL,
  branch text NOT NULL,
  pipeline_name text NOT NULL,
  last_native_id text,
  last_attempt integer,
  last_created_at timestamptz,
  last_status text,
  last_finished_at timestamptz,
  previous jsonb,
  color text,
  red_since timestamptz,
  red_count integer NOT NULL DEFAULT 0,
  fired jsonb NOT NULL DEFAULT '{}'::jsonb,
  still_failing_sent jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (backend, project_native_id, branch, pipeline_name)
);
CREATE TABLE notify_watches (
  id text PRIMARY KEY,
  backend text NOT NULL,
  pipeline_native_id text NOT NULL,
  sink text NOT NULL,
  watcher text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  CONSTRAINT notify_watches_once UNIQUE (backend, pipeline_native_id, sink, watcher)
);
CREATE INDEX notify_watches_pipeline ON notify_watches (backend, pipeline_native_id);
CREATE INDEX notify_watches_expiry ON notify_watches (expires_at);
`,
};
