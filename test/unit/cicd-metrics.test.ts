/**
 * CI metrics in the OpenTelemetry CI/CD conventions: the status mapping, runs
 * counted when seen finishing (not when a poll finds old ones), and the
 * per-project allow-list (`metrics.projectLabels`) as the only way a project
 * name becomes a label.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BackendRegistry, type BackendEntry } from '../../src/backend-registry.ts';
import type { PipelineEvent } from '../../src/events/event-types.ts';
import { CicdMetrics } from '../../src/metrics/cicd-metrics.ts';
import { pipelineErrorType, pipelineResult, pipelineRunState, workerState } from '../../src/metrics/cicd-vocabulary.ts';
import { CI_STATUSES, type CiStatus, type PipelineModel, type ProjectModel } from '../../src/model.ts';
import { LiveState } from '../../src/state/live-state.ts';
import { at, job, pipeline, runner } from '../helpers/ci-models.ts';
import { histograms, samples, total, type PromMetrics } from '../helpers/scrape.ts';
import { getMetricsFromIterator } from 'prom2javascript';

const project = (nativeId: string, fullName: string): ProjectModel => ({
  type: 'Project', backend: 'gh', nativeId, revision: [1], name: fullName.split('/')[1]!, fullName, url: null, defaultBranch: 'main',
});

function setup(projectLabels: readonly string[]) {
  const state = new LiveState();
  state.apply(project('1', 'acme/web'), 0);
  state.apply(project('2', 'acme/api'), 0);
  const backends = new BackendRegistry([{ name: 'gh', adapter: {} } as unknown as BackendEntry]);
  const registry = new Registry();
  const cicd = new CicdMetrics(registry, { state, backends, projectLabels, now: () => new Date(at('11:00')) });
  const event = (p: PipelineModel, previousStatus: CiStatus | null, source: PipelineEvent['source'] = 'WEBHOOK'): PipelineEvent =>
    ({ type: 'Pipeline', pipeline: p, previousStatus, source, sequence: 1, receivedAt: at('10:30') });
  const scrape = async (): Promise<PromMetrics> => getMetricsFromIterator((await registry.metrics()).split('\n')[Symbol.iterator]());
  return { state, cicd, event, scrape };
}

const finished = (id: string, projectNativeId: string, status: CiStatus) =>
  pipeline(id, { projectNativeId, status, createdAt: at('10:00'), startedAt: at('10:02'), finishedAt: at('10:12') });

describe('CI/CD conventions', () => {
  it('should map every unified status to at most one of result or run state', () => {
    for (const status of CI_STATUSES) {
      const result = pipelineResult(status);
      const state = pipelineRunState(status);
      expect(result !== null && state !== null, status).toBe(false);
      if (status !== 'UNKNOWN') expect(result !== null || state !== null, status).toBe(true);
    }
    expect(pipelineResult('UNSTABLE')).toBe('failure');
    expect(pipelineErrorType('UNSTABLE')).toBe('UNSTABLE');
    expect(pipelineResult('CANCELED')).toBe('cancellation');
    expect(pipelineErrorType('CANCELED')).toBeNull();
    expect(pipelineRunState('CANCELING')).toBe('finalizing');
    expect([workerState('IDLE'), workerState('BUSY'), workerState('STALE')]).toEqual(['available', 'busy', 'offline']);
  });

  it('should record a run seen finishing per state, and not old runs a poll finds', async () => {
    const { cicd, event, scrape } = setup([]);
    cicd.observe(event(finished('a', '1', 'UNSTABLE'), 'RUNNING', 'POLL'));
    cicd.observe(event(finished('b', '1', 'SUCCESS'), null, 'POLL'));
    cicd.observe(event(finished('c', '1', 'SUCCESS'), 'SUCCESS', 'POLL'));
    const m = await scrape();
    const series = histograms(m, 'cicd_pipeline_run_duration_seconds');
    expect(series.map((h) => [h.labels.cicd_pipeline_run_state, h.labels.cicd_pipeline_result, h.labels.error_type, h.count, h.sum])).toEqual([
      ['pending', '', '', 1, 120],
      ['executing', 'failure', 'UNSTABLE', 1, 600],
    ]);
    expect(total(m, 'cicd_pipeline_run_errors_total', { error_type: 'UNSTABLE' })).toBe(1);
  });

  it('should name only allow-listed projects in cicd_pipeline_name', async () => {
    const { state, cicd, event, scrape } = setup(['acme/web']);
    cicd.observe(event(finished('a', '1', 'FAILURE'), 'RUNNING'));
    cicd.observe(event(finished('b', '2', 'FAILURE'), 'RUNNING'));
    state.apply(pipeline('r1', { projectNativeId: '1', status: 'RUNNING' }), 0);
    state.apply(pipeline('r2', { projectNativeId: '2', status: 'QUEUED' }), 0);
    const m = await scrape();
    expect(total(m, 'cicd_pipeline_run_errors_total', { cicd_pipeline_name: 'acme/web' })).toBe(1);
    expect(total(m, 'cicd_pipeline_run_errors_total', { cicd_pipeline_name: '' })).toBe(1);
    expect(total(m, 'cicd_pipeline_run_active', { cicd_pipeline_name: 'acme/web', cicd_pipeline_run_state: 'executing' })).toBe(1);
    expect(total(m, 'cicd_pipeline_run_active', { cicd_pipeline_name: '', cicd_pipeline_run_state: 'pending' })).toBe(1);
    const names = new Set(Object.values(m).flatMap((f) => f.data.map((s) => s.labels.cicd_pipeline_name)).filter((n) => n !== undefined));
    expect([...names].sort()).toEqual(['', 'acme/web']);
  });

  it('should count workers by state and queued jobs per pool', async () => {
    const { state, scrape } = setup([]);
    state.apply(runner('r1', ['linux'], { state: 'BUSY' }), 0);
    state.apply(runner('r2', ['linux'], { state: 'IDLE', paused: true }), 0);
    state.apply(runner('r3', ['linux'], { state: 'OFFLINE' }), 0);
    state.apply(job('j1', { status: 'QUEUED', labels: ['linux'], queuedAt: at('10:50') }), 0);
    state.apply(job('j2', { status: 'QUEUED', labels: ['linux'], queuedAt: at('10:55') }), 0);
    const m = await scrape();
    expect(samples(m, 'cicd_worker_count').map((s) => [s.labels.cicd_worker_state, s.value])).toEqual([['available', 1], ['busy', 1], ['offline', 1]]);
    expect(total(m, 'cicd_worker_pool_queue_length', { switchyard_runner_pool: 'linux' })).toBe(2);
    expect(total(m, 'cicd_worker_pool_queue_oldest_wait_seconds', { switchyard_runner_pool: 'linux' })).toBe(600);
  });
});
