import type { RunnerPoolFilter } from '../__generated__/resolvers-types.ts';
import type { GatewayContext } from '../context.ts';
import { ErrorCode, gatewayError } from '../errors.ts';
import { BoundedQueueIterator } from '../events/bounded-queue-iterator.ts';
import { isTerminal, type JobModel } from '../model.ts';
import { livePools, selectPools, type LivePool } from '../pools/live-pools.ts';
import { jobPool, poolKey, type PoolId } from '../pools/pool-labels.ts';
import { learnProjectNames, liveScope } from './backend-calls.ts';
import { onHostedRunner } from './runner-pools.ts';
import { guard } from './subscription-resolvers.ts';

export interface RunnerPoolEventModel {
  readonly pool: LivePool;
  readonly reason: 'SNAPSHOT' | 'CHANGE';
  readonly emittedAt: string;
}

/** At most one update per pool per this interval: changes in between are coalesced into the next. */
export const POOL_UPDATE_INTERVAL_MS = 1000;
/** Updates a client may leave unread before it is ended (SUBSCRIPTION_OVERFLOW). */
const POOL_QUEUE_LIMIT = 10_000;

/** What a change must alter to be sent (the oldest wait grows by itself; its start is what changes). */
function signature(p: LivePool): string {
  return JSON.stringify([p.hosted, p.runners, p.queue.depth, p.queue.oldestQueuedAt]);
}

/**
 * One subscriber's pools. Job and runner events of its backends mark the pools
 * they touch dirty (a job: its pool, and the pool it was in before if its labels
 * changed; a runner: every followed pool of its backend); a timer recomputes the
 * dirty pools from the live state at most once per interval and sends those whose
 * figures changed.
 */
class PoolWatch {
  private readonly followed = new Map<string, PoolId>();
  private readonly sent = new Map<string, { signature: string; depth: number }>();
  private readonly jobPools = new Map<string, string>();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private lastFlush = 0;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly filter: RunnerPoolFilter | null | undefined,
    private readonly backends: ReadonlySet<string>,
    private readonly out: BoundedQueueIterator<RunnerPoolEventModel>,
  ) {}

  snapshot(): void {
    const pools = selectPools(this.ctx.state, [...this.backends], liveScope(this.ctx), this.filter?.labels);
    for (const pool of pools) this.followed.set(poolKey(pool.backend, pool.labels), pool);
    for (const figures of this.compute(pools)) {
      if (this.filter?.queued && figures.queue.depth === 0) continue;
      this.send(figures, 'SNAPSHOT');
    }
    for (const pool of pools) if (!this.sent.has(poolKey(pool.backend, pool.labels))) this.sent.set(poolKey(pool.backend, pool.labels), { signature: '', depth: 0 });
  }

  onJob(job: JobModel): void {
    const jobKey = `${job.backend}\u0000${job.nativeId}`;
    const pool = jobPool(job);
    const key = poolKey(pool.backend, pool.labels);
    const before = this.jobPools.get(jobKey);
    if (before && before !== key) this.mark(before);
    if (!this.followed.has(key)) {
      if (this.filter?.labels) return;
      this.followed.set(key, pool);
    }
    // A finished job moves no more: forget it, so a stream that runs for weeks holds only live jobs.
    if (isTerminal(job.status)) this.jobPools.delete(jobKey);
    else this.jobPools.set(jobKey, key);
    this.mark(key);
  }

  onRunner(backend: string): void {
    for (const [key, pool] of this.followed) if (pool.backend === backend) this.mark(key);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private mark(key: string): void {
    this.dirty.add(key);
    if (this.timer || this.out.closed) return;
    const wait = Math.max(0, this.lastFlush + POOL_UPDATE_INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
    this.timer.unref();
  }

  private flush(): void {
    this.timer = null;
    this.lastFlush = Date.now();
    const pools = [...this.dirty].map((k) => this.followed.get(k)).filter((p): p is PoolId => p !== undefined);
    this.dirty.clear();
    if (this.out.closed) return;
    for (const figures of this.compute(pools)) {
      const previous = this.sent.get(figures.key);
      if (previous?.signature === signature(figures)) continue;
      // `queued: true` follows a pool while it has a queue, and once more when the queue empties.
      if (this.filter?.queued && figures.queue.depth === 0 && !(previous && previous.depth > 0)) continue;
      this.send(figures, 'CHANGE');
    }
  }

  private compute(pools: readonly PoolId[]): LivePool[] {
    const { ctx } = this;
    return livePools(ctx.state, pools, { scope: liveScope(ctx), now: ctx.now(), onHostedRunner: (job) => onHostedRunner(ctx, job) });
  }

  private send(figures: LivePool, reason: RunnerPoolEventModel['reason']): void {
    this.sent.set(figures.key, { signature: signature(figures), depth: figures.queue.depth });
    this.out.push({ pool: figures, reason, emittedAt: this.ctx.now().toISOString() });
  }
}

export const runnerPoolSubscription = {
  subscribe: async (_: unknown, { filter }: { filter?: RunnerPoolFilter | null }, ctx: GatewayContext) => {
    const backends = new Set(ctx.registry.select(filter?.backends).map((b) => b.name));
    // Jobs are checked synchronously: the project names patterns match must be known first.
    if (ctx.credentials.stillValid(ctx.identity)) await learnProjectNames(ctx);
    const scope = liveScope(ctx);
    // Listeners that only mark pools dirty: they accept nothing into their own queues.
    let watch: PoolWatch | null = null;
    const jobs = ctx.bus.subscribe('Job', (e) => {
      if (watch && backends.has(e.job.backend) && scope.allowsEntity(e.job)) watch.onJob(e.job);
      return false;
    });
    const runners = ctx.bus.subscribe('Runner', (e) => {
      if (watch && backends.has(e.runner.backend) && scope.allowsRunners(e.runner.backend)) watch.onRunner(e.runner.backend);
      return false;
    });
    const out = new BoundedQueueIterator<RunnerPoolEventModel>(
      POOL_QUEUE_LIMIT,
      () => gatewayError(ErrorCode.SubscriptionOverflow, `Subscription ended: more than ${POOL_QUEUE_LIMIT} pool updates were waiting for this client. Subscribe again.`),
      () => {
        watch?.close();
        void jobs.return();
        void runners.return();
      },
    );
    watch = new PoolWatch(ctx, filter, backends, out);
    watch.snapshot();
    return guard(ctx, out);
  },
  resolve: (event: RunnerPoolEventModel) => event,
};

