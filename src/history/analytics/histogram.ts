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

/**
 * The q-quantile of a histogram (buckets ascending, with their counts): the value of the bucket
 * holding the nearest-rank value, rank ceil(q * total); null when it is empty.
 */
export function histogramQuantile(buckets: readonly number[], counts: readonly number[], q: number): number | null {
  let total = 0;
  for (const n of counts) total += n;
  if (total === 0) return null;
  // The epsilon keeps 0.95 * 20 at rank 19 whatever the float rounding.
  const rank = Math.max(1, Math.ceil(q * total - 1e-9));
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += counts[i]!;
    if (seen >= rank) return bucketValue(buckets[i]!);
  }
  return bucketValue(buckets.at(-1)!);
}

/** Sparse histograms merged: buckets ascending, with their summed counts. */
export function mergeHistograms(pieces: readonly (readonly [readonly number[], readonly number[]])[]): { buckets: number[]; counts: number[] } {
  const merged = new Map<number, number>();
  for (const [buckets, counts] of pieces) {
    for (let i = 0; i < buckets.length; i++) merged.set(Number(buckets[i]), (merged.get(Number(buckets[i])) ?? 0) + Number(counts[i]));
  }
  const buckets = [...merged.keys()].sort((a, b) => a - b);
  return { buckets, counts: buckets.map((b) => merged.get(b)!) };
}
