/**
 * `tracing.exportPipelines`: a run seen finishing becomes one trace in the
 * OpenTelemetry CI/CD span conventions, timed by the backend's timestamps; old
 * finished runs a poll or backfill finds are not exported (the CI metrics' rule).
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import * as semconv from '@opentelemetry/semantic-conventions/incubating';
import { describe, expect, it } from 'vitest';
import type { PipelineEvent } from '../../src/events/event-types.ts';
import { CI_STATUSES, isTerminal, type CiStatus, type PipelineModel } from '../../src/model.ts';
import { LiveState } from '../../src/state/live-state.ts';
import { PipelineTraces } from '../../src/tracing/pipeline-traces.ts';
import { at, job, pipeline } from '../helpers/ci-models.ts';

function setup() {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const state = new LiveState();
  const traces = new PipelineTraces(provider.getTracer('test'), state);
  const event = (p: PipelineModel, previousStatus: CiStatus | null, source: PipelineEvent['source']): PipelineEvent =>
    ({ type: 'Pipeline', pipeline: p, previousStatus, source, sequence: 1, receivedAt: at('10:30') });
  return { exporter, state, traces, event };
}

const finished = (id: string, status: CiStatus) =>
  pipeline(id, { name: 'CI', status, createdAt: at('10:00'), startedAt: at('10:02'), finishedAt: at('10:12') });

describe('pipeline traces', () => {
  it('should export a run seen finishing with its jobs as task runs, and no old run a poll finds', () => {
    const { exporter, state, traces, event } = setup();
    const jobs = [
      job('j1', { pipelineNativeId: 'live', name: 'build', status: 'SUCCESS', startedAt: at('10:02'), finishedAt: at('10:05') }),
      job('j2', { pipelineNativeId: 'live', name: 'test', status: 'TIMED_OUT', startedAt: at('10:05'), finishedAt: at('10:12') }),
    ];
    for (const j of jobs) state.apply(j, 0);
    state.setPipelineJobs('gh', 'live', jobs, 0);
    traces.observe(event(finished('old', 'SUCCESS'), null, 'POLL'));
    traces.observe(event(finished('again', 'SUCCESS'), 'SUCCESS', 'WEBHOOK'));
    traces.observe(event(pipeline('running', { status: 'RUNNING' }), 'QUEUED', 'WEBHOOK'));
    traces.observe(event(finished('live', 'TIMED_OUT'), 'RUNNING', 'POLL'));

    const spans = exporter.getFinishedSpans();
    const run = spans.find((s) => s.kind === SpanKind.SERVER)!;
    expect(spans).toHaveLength(3);
    expect(run.name).toBe('RUN CI');
    expect(run.attributes).toMatchObject({ 'cicd.pipeline.name': 'CI', 'cicd.pipeline.run.id': 'live', 'cicd.pipeline.result': 'timeout', 'error.type': 'TIMED_OUT' });
    expect(run.status.code).toBe(SpanStatusCode.ERROR);
    expect([run.startTime, run.endTime]).toEqual([msToHr(at('10:00')), msToHr(at('10:12'))]);
    const tasks = spans.filter((s) => s.parentSpanContext?.spanId === run.spanContext().spanId);
    expect(tasks.map((t) => [t.name, t.attributes['cicd.pipeline.task.run.result'], t.spanContext().traceId === run.spanContext().traceId]).sort())
      .toEqual([['build', 'success', true], ['test', 'timeout', true]]);
    expect(tasks.find((t) => t.name === 'build')!.endTime).toEqual(msToHr(at('10:05')));
  });
});

describe('pipeline traces in the conventions\' own names', () => {
  it('should use only attribute names and values that @opentelemetry/semantic-conventions 1.45.0 defines', () => {
    const { exporter, state, traces, event } = setup();
    const jobs = CI_STATUSES.filter(isTerminal).map((status, i) => job(`j${i}`, { pipelineNativeId: 'p', status, startedAt: at('10:02'), finishedAt: at('10:03'), url: 'https://ci/j' }));
    for (const j of jobs) state.apply(j, 0);
    state.setPipelineJobs('gh', 'p', jobs, 0);
    for (const status of CI_STATUSES.filter(isTerminal)) traces.observe(event({ ...finished('p', status), url: 'https://ci/p' }, 'RUNNING', 'WEBHOOK'));
    const defined = new Set(Object.entries(semconv).filter(([k]) => k.startsWith('ATTR_')).map(([, v]) => v as string));
    const values = (prefix: string) => new Set(Object.entries(semconv).filter(([k]) => k.startsWith(prefix)).map(([, v]) => v as string));
    const results = values('CICD_PIPELINE_RESULT_VALUE_');
    const taskResults = values('CICD_PIPELINE_TASK_RUN_RESULT_VALUE_');
    const spans = exporter.getFinishedSpans();
    expect(spans.length).toBeGreaterThan(CI_STATUSES.filter(isTerminal).length);
    for (const span of spans) {
      for (const key of Object.keys(span.attributes).filter((k) => !k.startsWith('switchyard.'))) expect(defined, key).toContain(key);
      const result = span.attributes[semconv.ATTR_CICD_PIPELINE_RESULT];
      if (result !== undefined) expect(results).toContain(result);
      const taskResult = span.attributes[semconv.ATTR_CICD_PIPELINE_TASK_RUN_RESULT];
      if (taskResult !== undefined) expect(taskResults).toContain(taskResult);
      if (span.kind === SpanKind.SERVER) expect(span.attributes[semconv.ATTR_CICD_PIPELINE_ACTION_NAME]).toBe(semconv.CICD_PIPELINE_ACTION_NAME_VALUE_RUN);
    }
  });
});

function msToHr(iso: string): [number, number] {
  const ms = Date.parse(iso);
  return [Math.floor(ms / 1000), (ms % 1000) * 1_000_000];
}
