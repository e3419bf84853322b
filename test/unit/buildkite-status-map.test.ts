import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CI_STATUSES } from '../../src/model.ts';
import {
  AGENT_CONNECTION_STATES, BUILD_STATES, JOB_STATES, agentPaused, mapAgentState, mapBuildStatus, mapJobStatus,
} from '../../adapters/buildkite/status-map.ts';
import { upstreamStates } from '../../adapters/buildkite/list.ts';

describe('Buildkite status map', () => {
  it('should read a blocked build from the flag, not the state (reference §6.1)', () => {
    expect(mapBuildStatus('passed', true)).toEqual({ status: 'WAITING', waitReason: 'APPROVAL' });
    expect(mapBuildStatus('passed', false)).toEqual({ status: 'SUCCESS', waitReason: null });
    expect(mapBuildStatus('blocked', undefined)).toEqual({ status: 'WAITING', waitReason: 'APPROVAL' });
    expect(mapBuildStatus('failed', true)).toEqual({ status: 'FAILURE', waitReason: null });
  });

  it('should keep a failing build RUNNING (§6.2)', () => {
    expect(mapBuildStatus('failing', false).status).toBe('RUNNING');
  });

  it('should map soft-failed jobs to UNSTABLE before any other failure detail (§6.3)', () => {
    expect(mapJobStatus({ state: 'failed', softFailed: true, exitStatus: -1, signalReason: 'agent_stop' }).status).toBe('UNSTABLE');
  });

  it('should blame the platform, not the code, for a lost agent or an infra signal', () => {
    expect(mapJobStatus({ state: 'failed', exitStatus: -1 }).status).toBe('ERROR');
    expect(mapJobStatus({ state: 'failed', exitStatus: 1, signalReason: 'process_run_error' }).status).toBe('ERROR');
    expect(mapJobStatus({ state: 'failed', exitStatus: 1 }).status).toBe('FAILURE');
    expect(mapJobStatus({ state: 'failed', signalReason: 'cancel' }).status).toBe('CANCELED');
  });

  it('should read GraphQL `finished` by its exit status', () => {
    expect(mapJobStatus({ state: 'finished', exitStatus: 0 }).status).toBe('SUCCESS');
    expect(mapJobStatus({ state: 'finished', passed: true }).status).toBe('SUCCESS');
    expect(mapJobStatus({ state: 'finished', exitStatus: 3 }).status).toBe('FAILURE');
  });

  it('should know every documented build and job state', () => {
    for (const s of BUILD_STATES) expect(mapBuildStatus(s, false).status, s).not.toBe('UNKNOWN');
    for (const s of JOB_STATES) expect(mapJobStatus({ state: s }).status, s).not.toBe('UNKNOWN');
  });

  it('should map any other value to UNKNOWN, with waitReason exactly when WAITING (property)', () => {
    fc.assert(fc.property(fc.anything(), fc.anything(), fc.anything(), fc.anything(), (state, soft, exit, signal) => {
      for (const m of [mapBuildStatus(state, soft), mapJobStatus({ state, softFailed: soft, exitStatus: exit, signalReason: signal })]) {
        expect(CI_STATUSES).toContain(m.status);
        expect(m.waitReason !== null).toBe(m.status === 'WAITING');
      }
      if (typeof state !== 'string' || !(BUILD_STATES as readonly string[]).includes(state)) expect(mapBuildStatus(state, false).status).toBe('UNKNOWN');
    }));
  });

  it.each([
    ['connected', false, 'IDLE', false],
    ['connected', true, 'BUSY', false],
    ['stopping', true, 'BUSY', true],
    ['stopping', false, 'IDLE', true],
    ['disconnected', false, 'OFFLINE', false],
    ['stopped', false, 'OFFLINE', false],
    ['lost', true, 'OFFLINE', false],
    ['never_connected', false, 'NEVER_CONTACTED', false],
    ['rebooting', false, 'UNKNOWN', false],
  ] as const)('should map agent %s (job: %s) to %s, paused %s', (state, hasJob, expected, paused) => {
    expect(mapAgentState(state, hasJob)).toBe(expected);
    expect(agentPaused(state, undefined)).toBe(paused);
  });

  it('should cover every agent connection state', () => {
    for (const s of AGENT_CONNECTION_STATES) expect(mapAgentState(s, false)).not.toBe('UNKNOWN');
  });

  it('should list `passed` when WAITING is asked for (blocked builds read passed + blocked) and nothing for statuses no build has', () => {
    expect(upstreamStates(['WAITING'])).toEqual(expect.arrayContaining(['blocked', 'passed']));
    expect(upstreamStates(['ERROR', 'TIMED_OUT'])).toEqual([]);
    expect(upstreamStates(['UNKNOWN'])).toBeUndefined();
    expect(upstreamStates(['RUNNING'])).toEqual(['running', 'failing']);
  });
});
