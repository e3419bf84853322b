/**
 * The CDEvents we send: the released spec v0.5.1 (cdevents/spec tag v0.5.1; its schemas are
 * vendored in test/fixtures/cdevents/v0.5.1). `context.specversion` carries the spec's version
 * (its version.txt and conformance examples say "0.5.1"); each event type has its own version.
 */
export const CDEVENTS_SPEC_VERSION = '0.5.1';

export const CDEVENT_TYPES = {
  pipelineRunQueued: 'dev.cdevents.pipelinerun.queued.0.3.0',
  pipelineRunStarted: 'dev.cdevents.pipelinerun.started.0.3.0',
  pipelineRunFinished: 'dev.cdevents.pipelinerun.finished.0.3.0',
  // v0.5.1 has no taskrun.queued: a job entering the queue sends nothing.
  taskRunStarted: 'dev.cdevents.taskrun.started.0.3.0',
  taskRunFinished: 'dev.cdevents.taskrun.finished.0.3.0',
} as const;
export type CdeventType = (typeof CDEVENT_TYPES)[keyof typeof CDEVENT_TYPES];

/** `outcome` of pipelinerun.finished and taskrun.finished. */
export type CdeventOutcome = 'success' | 'failure' | 'cancel' | 'error';

export interface CdeventContext {
  readonly specversion: string;
  readonly id: string;
  readonly source: string;
  readonly type: CdeventType;
  readonly timestamp: string;
}

export interface PipelineRunContent {
  readonly pipelineName?: string;
  readonly uri?: string;
  readonly outcome?: CdeventOutcome;
  readonly errors?: string;
}

export interface TaskRunContent {
  readonly taskName?: string;
  readonly uri?: string;
  readonly pipelineRun?: { readonly id: string; readonly source?: string };
  readonly outcome?: CdeventOutcome;
  readonly errors?: string;
}

export interface CdEvent {
  readonly context: CdeventContext;
  readonly subject: { readonly id: string; readonly source?: string; readonly content: PipelineRunContent | TaskRunContent };
  /** Switchyard's own fields (JSON, so embedded as is per the CloudEvents binding). */
  readonly customData?: Record<string, unknown>;
  readonly customDataContentType?: string;
}
