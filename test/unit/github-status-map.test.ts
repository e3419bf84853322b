import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CI_STATUSES, RUNNER_STATES } from '../../src/model.ts';
import {
  GITHUB_RUN_CONCLUSIONS, GITHUB_RUN_STATUSES, mapJobStatus, mapRunnerState, mapRunStatus, mapStepStatus,
} from '../../adapters/github/status-map.ts';

describe('github status map: runs', () => {
  it.each([
    ['requested', null, 'PENDING', null],
    ['queued', null, 'QUEUED', null],
    ['pending', null, 'WAITING', 'CONCURRENCY'],
    ['waiting', null, 'WAITING', 'APPROVAL'],
    ['in_progress', null, 'RUNNING', null],
    ['completed', 'success', 'SUCCESS', null],
    ['completed', 'neutral', 'SUCCESS', null],
    ['completed', 'failure', 'FAILURE', null],
    ['completed', 'timed_out', 'TIMED_OUT', null],
    ['completed', 'cancelled', 'CANCELED', null],
    ['completed', 'skipped', 'SKIPPED', null],
    ['completed', 'startup_failure', 'ERROR', null],
    ['completed', 'stale', 'ERROR', null],
    ['completed', 'action_required', 'WAITING', 'APPROVAL'],
    ['completed', null, 'UNKNOWN', null],
    ['completed', 'brand_new', 'UNKNOWN', null],
    ['teleporting', null, 'UNKNOWN', null],
    [null, null, 'UNKNOWN', null],
    // No status but a conclusion: only a finished run has one.
    [null, 'failure', 'FAILURE', null],
  ])('%s + %s → %s/%s', (status, conclusion, expected, reason) => {
    expect(mapRunStatus(status, conclusion)).toEqual({ status: expected, waitReason: reason });
  });

  it('covers every listed upstream value with a non-UNKNOWN mapping', () => {
    for (const s of GITHUB_RUN_STATUSES.filter((x) => x !== 'completed')) expect(mapRunStatus(s, null).status).not.toBe('UNKNOWN');
    for (const c of GITHUB_RUN_CONCLUSIONS) expect(mapRunStatus('completed', c).status).not.toBe('UNKNOWN');
  });

  it('a known status wins over a stray conclusion (noisy payloads)', () => {
    expect(mapRunStatus('queued', 'success').status).toBe('QUEUED');
  });

  it('does not treat prototype keys as statuses', () => {
    expect(mapRunStatus('constructor', 'toString').status).toBe('UNKNOWN');
    expect(mapJobStatus('__proto__', 'hasOwnProperty').status).toBe('UNKNOWN');
  });
});

describe('github status map: jobs and steps', () => {
  it.each([
    ['requested', null, 'PENDING', null],
    ['queued', null, 'QUEUED', null],
    ['pending', null, 'WAITING', 'CONCURRENCY'],
    ['waiting', null, 'WAITING', 'APPROVAL'],
    ['in_progress', null, 'RUNNING', null],
    ['completed', 'success', 'SUCCESS', null],
    ['completed', 'neutral', 'SUCCESS', null],
    ['completed', 'failure', 'FAILURE', null],
    ['completed', 'timed_out', 'TIMED_OUT', null],
    ['completed', 'cancelled', 'CANCELED', null],
    ['completed', 'skipped', 'SKIPPED', null],
    ['completed', 'action_required', 'WAITING', 'APPROVAL'],
    ['completed', 'startup_failure', 'UNKNOWN', null], // run-only value
  ])('job %s + %s → %s/%s', (status, conclusion, expected, reason) => {
    expect(mapJobStatus(status, conclusion)).toEqual({ status: expected, waitReason: reason });
  });

  it.each([
    ['pending', null, 'PENDING'],
    ['queued', null, 'QUEUED'],
    ['waiting', null, 'WAITING'],
    ['in_progress', null, 'RUNNING'],
    ['completed', 'success', 'SUCCESS'],
    ['completed', 'failure', 'FAILURE'],
    ['completed', 'skipped', 'SKIPPED'],
    ['completed', 'cancelled', 'CANCELED'],
  ])('step %s + %s → %s', (status, conclusion, expected) => {
    expect(mapStepStatus(status, conclusion).status).toBe(expected);
  });
});

describe('github runner state', () => {
  it.each([
    ['offline', false, 'OFFLINE'],
    ['offline', true, 'OFFLINE'],
    ['online', true, 'BUSY'],
    ['online', false, 'IDLE'],
    ['online', undefined, 'UNKNOWN'],
    ['rebooting', false, 'UNKNOWN'],
    [null, null, 'UNKNOWN'],
  ])('%s busy=%s → %s', (status, busy, expected) => {
    expect(mapRunnerState(status, busy)).toBe(expected);
  });
});

describe('github status map properties', () => {
  const anyValue = fc.oneof(
    fc.string(),
    fc.constantFrom(...GITHUB_RUN_STATUSES, ...GITHUB_RUN_CONCLUSIONS, 'pending', 'waiting', '__proto__', 'constructor'),
    fc.constant(null),
    fc.constant(undefined),
    fc.integer(),
    fc.object(),
  );

  it('never throws, returns a valid CiStatus, waitReason iff WAITING', () => {
    fc.assert(
      fc.property(anyValue, anyValue, (status, conclusion) => {
        for (const map of [mapRunStatus, mapJobStatus, mapStepStatus]) {
          const m = map(status, conclusion);
          expect(CI_STATUSES).toContain(m.status);
          expect(m.waitReason !== null).toBe(m.status === 'WAITING');
        }
        expect(RUNNER_STATES).toContain(mapRunnerState(status, conclusion));
      }),
      { numRuns: 2000 },
    );
  });
});
