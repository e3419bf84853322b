/**
 * A job's pool in SQL: its labels trimmed, lower-cased, without empties or
 * duplicates, sorted bytewise (COLLATE "C", as JavaScript sorts them in
 * src/pools/pool-labels.ts), so it compares equal to a normalized pool.
 */
export const JOB_POOL_LABELS = `(SELECT coalesce(array_agg(DISTINCT lower(btrim(l)) COLLATE "C" ORDER BY lower(btrim(l)) COLLATE "C"), '{}'::text[]) FROM unnest(labels) AS l WHERE btrim(l) <> '')`;
