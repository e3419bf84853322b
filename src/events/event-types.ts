import type { CiStatus, JobModel, PipelineModel, RunnerModel, RunnerState } from '../model.ts';

/** How the gateway learned of a change. */
export type EventSource = 'WEBHOOK' | 'POLL' | 'DERIVED';

interface EventBase {
  /** Monotonic per gateway process; orders events for one entity. */
  readonly sequence: number;
  readonly source: EventSource;
  /** ISO time the gateway received the change. */
  readonly receivedAt: string;
  /**
   * Opaque resume position, assigned by the event bus when it publishes the
   * event (publishers leave it out). Every event a subscriber receives has one.
   */
  readonly cursor?: string;
}

export interface JobEvent extends EventBase {
  readonly type: 'Job';
  readonly job: JobModel;
  readonly previousStatus: CiStatus | null;
}

export interface PipelineEvent extends EventBase {
  readonly type: 'Pipeline';
  readonly pipeline: PipelineModel;
  readonly previousStatus: CiStatus | null;
}

export interface RunnerEvent extends EventBase {
  readonly type: 'Runner';
  readonly runner: RunnerModel;
  readonly previousState: RunnerState | null;
}

export type ChangeEvent = JobEvent | PipelineEvent | RunnerEvent;
export type ChangeEventByType = { Job: JobEvent; Pipeline: PipelineEvent; Runner: RunnerEvent };
export type EventType = ChangeEvent['type'];
/** An event as the bus delivers it: with its cursor. */
export type WithCursor<T extends ChangeEvent> = T & { readonly cursor: string };
