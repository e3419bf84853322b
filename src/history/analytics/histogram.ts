/**
 * Duration percentiles come from log-scale histograms, as in Prometheus' native histograms
 * (schema 4) and DDSketch: bucket i holds the values in (2^((i-1)/16), 2^(i/16)] ms, bucket 0
 * everything up to 1 ms. A percentile answers its bucket's representative value, within
 * MAX_RELATIVE_ERROR (2.2%) of the exact nearest-rank value. Buckets add up, so days of
 * rollups merge exactly (src/history/rollups/rollup-sql.ts); the SQL twin is duration_bucket()
 * in migration 6 (src/history/sql.ts).
 */
export const BUCKETS_PER_DOUBLING = 16;
const GAMMA = 2 ** (1 / BUCKETS_PER_DOUBLING);
export const MAX_RELATIVE_ERROR = (GAMMA - 1) / (GAMMA + 1);

/** The bucket of a value in ms (as duration_bucket() computes it). */
export function bucketOf(ms: number): number {
  return ms <= 1 ? 0 : Math.ceil((Math.log(ms) * BUCKETS_PER_DOUBLING) / Math.LN2);
}

/** The value a bucket stands for: the point whose relative distance to both bounds is equal. */
export function bucketValue(bucket: number): number {
  if (bucket <= 0) return 0;
  return (2 * GAMMA ** bucket) / (GAMMA + 1);
}

/** Rank of the p-quantile among n values, nearest-rank (1-based): the SQL picks the first bucket reaching it. */
export const QUANTILES = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99 } as const;
