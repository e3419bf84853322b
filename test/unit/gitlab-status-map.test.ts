import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CI_STATUSES } from '../../src/model.ts';
import {
  GITLAB_FAILURE_REASONS, GITLAB_STATUSES, mapJobStatus, mapPipelineStatus, mapRunnerState, mapStatus, runnerPaused,
} from '../../adapters/gitlab/status-map.ts';
import { gitlabStatusFilter } from '../../adapters/gitlab/list.ts';

describe('GitLab status map', () => {
  // ci-backends.md §4.5: every one of the 13 AVAILABLE_STATUSES.
  it.each([
    ['created', 'PENDING', null],
    ['waiting_for_resource', 'WAITING', 'RESOURCE'],
    ['preparing', 'QUEUED', null],
    ['waiting_for_callback', 'WAITING', 'CALLBACK'],
    ['pending', 'QUEUED', null],
    ['running', 'RUNNING', null],
    ['success', 'SUCCESS', null],
    ['failed', 'FAILURE', null],
    ['canceling', 'CANCELING', null],
    ['canceled', 'CANCELED', null],
    ['skipped', 'SKIPPED', null],
    ['manual', 'WAITING', 'MANUAL'],
    ['scheduled', 'WAITING', 'SCHEDULED'],
  ])('should map %s to %s/%s for jobs and pipelines', (native, status, waitReason) => {
    expect(mapJobStatus(native, null, false)).toEqual({ status, waitReason });
    expect(mapPipelineStatus(native, null)).toEqual({ status, waitReason });
  });

  it('should cover all 13 statuses', () => {
    expect(GITLAB_STATUSES).toHaveLength(13);
    for (const s of GITLAB_STATUSES) expect(mapStatus(s).status).not.toBe('UNKNOWN');
  });

  const expected: Record<string, string> = {
    job_execution_timeout: 'TIMED_OUT', stuck_or_timeout_failure: 'TIMED_OUT',
    runner_system_failure: 'ERROR', api_failure: 'ERROR', scheduler_failure: 'ERROR', data_integrity_failure: 'ERROR',
    runner_unsupported: 'ERROR', archived_failure: 'ERROR', stale_schedule: 'ERROR',
    unknown_failure: 'FAILURE', script_failure: 'FAILURE', missing_dependency_failure: 'FAILURE', unmet_prerequisites: 'FAILURE',
    forward_deployment_failure: 'FAILURE', downstream_pipeline_creation_failed: 'FAILURE',
  };
  it.each(GITLAB_FAILURE_REASONS.map((r) => [r]))('should map failed + %s to a failure outcome', (reason) => {
    const m = mapJobStatus('failed', reason, false);
    expect(['FAILURE', 'TIMED_OUT', 'ERROR']).toContain(m.status);
    if (expected[reason]) expect(m.status).toBe(expected[reason]);
    // allow_failure wins over the reason.
    expect(mapJobStatus('failed', reason, true).status).toBe('UNSTABLE');
  });

  it('should read failure_reason only when the job failed (Job Hook says unknown_failure otherwise)', () => {
    expect(mapJobStatus('success', 'unknown_failure', false).status).toBe('SUCCESS');
    expect(mapJobStatus('running', 'job_execution_timeout', false).status).toBe('RUNNING');
    expect(mapJobStatus('failed', 'something_new', false).status).toBe('FAILURE');
  });

  it('should show pipelines that passed with warnings as UNSTABLE (REST group and hook label)', () => {
    expect(mapPipelineStatus('success', { group: 'success-with-warnings' }).status).toBe('UNSTABLE');
    expect(mapPipelineStatus('success', { group: 'success_with_warnings' }).status).toBe('UNSTABLE');
    expect(mapPipelineStatus('success', 'passed with warnings').status).toBe('UNSTABLE');
    expect(mapPipelineStatus('success', { group: 'success' }).status).toBe('SUCCESS');
    expect(mapPipelineStatus('failed', 'passed with warnings').status).toBe('FAILURE');
  });

  it('should map unknown and non-string values to UNKNOWN (total, waitReason iff WAITING)', () => {
    expect(mapStatus('new_future_status')).toEqual({ status: 'UNKNOWN', waitReason: null });
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (s, r, a) => {
        for (const m of [mapJobStatus(s, r, a), mapPipelineStatus(s, r), mapStatus(s)]) {
          expect(CI_STATUSES).toContain(m.status);
          expect(m.waitReason !== null).toBe(m.status === 'WAITING');
        }
      }),
    );
  });

  it('should derive runner state from online/status/job_execution_status, pause separately', () => {
    expect(mapRunnerState({ online: true, status: 'online', jobExecutionStatus: 'idle' })).toBe('IDLE');
    expect(mapRunnerState({ online: true, status: 'online', jobExecutionStatus: 'active' })).toBe('BUSY');
    expect(mapRunnerState({ online: true, status: 'paused', jobExecutionStatus: 'idle' })).toBe('IDLE');
    expect(mapRunnerState({ online: true, status: 'online', busy: true })).toBe('BUSY');
    expect(mapRunnerState({ online: false, status: 'offline' })).toBe('OFFLINE');
    expect(mapRunnerState({ online: false, status: 'paused' })).toBe('OFFLINE');
    expect(mapRunnerState({ online: false, status: 'stale' })).toBe('STALE');
    expect(mapRunnerState({ online: null, status: 'never_contacted' })).toBe('NEVER_CONTACTED');
    expect(mapRunnerState({ status: 'paused', contactedAt: 1000, nowMs: 2000 })).toBe('IDLE');
    expect(mapRunnerState({ status: 'weird' })).toBe('UNKNOWN');
    expect(runnerPaused(true, undefined, 'online')).toBe(true);
    expect(runnerPaused(undefined, false, 'online')).toBe(true);
    expect(runnerPaused(undefined, undefined, 'paused')).toBe(true);
    expect(runnerPaused(false, undefined, 'paused')).toBe(false);
  });

  it('should turn unified status filters into one upstream value where possible', () => {
    expect(gitlabStatusFilter(['RUNNING'])).toBe('running');
    expect(gitlabStatusFilter(['QUEUED'])).toBeUndefined();
    expect(gitlabStatusFilter(['TIMED_OUT'])).toBeNull();
    expect(gitlabStatusFilter(['SUCCESS', 'UNSTABLE'])).toBe('success');
    expect(gitlabStatusFilter(['UNKNOWN'])).toBeUndefined();
  });
});
