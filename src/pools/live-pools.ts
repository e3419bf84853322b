import type { CompiledScope } from '../auth/scope.ts';
import type { JobModel, RunnerModel } from '../model.ts';
import type { LiveState } from '../state/live-state.ts';
import { jobPool, poolKey, poolOf, runnerSatisfies, type PoolId } from './pool-labels.ts';

export type PoolScope = Pick<CompiledScope, 'allowsEntity' | 'allowsRunners'>;

export interface PoolRunnerCounts {
  readonly online: number;
  readonly busy: number;
  readonly idle: number;
  readonly paused: number;
  readonly offline: number;
  readonly total: number;
  readonly hostedBusy: number;
}

export interface LivePool {
  readonly key: string;
  readonly pool: PoolId;
  readonly hosted: boolean;
  /** Null when the scope hides the backend's runners. */
  readonly runners: PoolRunnerCounts | null;
  readonly queue: { readonly depth: number; readonly oldestQueuedAt: string | null };
  /** Queue times (ms) of the pool's jobs in the live state that started within the last hour: the fallback without history. */
  readonly liveWaitsLastHourMs: readonly number[];
  readonly computedAt: string;
}

export interface LivePoolOptions {
  readonly scope: PoolScope;
  /** True when the job runs on a provider-hosted runner (adapter.runnerFromJob). */
  readonly onHostedRunner: (job: JobModel) => boolean;
  readonly now: Date;
}

const HOUR_MS = 3_600_000;
const OFFLINE_STATES = new Set(['OFFLINE', 'STALE', 'NEVER_CONTACTED']);

/** Waiting for a runner: QUEUED only (PENDING is not queued yet, WAITING is held by something else). */
export const waitsForRunner = (job: JobModel): boolean => job.status === 'QUEUED';

/** The pools the jobs of these backends in the live state ask for (only jobs the scope shows). */
export function discoverPools(state: LiveState, backends: readonly string[], scope: PoolScope): PoolId[] {
  const found = new Map<string, PoolId>();
  for (const backend of backends) {
    for (const job of state.all('Job', backend)) {
      if (!scope.allowsEntity(job)) continue;
      const pool = jobPool(job);
      const key = poolKey(pool.backend, pool.labels);
      if (!found.has(key)) found.set(key, pool);
    }
  }
  return [...found.values()];
}

function countRunners(runners: readonly RunnerModel[], hostedBusy: number): PoolRunnerCounts {
  let busy = 0, idle = 0, paused = 0, offline = 0;
  for (const r of runners) {
    if (r.state === 'BUSY') busy++;
    else if (r.state === 'IDLE' && r.paused) paused++;
    else if (r.state === 'IDLE') idle++;
    else if (OFFLINE_STATES.has(r.state)) offline++;
  }
  return { online: busy + idle + paused, busy, idle, paused, offline, total: runners.length, hostedBusy };
}

/**
 * Live figures of each pool: one pass over the jobs of their backends, and each
 * backend's runners checked against each of its pools.
 */
export function livePools(state: LiveState, pools: readonly PoolId[], options: LivePoolOptions): LivePool[] {
  const { scope, now } = options;
  const nowMs = now.getTime();
  const backends = [...new Set(pools.map((p) => p.backend))];
  interface Tally { depth: number; oldest: string | null; hostedBusy: number; hosted: boolean; waits: number[] }
  const tallies = new Map<string, Tally>(pools.map((p) => [poolKey(p.backend, p.labels), { depth: 0, oldest: null, hostedBusy: 0, hosted: false, waits: [] }]));
  const runnersByBackend = new Map<string, RunnerModel[]>();
  for (const backend of backends) {
    // Provider-hosted runners are never in a listing; their jobs count them (hostedBusy).
    runnersByBackend.set(backend, [...state.all('Runner', backend)].filter((r) => r.hosted !== true));
    for (const job of state.all('Job', backend)) {
      const tally = tallies.get(poolKey(job.backend, job.labels));
      if (!tally || !scope.allowsEntity(job)) continue;
      if (waitsForRunner(job)) {
        tally.depth++;
        const since = job.queuedAt ?? job.createdAt;
        if (since && (tally.oldest === null || Date.parse(since) < Date.parse(tally.oldest))) tally.oldest = since;
      }
      if (options.onHostedRunner(job)) {
        tally.hosted = true;
        if (job.status === 'RUNNING' || job.status === 'CANCELING') tally.hostedBusy++;
      }
      const since = job.queuedAt ?? job.createdAt;
      if (job.startedAt && since && nowMs - Date.parse(job.startedAt) <= HOUR_MS) {
        const wait = Date.parse(job.startedAt) - Date.parse(since);
        if (Number.isFinite(wait) && wait >= 0) tally.waits.push(wait);
      }
    }
  }
  return pools.map((pool) => {
    const key = poolKey(pool.backend, pool.labels);
    const tally = tallies.get(key)!;
    const runners = scope.allowsRunners(pool.backend)
      ? countRunners((runnersByBackend.get(pool.backend) ?? []).filter((r) => runnerSatisfies(r, pool)), tally.hostedBusy)
      : null;
    return {
      key, pool, hosted: tally.hosted, runners,
      queue: { depth: tally.depth, oldestQueuedAt: tally.oldest },
      liveWaitsLastHourMs: tally.waits,
      computedAt: now.toISOString(),
    };
  });
}

/** The pools a filter selects: those jobs ask for, plus the one `labels` names on each backend. */
export function selectPools(state: LiveState, backends: readonly string[], scope: PoolScope, labels: readonly string[] | null | undefined): PoolId[] {
  if (labels) return backends.map((b) => poolOf(b, labels));
  return discoverPools(state, backends, scope);
}
