import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CI_STATUSES, RUNNER_STATES } from '../../src/model.ts';
import {
  AGENT_LOSS_ERROR_TYPES, AGENT_REMOVED_CAUSES, agentRemovedCause, JENKINS_RESULTS, mapBuildStatus, mapComputerState, mapQueueItem, mapStageStatus, QUEUE_ITEM_KINDS, WFAPI_STATUSES,
} from '../../adapters/jenkins/status-map.ts';

describe('jenkins status map: builds (core hudson/model/Result.java)', () => {
  it.each([
    ['SUCCESS', false, 'SUCCESS'],
    ['UNSTABLE', false, 'UNSTABLE'],
    ['FAILURE', false, 'FAILURE'],
    ['NOT_BUILT', false, 'SKIPPED'],
    ['ABORTED', false, 'CANCELED'],
    [null, true, 'RUNNING'],
    // result is set before post-build steps end: building still decides.
    ['SUCCESS', true, 'RUNNING'],
    [null, false, 'UNKNOWN'],
    ['EXPLODED', false, 'UNKNOWN'],
  ])('%s (building=%s) → %s', (result, building, expected) => {
    expect(mapBuildStatus(result, building)).toEqual({ status: expected, waitReason: null });
  });

  it('maps every documented result to a known status', () => {
    for (const r of JENKINS_RESULTS) expect(mapBuildStatus(r, false).status).not.toBe('UNKNOWN');
  });
});

describe('jenkins status map: wfapi stages (pipeline-stage-view StatusExt)', () => {
  it.each([
    ['SUCCESS', 'SUCCESS', null],
    ['FAILED', 'FAILURE', null],
    ['UNSTABLE', 'UNSTABLE', null],
    ['ABORTED', 'CANCELED', null],
    ['IN_PROGRESS', 'RUNNING', null],
    ['PAUSED_PENDING_INPUT', 'WAITING', 'INPUT'],
    // §7: not-yet-started stages are absent; NOT_EXECUTED is a skipped stage.
    ['NOT_EXECUTED', 'SKIPPED', null],
    ['WHATEVER', 'UNKNOWN', null],
  ])('%s → %s/%s', (status, expected, reason) => {
    expect(mapStageStatus(status)).toEqual({ status: expected, waitReason: reason });
  });

  it('maps every listed StatusExt value to a known status', () => {
    for (const s of WFAPI_STATUSES) expect(mapStageStatus(s).status).not.toBe('UNKNOWN');
  });
});

describe('jenkins status map: a lost agent is ERROR (infrastructure), not the pipeline\'s FAILURE', () => {
  it.each(AGENT_LOSS_ERROR_TYPES.map((t) => [t]))('FAILED with error.type %s → ERROR', (type) => {
    expect(mapStageStatus('FAILED', type)).toEqual({ status: 'ERROR', waitReason: null });
  });

  it.each([
    ['FAILED', 'hudson.AbortException', false, 'FAILURE'],
    ['FAILED', null, false, 'FAILURE'],
    // A MissingContextVariableException is also what `sh` outside `node` throws: the pipeline's own mistake.
    ['FAILED', 'org.jenkinsci.plugins.workflow.steps.MissingContextVariableException', false, 'FAILURE'],
    // A stage that failed on its own before the agent went away stays FAILURE.
    ['FAILED', 'hudson.AbortException', true, 'FAILURE'],
    ['ABORTED', 'org.jenkinsci.plugins.workflow.steps.FlowInterruptedException', true, 'ERROR'],
    ['ABORTED', 'org.jenkinsci.plugins.workflow.steps.FlowInterruptedException', false, 'CANCELED'],
    ['SUCCESS', null, true, 'SUCCESS'],
    // Only a FAILED node's error type counts.
    ['ABORTED', 'hudson.remoting.ChannelClosedException', false, 'CANCELED'],
  ])('%s with %s (agent removed: %s) → %s', (status, type, removed, expected) => {
    expect(mapStageStatus(status, type, removed).status).toBe(expected);
  });

  it('finds the removal cause among a build\'s interruption causes', () => {
    for (const c of AGENT_REMOVED_CAUSES) expect(agentRemovedCause([null, 'hudson.model.Cause$UserIdCause', c])).toBe(c);
    expect(agentRemovedCause(['org.jenkinsci.plugins.workflow.steps.TimeoutStepExecution$ExceededTimeout', null])).toBeNull();
  });

  it('the error type and removal change nothing but a FAILED or ABORTED node (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...WFAPI_STATUSES), fc.string()), fc.oneof(fc.constantFrom(...AGENT_LOSS_ERROR_TYPES), fc.string(), fc.constant(null)), fc.boolean(), (status, type, removed) => {
        const plain = mapStageStatus(status);
        const mapped = mapStageStatus(status, type, removed);
        const lost = (status === 'FAILED' && (AGENT_LOSS_ERROR_TYPES as readonly unknown[]).includes(type)) || (status === 'ABORTED' && removed);
        expect(mapped).toEqual(lost ? { status: 'ERROR', waitReason: null } : plain);
      }),
    );
  });
});

describe('jenkins status map: queue items (core hudson/model/Queue.java)', () => {
  it.each([
    ['BuildableItem', 'Waiting for next available executor on ‘linux’', 'QUEUED', null],
    ['BlockedItem', 'Build #12 is already in progress (ETA: 1 min 3 sec)', 'WAITING', 'CONCURRENCY'],
    ['BlockedItem', 'Waiting for resource lock ‘db’', 'WAITING', 'RESOURCE'],
    ['WaitingItem', 'In the quiet period. Expires in 4.9 sec', 'WAITING', 'SCHEDULED'],
  ])('%s (%s) → %s/%s', (kind, why, expected, reason) => {
    expect(mapQueueItem(kind, why)).toEqual({ status: expected, waitReason: reason });
  });

  it('maps every queue kind', () => {
    for (const k of QUEUE_ITEM_KINDS) expect(CI_STATUSES).toContain(mapQueueItem(k, null).status);
  });
});

describe('jenkins status map: computers', () => {
  it.each([
    [false, false, 0, 'IDLE'],
    [false, false, 2, 'BUSY'],
    [true, false, 0, 'OFFLINE'],
    [true, true, 0, 'OFFLINE'],
    [true, true, 1, 'BUSY'],
    [null, null, 0, 'UNKNOWN'],
  ])('offline=%s temporarilyOffline=%s busy=%s → %s', (offline, temp, busy, expected) => {
    expect(mapComputerState(offline, temp, busy)).toBe(expected);
  });
});

describe('jenkins status map: totality', () => {
  const anything = fc.oneof(fc.string(), fc.constantFrom(...JENKINS_RESULTS, ...WFAPI_STATUSES, ...QUEUE_ITEM_KINDS), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.object());

  it('every input gives a valid status, with waitReason set exactly when WAITING', () => {
    fc.assert(
      fc.property(anything, anything, anything, (a, b, c) => {
        for (const m of [mapBuildStatus(a, b), mapStageStatus(a), mapStageStatus(a, b, c === true), mapQueueItem(a, c)]) {
          expect(CI_STATUSES).toContain(m.status);
          expect(m.waitReason !== null).toBe(m.status === 'WAITING');
        }
        expect(RUNNER_STATES).toContain(mapComputerState(a, b, typeof c === 'number' ? c : 0));
      }),
    );
  });
});
