import type { HistoryStore } from '../history-store.ts';
import { scopeCondition, type ProjectScope } from '../project-scope.ts';
import { satisfies, type PoolId } from '../../pools/pool-labels.ts';
import { JOB_POOL_LABELS } from './pool-sql.ts';
import type { WaitFigures } from './pool-waits.ts';

export interface PoolBucket {
  readonly from: string;
  readonly to: string;
  readonly queued: number;
  readonly started: number;
  readonly maxWaitMs: number | null;
}

export interface PoolWindowFigures {
  readonly runnerCount: number;
  readonly busyMs: number;
  /** Null when no runner is counted, or runners are not shown (`withRunners` false). */
  readonly utilization: number | null;
  readonly wait: WaitFigures;
  readonly buckets: readonly PoolBucket[];
}

interface RunnerRow {
  native_id: string;
  labels: unknown;
  online_in: boolean | null;
  before_status: string | null;
  hosted: boolean | null;
}

const ONLINE = new Set(['IDLE', 'BUSY']);

/**
 * The runners counted for a pool's window and their busy time: self-hosted runners whose
 * latest labels recorded up to `to` satisfy the pool, and that were online (IDLE/BUSY) at
 * some recorded moment in the window, were online when it began, or ran a job in it. Busy
 * time is the run time, inside [from, min(to, now)), of every job on them (any pool, any project).
 */
async function poolRunners(store: HistoryStore, pool: PoolId, from: Date, to: Date, now: Date): Promise<{ runners: string[]; busyMs: number }> {
  // Per runner, three index probes (pools_transitions_runner_history, migration 6) instead of
  // reading every runner transition ever recorded: runners go busy and idle with every job.
  const rows = await store.query<RunnerRow>(
    `WITH RECURSIVE ids AS (
       (SELECT native_id FROM transitions WHERE entity_type = 'Runner' AND backend = $1 AND observed_at < $3 ORDER BY native_id LIMIT 1)
       UNION ALL
       SELECT (SELECT t.native_id FROM transitions t WHERE t.entity_type = 'Runner' AND t.backend = $1 AND t.observed_at < $3 AND t.native_id > ids.native_id
               ORDER BY t.native_id LIMIT 1)
       FROM ids WHERE ids.native_id IS NOT NULL
     )
     SELECT ids.native_id, latest.payload->'labels' AS labels, latest.payload->>'hosted' = 'true' AS hosted, before.status AS before_status,
       EXISTS (SELECT 1 FROM transitions i WHERE i.entity_type = 'Runner' AND i.backend = $1 AND i.native_id = ids.native_id
               AND i.observed_at >= $2 AND i.observed_at < $3 AND i.status IN ('IDLE', 'BUSY')) AS online_in
     FROM ids
     CROSS JOIN LATERAL (SELECT payload FROM transitions l WHERE l.entity_type = 'Runner' AND l.backend = $1 AND l.native_id = ids.native_id
       AND l.observed_at < $3 ORDER BY l.observed_at DESC, l.revision DESC LIMIT 1) latest
     LEFT JOIN LATERAL (SELECT status FROM transitions b WHERE b.entity_type = 'Runner' AND b.backend = $1 AND b.native_id = ids.native_id
       AND b.observed_at < $2 ORDER BY b.observed_at DESC, b.revision DESC LIMIT 1) before ON true
     WHERE ids.native_id IS NOT NULL`,
    [pool.backend, from.toISOString(), to.toISOString()],
  );
  const candidates = rows.filter((r) => r.hosted !== true && Array.isArray(r.labels) && satisfies(r.labels.filter((l): l is string => typeof l === 'string'), pool));
  if (candidates.length === 0) return { runners: [], busyMs: 0 };
  const end = new Date(Math.min(to.getTime(), now.getTime())).toISOString();
  const busy = new Map((await store.query<{ runner: string; busy: number | null }>(
    `SELECT runner_native_id AS runner,
       -- Summed as intervals (integer microseconds), converted once: extract(epoch) per row is numeric, 2-3x the cost.
       (extract(epoch FROM sum(greatest(interval '0', least(coalesce(finished_at, $5::timestamptz), $5::timestamptz) - greatest(started_at, $3::timestamptz))))
         * 1000)::float8 AS busy
     FROM (
       -- Two index ranges on pools_jobs_runner_finished (an OR of them would read each runner's whole past).
       SELECT runner_native_id, started_at, finished_at FROM jobs
       WHERE backend = $1 AND runner_native_id = ANY($2::text[]) AND finished_at > $3 AND started_at IS NOT NULL AND started_at < $4
       UNION ALL
       SELECT runner_native_id, started_at, finished_at FROM jobs
       WHERE backend = $1 AND runner_native_id = ANY($2::text[]) AND finished_at IS NULL AND started_at IS NOT NULL AND started_at < $4
     ) AS ran
     GROUP BY runner_native_id`,
    [pool.backend, candidates.map((r) => r.native_id), from.toISOString(), to.toISOString(), end],
  )).map((r) => [r.runner, r.busy ?? 0]));
  const runners = candidates
    .filter((r) => r.online_in === true || (r.before_status !== null && ONLINE.has(r.before_status)) || busy.has(r.native_id))
    .map((r) => r.native_id);
  return { runners, busyMs: runners.reduce((sum, id) => sum + (busy.get(id) ?? 0), 0) };
}

async function windowWaits(store: HistoryStore, pool: PoolId, scope: ProjectScope, from: Date, to: Date): Promise<WaitFigures> {
  const params: unknown[] = [pool.backend, [...pool.labels], from.toISOString(), to.toISOString()];
  const visible = scopeCondition(scope, params);
  const [row] = await store.query<{ p50: number | null; p95: number | null; n: number }>(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY queue_ms) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY queue_ms) AS p95, count(*)::int AS n
     FROM jobs
     WHERE backend = $1 AND ${JOB_POOL_LABELS} = $2::text[] AND started_at >= $3 AND started_at < $4
       AND queue_ms IS NOT NULL AND ${visible}`,
    params,
  );
  return { p50Ms: row?.p50 ?? null, p95Ms: row?.p95 ?? null, sampleSize: row?.n ?? 0 };
}

/**
 * Queue pressure per bucket: jobs of the pool that waited inside it (queued from
 * queued_at or created_at until started_at, or finished_at for one canceled in
 * the queue, or the window's end while still queued), those that started in it,
 * and the longest wait among the latter.
 */
async function buckets(store: HistoryStore, pool: PoolId, scope: ProjectScope, from: Date, to: Date, bucketMs: number): Promise<PoolBucket[]> {
  const count = Math.ceil((to.getTime() - from.getTime()) / bucketMs);
  const params: unknown[] = [pool.backend, [...pool.labels], from.toISOString(), to.toISOString(), bucketMs, count];
  const visible = scopeCondition(scope, params);
  const waited = `coalesce(queued_at, created_at) AS q_from, coalesce(started_at, finished_at, $4::timestamptz) AS q_to, started_at, queue_ms`;
  const pooled = `backend = $1 AND ${JOB_POOL_LABELS} = $2::text[] AND coalesce(queued_at, created_at) < $4 AND ${visible}`;
  // The bucket holding a moment, as its start: date_bin is integer arithmetic on microseconds, exact
  // and much cheaper per row than extract(epoch), which is numeric.
  const stride = `$5::float8 * interval '1 millisecond'`;
  const bin = (at: string) => `date_bin(${stride}, ${at}, $3::timestamptz)`;
  // Each job marks where its wait enters the window's buckets (+1 at the first bucket it overlaps,
  // q_from < bucket end) and where it has left them (-1 at the bucket after the last one with
  // q_to > bucket start); a running sum of the marks gives the jobs waiting in each bucket. Plus the
  // bucket it started in. One pass over two index ranges of the pool's jobs (started since the window
  // began, not started), index-only on pools_jobs_pool_started_covering (migration 8), grouped three ways.
  // A leave mark past the last bucket is not needed.
  const inWindow = `q_to > $3 AND q_to > q_from`;
  const rows = await store.query<{ kind: 'enter' | 'leave' | 'started'; b: number; n: number; max_wait: number | null }>(
    `SELECT CASE WHEN grouping(enter_at) = 0 THEN 'enter' WHEN grouping(leave_at) = 0 THEN 'leave' ELSE 'started' END AS kind,
       round(extract(epoch FROM (coalesce(enter_at, leave_at, start_at) - $3::timestamptz)) * 1000 / $5)::int AS b,
       count(*)::int AS n, max(queue_ms) AS max_wait
     FROM (
       SELECT CASE WHEN ${inWindow} THEN greatest($3::timestamptz, ${bin('q_from')}) END AS enter_at,
         CASE WHEN ${inWindow} AND q_to < $3::timestamptz + $6::int * ${stride} THEN ${bin(`q_to - interval '1 microsecond'`)} + ${stride} END AS leave_at,
         CASE WHEN started_at >= $3 AND started_at < $4 THEN ${bin('started_at')} END AS start_at, queue_ms
       FROM (
         SELECT ${waited} FROM jobs WHERE ${pooled} AND started_at >= $3
         UNION ALL
         SELECT ${waited} FROM jobs WHERE ${pooled} AND started_at IS NULL AND (finished_at >= $3 OR finished_at IS NULL)
       ) AS q
     ) AS marks
     GROUP BY GROUPING SETS ((enter_at), (leave_at), (start_at))
     HAVING coalesce(enter_at, leave_at, start_at) IS NOT NULL`,
    params,
  );
  const result = Array.from({ length: count }, (_, i) => ({
    from: new Date(from.getTime() + i * bucketMs).toISOString(),
    to: new Date(Math.min(from.getTime() + (i + 1) * bucketMs, to.getTime())).toISOString(),
    queued: 0, started: 0, maxWaitMs: null as number | null,
  }));
  const change = new Array<number>(count).fill(0);
  for (const row of rows) {
    if (row.b < 0 || row.b >= count) continue;
    if (row.kind === 'enter') change[row.b]! += row.n;
    else if (row.kind === 'leave') change[row.b]! -= row.n;
    else {
      result[row.b]!.started = row.n;
      result[row.b]!.maxWaitMs = row.max_wait;
    }
  }
  let waiting = 0;
  result.forEach((bucket, i) => {
    waiting += change[i]!;
    bucket.queued = waiting;
  });
  return result;
}

export interface PoolWindowRequest {
  readonly pool: PoolId;
  readonly from: Date;
  readonly to: Date;
  readonly bucketMs: number;
  readonly scope: ProjectScope;
  /** False when the caller's scope hides the backend's runners: no runner figures. */
  readonly withRunners: boolean;
  readonly now: Date;
}

export async function poolWindow(store: HistoryStore, r: PoolWindowRequest): Promise<PoolWindowFigures> {
  // Independent reads, in flight together: on PostgreSQL each takes a connection of the pool (the
  // window costs the slowest of them, not their sum); PGlite runs them one after another.
  const [{ runners, busyMs: busy }, wait, bucketList] = await Promise.all([
    r.withRunners ? poolRunners(store, r.pool, r.from, r.to, r.now) : { runners: [], busyMs: 0 },
    windowWaits(store, r.pool, r.scope, r.from, r.to),
    buckets(store, r.pool, r.scope, r.from, r.to, r.bucketMs),
  ]);
  // Runner time that has not happened yet is not idle time.
  const lengthMs = Math.min(r.to.getTime(), r.now.getTime()) - r.from.getTime();
  return {
    runnerCount: runners.length,
    busyMs: busy,
    utilization: runners.length > 0 && lengthMs > 0 ? busy / (runners.length * lengthMs) : null,
    wait,
    buckets: bucketList,
  };
}
