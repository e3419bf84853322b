import DataLoader from 'dataloader';
import type { RunnerPoolFilter } from '../__generated__/resolvers-types.ts';
import type { GatewayContext } from '../context.ts';
import { ErrorCode, gatewayError } from '../errors.ts';
import { poolWaitsBetween, NO_WAITS, type WaitFigures } from '../history/pools/pool-waits.ts';
import { poolWindow } from '../history/pools/pool-window.ts';
import { projectScope } from '../history/project-scope.ts';
import { livePools, selectPools, type LivePool } from '../pools/live-pools.ts';
import { percentileCont } from '../pools/percentiles.ts';
import type { JobModel } from '../model.ts';
import { learnProjectNames, liveScope } from './backend-calls.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
export const MAX_POOL_WINDOW_DAYS = 31;
export const MAX_POOL_BUCKETS = 500;

/** True when the job's runner is provider-hosted (GitHub-hosted): made for it, listed nowhere. */
export function onHostedRunner(ctx: GatewayContext, job: JobModel): boolean {
  return ctx.registry.get(job.backend)?.adapter.runnerFromJob?.(job)?.hosted === true;
}

/** The live figures of the pools a filter selects, as the caller's scope shows them. */
export function runnerPoolsOf(ctx: GatewayContext, filter: RunnerPoolFilter | null | undefined): LivePool[] {
  const backends = ctx.registry.select(filter?.backends).map((b) => b.name);
  const scope = liveScope(ctx);
  const pools = selectPools(ctx.state, backends, scope, filter?.labels);
  const figures = livePools(ctx.state, pools, { scope, now: ctx.now(), onHostedRunner: (job) => onHostedRunner(ctx, job) });
  const selected = filter?.queued ? figures.filter((p) => p.queue.depth > 0) : figures;
  return selected.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

const seconds = (ms: number | null) => (ms === null ? null : ms / 1000);

function waitPercentiles(figures: WaitFigures, source: 'HISTORY' | 'LIVE_STATE') {
  return { p50: seconds(figures.p50Ms), p95: seconds(figures.p95Ms), sampleSize: figures.sampleSize, source };
}

/** Last hour's waits of every pool a request asks for: one history query per request (per tick). */
const lastHourLoaders = new WeakMap<GatewayContext, DataLoader<LivePool, ReturnType<typeof waitPercentiles>>>();

function lastHourLoader(ctx: GatewayContext) {
  let loader = lastHourLoaders.get(ctx);
  if (!loader) {
    loader = new DataLoader(async (pools) => {
      const live = () => pools.map((p) => waitPercentiles({
        p50Ms: percentileCont(p.liveWaitsLastHourMs, 0.5), p95Ms: percentileCont(p.liveWaitsLastHourMs, 0.95), sampleSize: p.liveWaitsLastHourMs.length,
      }, 'LIVE_STATE'));
      if (!ctx.history?.enabled) return live();
      const now = ctx.now();
      const backends = [...new Set(pools.map((p) => p.pool.backend))];
      try {
        const waits = await ctx.history.read(async (store) =>
          poolWaitsBetween(store, await projectScope(store, ctx.identity.scope, backends), backends, new Date(now.getTime() - HOUR_MS), now));
        return pools.map((p) => waitPercentiles(waits.get(p.key) ?? NO_WAITS, 'HISTORY'));
      } catch {
        // History unavailable (opening, database lost): the live state still answers, and says so.
        return live();
      }
    }, { cache: false });
    lastHourLoaders.set(ctx, loader);
  }
  return loader;
}

function windowBounds(ctx: GatewayContext, args: { from?: string | null; to?: string | null; bucketMinutes?: number | null }) {
  const to = args.to ? new Date(args.to) : ctx.now();
  const from = args.from ? new Date(args.from) : new Date(to.getTime() - DAY_MS);
  const lengthMs = to.getTime() - from.getTime();
  const limit = (message: string) => gatewayError(ErrorCode.AnalyticsLimit, message);
  if (!(lengthMs > 0)) throw gatewayError(ErrorCode.BadUserInput, `window: from (${from.toISOString()}) must be before to (${to.toISOString()})`);
  if (lengthMs > MAX_POOL_WINDOW_DAYS * DAY_MS) throw limit(`window: at most ${MAX_POOL_WINDOW_DAYS} days, got ${(lengthMs / DAY_MS).toFixed(1)}`);
  const bucketMs = args.bucketMinutes != null ? args.bucketMinutes * 60_000 : Math.max(60_000, Math.ceil(lengthMs / 24));
  if (!(bucketMs >= 60_000)) throw gatewayError(ErrorCode.BadUserInput, `window: bucketMinutes must be at least 1, got ${String(args.bucketMinutes)}`);
  const count = Math.ceil(lengthMs / bucketMs);
  if (count > MAX_POOL_BUCKETS) throw limit(`window: at most ${MAX_POOL_BUCKETS} buckets, got ${count} (raise bucketMinutes)`);
  return { from, to, bucketMs };
}

export const runnerPoolResolvers = {
  Query: {
    runnerPools: async (_: unknown, args: { filter?: RunnerPoolFilter | null }, ctx: GatewayContext) => {
      await learnProjectNames(ctx);
      return runnerPoolsOf(ctx, args.filter);
    },
  },
  RunnerPool: {
    key: (p: LivePool) => p.key,
    labels: (p: LivePool) => p.pool.labels,
    backend: (p: LivePool, _: unknown, ctx: GatewayContext) => ctx.registry.get(p.pool.backend)!,
    queue: (p: LivePool) => ({
      depth: p.queue.depth,
      oldestQueuedAt: p.queue.oldestQueuedAt,
      oldestWaitSeconds: p.queue.oldestQueuedAt === null ? null : Math.max(0, (Date.parse(p.computedAt) - Date.parse(p.queue.oldestQueuedAt)) / 1000),
    }),
    waitLastHour: (p: LivePool, _: unknown, ctx: GatewayContext) => lastHourLoader(ctx).load(p),
    window: async (p: LivePool, args: { from?: string | null; to?: string | null; bucketMinutes?: number | null }, ctx: GatewayContext) => {
      const { from, to, bucketMs } = windowBounds(ctx, args);
      const figures = await (ctx.history ?? noHistory()).read(async (store) => poolWindow(store, {
        pool: p.pool, from, to, bucketMs, now: ctx.now(),
        scope: await projectScope(store, ctx.identity.scope, [p.pool.backend]),
        withRunners: ctx.identity.scope.allowsRunners(p.pool.backend),
      }));
      return {
        from: from.toISOString(),
        to: to.toISOString(),
        utilization: figures.utilization,
        runnerCount: figures.runnerCount,
        busySeconds: figures.busyMs / 1000,
        wait: waitPercentiles(figures.wait, 'HISTORY'),
        buckets: figures.buckets.map((b) => ({ from: b.from, to: b.to, queued: b.queued, started: b.started, maxWaitSeconds: seconds(b.maxWaitMs) })),
      };
    },
  },
};

function noHistory(): never {
  throw gatewayError(ErrorCode.AnalyticsUnavailable, 'History and analytics are unavailable: this gateway was built without a history');
}
