import { analyticsLimit, ANALYTICS_LIMITS } from './window.ts';
import { projectName, type AnalyticsScope } from './scope.ts';
import { iso, num, rate } from './sql-params.ts';
import { histogramQuantile, mergeHistograms } from './histogram.ts';

export { rollupServes, statsQuery, type GroupBy, type StatsTable } from './stats-sql.ts';

/** One metric's pieces merged, then each asked quantile read off (null without a sample). */
function percentiles<K extends string>(pieces: StatsRow['histograms'], metric: 'd' | 'q', quantiles: Record<K, number>): Record<K, number | null> {
  const all = typeof pieces === 'string' ? JSON.parse(pieces) as [string, number[], number[]][] : pieces ?? [];
  const { buckets, counts } = mergeHistograms(all.filter(([m]) => m === metric).map(([, b, c]) => [b, c] as const));
  const out = {} as Record<K, number | null>;
  for (const key of Object.keys(quantiles) as K[]) out[key] = histogramQuantile(buckets, counts, quantiles[key]);
  return out;
}

export interface StatsRow {
  k_backend?: string | null; k_provider?: string | null; k_project?: string | null; k_branch?: string | null;
  k_pipeline_name?: string | null; k_job_name?: string | null; k_label?: string | null; k_runner?: string | null; k_bucket?: unknown;
  n: number; success: number; unstable: number; canceled: number; skipped: number; code: number; timed_out: number; infrastructure: number;
  /** The group's histogram pieces: [metric 'd' | 'q', buckets ascending, counts] (histogram.ts); null without a sample. */
  histograms: [string, number[], number[]][] | string | null;
  top_reasons: { category: string; reason: string; count: number }[] | string | null;
}

export interface StatsGroup {
  key: {
    backend: string | null; provider: string | null; project: string | null; branch: string | null; pipelineName: string | null;
    jobName: string | null; runnerLabel: string | null; runner: string | null; bucket: string | null;
  };
  count: number; successCount: number; unstableCount: number; canceledCount: number; skippedCount: number; failedCount: number;
  successRate: number; failureRate: number; canceledRate: number; skippedRate: number;
  failures: { code: number; timedOut: number; infrastructure: number };
  topFailureReasons: { category: 'CODE' | 'TIMED_OUT' | 'INFRASTRUCTURE'; reason: string; count: number }[];
  duration: { p50: number | null; p90: number | null; p95: number | null; p99: number | null };
  queueTime: { p50: number | null; p95: number | null };
}

/** Rows to groups; refuses an answer with more groups than the limit. */
export function statsGroups(rows: readonly StatsRow[], scope: AnalyticsScope): StatsGroup[] {
  if (rows.length > ANALYTICS_LIMITS.maxGroups) {
    throw analyticsLimit(`groupBy: more than ${ANALYTICS_LIMITS.maxGroups} groups; narrow the window or the filter, or group by fewer keys`);
  }
  return rows.map((r) => {
    const count = num(r.n);
    const code = num(r.code); const timedOut = num(r.timed_out); const infrastructure = num(r.infrastructure);
    const failed = code + timedOut + infrastructure;
    const reasons = typeof r.top_reasons === 'string' ? JSON.parse(r.top_reasons) as StatsRow['top_reasons'] : r.top_reasons;
    return {
      key: {
        backend: r.k_backend ?? null,
        provider: r.k_provider ?? null,
        project: r.k_project != null && r.k_backend != null ? projectName(scope, r.k_backend, r.k_project) : null,
        branch: r.k_branch ?? null,
        pipelineName: r.k_pipeline_name ?? null,
        jobName: r.k_job_name ?? null,
        runnerLabel: r.k_label ?? null,
        runner: r.k_runner ?? null,
        bucket: r.k_bucket != null ? iso(r.k_bucket) : null,
      },
      count,
      successCount: num(r.success), unstableCount: num(r.unstable), canceledCount: num(r.canceled), skippedCount: num(r.skipped),
      failedCount: failed,
      successRate: rate(num(r.success), count), failureRate: rate(failed, count),
      canceledRate: rate(num(r.canceled), count), skippedRate: rate(num(r.skipped), count),
      failures: { code, timedOut, infrastructure },
      topFailureReasons: (Array.isArray(reasons) ? reasons : []).map((t) => ({
        category: t.category as 'CODE' | 'TIMED_OUT' | 'INFRASTRUCTURE', reason: t.reason, count: num(t.count),
      })),
      duration: percentiles(r.histograms, 'd', { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99 }),
      queueTime: percentiles(r.histograms, 'q', { p50: 0.5, p95: 0.95 }),
    };
  });
}
