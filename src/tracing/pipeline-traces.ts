import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Tracer } from '@opentelemetry/api';
import type { ChangeEvent } from '../events/event-types.ts';
import { seenFinishing } from '../events/seen-finishing.ts';
import { pipelineErrorType, pipelineResult } from '../metrics/cicd-vocabulary.ts';
import { isTerminal, type JobModel, type PipelineModel } from '../model.ts';
import type { LiveState } from '../state/live-state.ts';

/** The conventions' action of a pipeline run (`cicd.pipeline.action.name`): every run Switchyard sees runs its tasks. */
const ACTION = 'RUN';

const time = (iso: string | null): Date | undefined => {
  if (!iso) return undefined;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? new Date(ms) : undefined;
};

/**
 * `tracing.exportPipelines`: each pipeline seen finishing (the rule CI metrics
 * count by: src/events/seen-finishing.ts) becomes a trace in the OpenTelemetry
 * CI/CD span conventions (semantic conventions 1.45.0, "CICD spans",
 * Development status): a SERVER span `RUN <pipeline>` from the run's creation
 * to its end, with one child per job known then (task runs), timed by the
 * backend's timestamps. Names and values are the conventions' own.
 */
export class PipelineTraces {
  constructor(private readonly tracer: Tracer, private readonly state: LiveState) {}

  observe(event: ChangeEvent): void {
    if (event.type !== 'Pipeline' || !seenFinishing(event)) return;
    this.export(event.pipeline);
  }

  private export(p: PipelineModel): void {
    const end = time(p.finishedAt) ?? time(p.updatedAt);
    const start = time(p.createdAt) ?? time(p.queuedAt) ?? time(p.startedAt);
    if (!start || !end) return;
    const project = this.state.get('Project', p.backend, p.projectNativeId)?.fullName ?? null;
    const name = p.name ?? project ?? p.nativeId;
    const result = pipelineResult(p.status)!;
    const errorType = pipelineErrorType(p.status);
    const attributes: Attributes = {
      'cicd.pipeline.name': name,
      'cicd.pipeline.run.id': p.nativeId,
      'cicd.pipeline.result': result,
      'cicd.pipeline.action.name': ACTION,
      ...(p.url ? { 'cicd.pipeline.run.url.full': p.url } : {}),
      ...(errorType ? { 'error.type': errorType } : {}),
      'switchyard.backend': p.backend,
      ...(project ? { 'switchyard.project': project } : {}),
    };
    const run = this.tracer.startSpan(`${ACTION} ${name}`, { kind: SpanKind.SERVER, startTime: start, attributes, root: true }, ROOT_CONTEXT);
    if (errorType) run.setStatus({ code: SpanStatusCode.ERROR });
    const inRun = trace.setSpan(ROOT_CONTEXT, run);
    for (const job of this.state.knownPipelineJobs(p.backend, p.nativeId)) this.exportJob(job, inRun, start, end);
    run.end(end);
  }

  private exportJob(job: JobModel, parent: ReturnType<typeof trace.setSpan>, runStart: Date, runEnd: Date): void {
    const start = time(job.startedAt) ?? time(job.queuedAt) ?? time(job.createdAt) ?? runStart;
    const end = time(job.finishedAt) ?? runEnd;
    const result = isTerminal(job.status) ? pipelineResult(job.status) : null;
    const span = this.tracer.startSpan(job.name, {
      kind: SpanKind.INTERNAL,
      startTime: start,
      attributes: {
        'cicd.pipeline.task.name': job.name,
        'cicd.pipeline.task.run.id': job.nativeId,
        ...(job.url ? { 'cicd.pipeline.task.run.url.full': job.url } : {}),
        ...(result ? { 'cicd.pipeline.task.run.result': result } : {}),
      },
    }, parent);
    if (result === 'failure' || result === 'error' || result === 'timeout') span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(end < start ? start : end);
  }
}
