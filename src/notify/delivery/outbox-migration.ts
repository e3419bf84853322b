import type { Migration } from '../../history/sql.ts';

/**
 * The notification outbox (issue 16), in the history database: one row per (message, sink).
 * `id` is deliveryId(dedupeKey, sink): the `webhook-id`, stable across retries and instances.
 * UNIQUE (dedupe_key, sink) is the deduplication across webhook plus poll, and instances.
 * A row is `pending` until due, `sending` while a sender holds its lease (claimed_until), then
 * `delivered` or `dead`; an expired lease (the sender died) makes it claimable again.
 */
export const OUTBOX_MIGRATION: Migration = {
  version: 10,
  name: 'notification outbox',
  sql: `
CREATE TABLE notification_outbox (
  id text PRIMARY KEY,
  dedupe_key text NOT NULL,
  sink text NOT NULL,
  notification jsonb NOT NULL,
  backend text NOT NULL,
  project_native_id text,
  project_full_name text,
  state text NOT NULL CHECK (state IN ('pending', 'sending', 'delivered', 'dead')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  claimed_by text,
  claimed_until timestamptz,
  last_status integer,
  last_error text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  delivered_at timestamptz,
  CONSTRAINT notification_outbox_message_sink UNIQUE (dedupe_key, sink)
);
CREATE INDEX notification_outbox_due ON notification_outbox (sink, next_attempt_at) WHERE state IN ('pending', 'sending');
CREATE INDEX notification_outbox_newest ON notification_outbox (created_at DESC, id DESC);
CREATE INDEX notification_outbox_finished ON notification_outbox (updated_at) WHERE state IN ('delivered', 'dead');
`,
};
