/**
 * A job's pool in SQL: `pool_labels` (migration 5, src/history/sql.ts) trims, lower-cases,
 * drops empties and duplicates and sorts bytewise, as src/pools/pool-labels.ts does, so it
 * compares equal to a normalized pool; it is indexed with backend and started_at.
 */
export const JOB_POOL_LABELS = 'pool_labels(labels)';
