/** The outbox's statements (table: outbox-migration.ts), the same on PGlite and PostgreSQL. */

const COLUMNS = `id, sink, state, notification, backend, project_native_id, project_full_name, attempts, last_status, last_error,
  created_at, updated_at, next_attempt_at, delivered_at`;

/** $1 id, $2 dedupe key, $3 sink, $4 notification (JSON), $5 backend, $6 project native id, $7 its full name, $8 now. */
export const INSERT_DELIVERY = `
INSERT INTO notification_outbox (id, dedupe_key, sink, notification, backend, project_native_id, project_full_name, state, next_attempt_at, created_at, updated_at)
VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, 'pending', $8, $8, $8)
ON CONFLICT DO NOTHING`;

/**
 * Claims up to $3 due rows of sink $1 at time $2 for sender $4 until $5. SKIP LOCKED: two
 * senders claiming at once take different rows, never the same; a `sending` row whose lease
 * ran out (its sender died) is due again. The attempt is counted when claimed, so a sender that
 * dies mid-send still uses one.
 */
export const CLAIM_DUE = `
UPDATE notification_outbox SET state = 'sending', claimed_by = $4, claimed_until = $5, attempts = attempts + 1, updated_at = $2
WHERE id IN (
  SELECT id FROM notification_outbox
  WHERE sink = $1 AND state IN ('pending', 'sending') AND next_attempt_at <= $2 AND (state = 'pending' OR claimed_until <= $2)
  ORDER BY next_attempt_at, id
  LIMIT $3
  FOR UPDATE SKIP LOCKED
)
RETURNING ${COLUMNS}`;

/** $1 id, $2 sender, $3 now, $4 status. Only the holder of the claim records the outcome. */
export const MARK_DELIVERED = `
UPDATE notification_outbox SET state = 'delivered', delivered_at = $3, updated_at = $3, last_status = $4, last_error = NULL,
  claimed_by = NULL, claimed_until = NULL
WHERE id = $1 AND claimed_by = $2 AND state = 'sending'`;

/** Many at once ($1 ids, $2 statuses, $3 acceptance times; $4 sender): one statement for a busy sink's deliveries. */
export const MARK_DELIVERED_MANY = `
UPDATE notification_outbox o SET state = 'delivered', delivered_at = u.at, updated_at = u.at, last_status = u.status, last_error = NULL,
  claimed_by = NULL, claimed_until = NULL
FROM unnest($1::text[], $2::int[], $3::timestamptz[]) AS u(id, status, at)
WHERE o.id = u.id AND o.claimed_by = $4 AND o.state = 'sending'`;

/** $1 id, $2 sender, $3 now, $4 status, $5 error, $6 next attempt. */
export const MARK_RETRY = `
UPDATE notification_outbox SET state = 'pending', next_attempt_at = $6, updated_at = $3, last_status = $4, last_error = $5,
  claimed_by = NULL, claimed_until = NULL
WHERE id = $1 AND claimed_by = $2 AND state = 'sending'`;

/** $1 id, $2 sender, $3 now, $4 status, $5 error. */
export const MARK_DEAD = `
UPDATE notification_outbox SET state = 'dead', updated_at = $3, last_status = $4, last_error = $5, claimed_by = NULL, claimed_until = NULL
WHERE id = $1 AND claimed_by = $2 AND state = 'sending'`;

/** $1 id, $2 sender, $3 now. The sender stopped before an outcome (shutdown): due again at once, the attempt not counted. */
export const RELEASE_CLAIM = `
UPDATE notification_outbox SET state = 'pending', next_attempt_at = $3, updated_at = $3, attempts = greatest(attempts - 1, 0),
  claimed_by = NULL, claimed_until = NULL
WHERE id = $1 AND claimed_by = $2 AND state = 'sending'`;

/**
 * Newest first, from the cursor ($3 created_at, $4 id; nulls: from the top), optionally one state ($1) and sink ($2), $5 rows.
 * The casts give PostgreSQL a type for parameters that may be null.
 */
export const LIST_PAGE = `
SELECT ${COLUMNS} FROM notification_outbox
WHERE ($1::text IS NULL OR state = $1::text) AND ($2::text IS NULL OR sink = $2::text)
  AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::text))
ORDER BY created_at DESC, id DESC
LIMIT $5`;

/** Redrive candidates: these ids ($1, null: any) of sink $2 (null: any), in the states $3. */
export const REDRIVE_CANDIDATES = `
SELECT ${COLUMNS} FROM notification_outbox
WHERE ($1::text[] IS NULL OR id = ANY($1::text[])) AND ($2::text IS NULL OR sink = $2::text) AND state = ANY($3::text[])
ORDER BY created_at, id`;

/** $1 ids, $2 now. From the first attempt again, keeping the id (and so the `webhook-id`). */
export const REDRIVE = `
UPDATE notification_outbox SET state = 'pending', attempts = 0, next_attempt_at = $2, updated_at = $2, claimed_by = NULL, claimed_until = NULL
WHERE id = ANY($1::text[]) AND state IN ('pending', 'dead')`;

export const COUNTS = `
SELECT sink,
  count(*) FILTER (WHERE state IN ('pending', 'sending'))::int AS pending,
  count(*) FILTER (WHERE state = 'dead')::int AS dead
FROM notification_outbox GROUP BY sink`;

/** $1 cutoff: delivered and dead rows finished before it. */
export const PRUNE_FINISHED = `DELETE FROM notification_outbox WHERE state IN ('delivered', 'dead') AND updated_at < $1`;

/** $1 sinks: when their next row falls due (null: none waiting), a lease expiry included. */
export const NEXT_DUE = `
SELECT min(CASE WHEN state = 'pending' THEN next_attempt_at ELSE claimed_until END) AS due
FROM notification_outbox WHERE sink = ANY($1::text[]) AND state IN ('pending', 'sending')`;
