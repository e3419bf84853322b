import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BackendRegistry } from '../backend-registry.ts';
import type { ChangeEvent } from '../events/event-types.ts';
import { seenFinishing } from '../events/seen-finishing.ts';
import type { JobModel, PipelineModel } from '../model.ts';
import { discoverPools, livePools } from '../pools/live-pools.ts';
import type { LiveState } from '../state/live-state.ts';
import { pipelineErrorType, pipelineResult, pipelineRunState, workerState, type CicdRunState, type CicdWorkerState } from './cicd-vocabulary.ts';

/** Pools exported per backend; the rest are summed under `(other)` (pools are label sets workflow authors choose). */
export const MAX_POOLS_PER_BACKEND = 50;
const OTHER_POOL = '(other)';
/** Pipeline runs last seconds to hours. */
const RUN_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14_400];
const RUN_STATES: readonly CicdRunState[] = ['pending', 'executing', 'finalizing'];
const WORKER_STATES: readonly CicdWorkerState[] = ['available', 'busy', 'offline'];
const SEE_EVERYTHING = { allowsEntity: () => true, allowsRunners: () => true };

export interface CicdSources {
  readonly state: LiveState;
  readonly backends: BackendRegistry;
  /** `metrics.projectLabels`: projects named in `cicd_pipeline_name`. */
  readonly projectLabels: readonly string[];
  readonly now: () => Date;
}

const seconds = (from: string | null, to: string | null): number | null => {
  if (!from || !to) return null;
  const s = (Date.parse(to) - Date.parse(from)) / 1000;
  return Number.isFinite(s) && s >= 0 ? s : null;
};

/**
 * CI metrics in the OpenTelemetry CI/CD semantic conventions, mapped to
 * Prometheus as the OTel spec maps metrics (dots to underscores, unit `s` as
 * `_seconds`, counters `_total`, up-down counters as gauges, `{run}`-style
 * units dropped). Run durations and errors are fed by the ingested state
 * transitions; active runs, workers and pool queues are read from the live
 * state at scrape time. `switchyard_backend` is an extra attribute of ours.
 */
export class CicdMetrics {
  private readonly named: ReadonlySet<string>;
  private readonly duration: Histogram<string>;
  private readonly errors: Counter<string>;

  constructor(registry: Registry, private readonly sources: CicdSources) {
    this.named = new Set(sources.projectLabels);
    this.duration = new Histogram({
      name: 'cicd_pipeline_run_duration_seconds', help: 'Duration of a pipeline run grouped by pipeline, state and result (OTel cicd.pipeline.run.duration): pending and executing time of each run seen finishing',
      labelNames: ['cicd_pipeline_name', 'cicd_pipeline_run_state', 'cicd_pipeline_result', 'error_type', 'switchyard_backend'], buckets: RUN_BUCKETS, registers: [registry],
    });
    this.errors = new Counter({
      name: 'cicd_pipeline_run_errors_total', help: 'Pipeline runs that ended in failure, error or timeout (OTel cicd.pipeline.run.errors)',
      labelNames: ['cicd_pipeline_name', 'error_type', 'switchyard_backend'], registers: [registry],
    });
    const pipelineName = (p: PipelineModel) => this.pipelineName(p);
    const collectPools = (length: Gauge<string>, oldest: Gauge<string>) => this.collectPools(length, oldest);
    new Gauge({
      name: 'cicd_pipeline_run_active', help: 'Pipeline runs not finished, by state (OTel cicd.pipeline.run.active)',
      labelNames: ['cicd_pipeline_name', 'cicd_pipeline_run_state', 'switchyard_backend'], registers: [registry],
      collect() {
        this.reset();
        for (const b of sources.backends.all()) {
          for (const state of RUN_STATES) this.set({ cicd_pipeline_name: '', cicd_pipeline_run_state: state, switchyard_backend: b.name }, 0);
          for (const p of sources.state.all('Pipeline', b.name)) {
            const state = p.aliasOf ? null : pipelineRunState(p.status);
            if (state) this.inc({ cicd_pipeline_name: pipelineName(p), cicd_pipeline_run_state: state, switchyard_backend: b.name });
          }
        }
      },
    });
    new Gauge({
      name: 'cicd_worker_count', help: 'Workers (runners, agents) by state (OTel cicd.worker.count)', labelNames: ['cicd_worker_state', 'switchyard_backend'], registers: [registry],
      collect() {
        for (const b of sources.backends.all()) {
          const counts = new Map<CicdWorkerState, number>(WORKER_STATES.map((s) => [s, 0]));
          for (const r of sources.state.all('Runner', b.name)) {
            if (r.hosted === true) continue;
            const s = workerState(r.state);
            counts.set(s, counts.get(s)! + 1);
          }
          for (const [state, n] of counts) this.set({ cicd_worker_state: state, switchyard_backend: b.name }, n);
        }
      },
    });
    // Registered (so read) before the oldest-wait gauge: one pass over the pools fills both.
    const oldest = new Gauge({
      name: 'cicd_worker_pool_queue_oldest_wait_seconds', help: 'How long the oldest job waiting for a runner of the pool has waited (named in the OTel CI/CD style)',
      labelNames: ['switchyard_backend', 'switchyard_runner_pool'], registers: [],
    });
    new Gauge({
      name: 'cicd_worker_pool_queue_length', help: 'Jobs waiting for a runner per pool (named in the OTel CI/CD style; the conventions have no queue metric)',
      labelNames: ['switchyard_backend', 'switchyard_runner_pool'], registers: [registry],
      collect() {
        collectPools(this, oldest);
      },
    });
    registry.registerMetric(oldest);
  }

  /** Every published change: a pipeline seen finishing records its durations (and errors). */
  observe(event: ChangeEvent): void {
    if (event.type !== 'Pipeline') return;
    if (!seenFinishing(event)) return;
    const p = event.pipeline;
    const result = pipelineResult(p.status)!;
    const errorType = pipelineErrorType(p.status) ?? '';
    const base = { cicd_pipeline_name: this.pipelineName(p), switchyard_backend: p.backend };
    const startedAt = p.startedAt;
    const queuedSince = p.queuedAt ?? p.createdAt;
    // The conventions' duration is per state: the result belongs to the state it was set in.
    if (startedAt) {
      const pending = seconds(queuedSince, startedAt);
      if (pending !== null) this.duration.observe({ ...base, cicd_pipeline_run_state: 'pending', cicd_pipeline_result: '', error_type: '' }, pending);
      const executing = seconds(startedAt, p.finishedAt);
      if (executing !== null) this.duration.observe({ ...base, cicd_pipeline_run_state: 'executing', cicd_pipeline_result: result, error_type: errorType }, executing);
    } else {
      const pending = seconds(queuedSince, p.finishedAt);
      if (pending !== null) this.duration.observe({ ...base, cicd_pipeline_run_state: 'pending', cicd_pipeline_result: result, error_type: errorType }, pending);
    }
    if (errorType) this.errors.inc({ ...base, error_type: errorType });
  }

  /** The project's full name when allow-listed; else empty (in Prometheus, an empty label is no label). */
  private pipelineName(p: PipelineModel): string {
    if (this.named.size === 0) return '';
    const name = this.sources.state.get('Project', p.backend, p.projectNativeId)?.fullName;
    return name && this.named.has(name) ? name : '';
  }

  private collectPools(length: Gauge<string>, oldest: Gauge<string>): void {
    length.reset();
    oldest.reset();
    const now = this.sources.now();
    for (const b of this.sources.backends.all()) {
      const onHostedRunner = (job: JobModel) => b.adapter.runnerFromJob?.(job)?.hosted === true;
      const pools = livePools(this.sources.state, discoverPools(this.sources.state, [b.name], SEE_EVERYTHING), { scope: SEE_EVERYTHING, now, onHostedRunner });
      pools.sort((x, y) => y.queue.depth - x.queue.depth || (x.key < y.key ? -1 : 1));
      const waits = new Map<string, number>();
      pools.forEach((pool, i) => {
        const name = i < MAX_POOLS_PER_BACKEND ? pool.pool.labels.join(',') || '(any)' : OTHER_POOL;
        length.inc({ switchyard_backend: b.name, switchyard_runner_pool: name }, pool.queue.depth);
        const waited = pool.queue.oldestQueuedAt ? Math.max(0, (now.getTime() - Date.parse(pool.queue.oldestQueuedAt)) / 1000) : 0;
        waits.set(name, Math.max(waits.get(name) ?? 0, waited));
      });
      for (const [name, waited] of waits) oldest.set({ switchyard_backend: b.name, switchyard_runner_pool: name }, waited);
    }
  }
}
