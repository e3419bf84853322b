import type { CiStatus, RunnerState } from '../model.ts';

/**
 * Switchyard's status vocabulary in the OpenTelemetry CI/CD semantic
 * conventions (`cicd.pipeline.result`, `cicd.pipeline.run.state`,
 * `cicd.worker.state`, semantic conventions 1.45).
 * Pure: the README's mapping table is this file.
 */
export type CicdPipelineResult = 'success' | 'failure' | 'error' | 'timeout' | 'cancellation' | 'skip';
export type CicdRunState = 'pending' | 'executing' | 'finalizing';
export type CicdWorkerState = 'available' | 'busy' | 'offline';

const RESULTS: Partial<Record<CiStatus, CicdPipelineResult>> = {
  SUCCESS: 'success',
  // The conventions have no "unstable": it did not finish successfully (error.type keeps UNSTABLE).
  UNSTABLE: 'failure',
  FAILURE: 'failure',
  TIMED_OUT: 'timeout',
  ERROR: 'error',
  CANCELED: 'cancellation',
  SKIPPED: 'skip',
};

const RUN_STATES: Partial<Record<CiStatus, CicdRunState>> = {
  PENDING: 'pending',
  QUEUED: 'pending',
  WAITING: 'pending',
  RUNNING: 'executing',
  CANCELING: 'finalizing',
};

/** The result of a finished run; null while it runs (and for UNKNOWN). */
export function pipelineResult(status: CiStatus): CicdPipelineResult | null {
  return RESULTS[status] ?? null;
}

/** The state of a run that has not finished; null once finished (and for UNKNOWN). */
export function pipelineRunState(status: CiStatus): CicdRunState | null {
  return RUN_STATES[status] ?? null;
}

/** `error.type` of a run that did not succeed: the unified status (bounded; keeps UNSTABLE apart from FAILURE). */
export function pipelineErrorType(status: CiStatus): string | null {
  const result = pipelineResult(status);
  return result === 'failure' || result === 'error' || result === 'timeout' ? status : null;
}

/** IDLE → available, BUSY → busy, everything else → offline (reference §4.6; a paused runner keeps its state). */
export function workerState(state: RunnerState): CicdWorkerState {
  if (state === 'BUSY') return 'busy';
  if (state === 'IDLE') return 'available';
  return 'offline';
}
