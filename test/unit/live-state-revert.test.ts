import { describe, expect, it } from 'vitest';
import type { JobModel } from '../../src/model.ts';
import { LiveState } from '../../src/state/live-state.ts';

describe('LiveState.revert', () => {
  const job = (status: JobModel['status'], revision: number[]): JobModel => ({
    type: 'Job', backend: 'gh', nativeId: 'o/r/jobs/1', revision, projectNativeId: 'o/r', pipelineNativeId: 'o/r/runs/1',
    name: 'build', status, waitReason: null, native: { provider: 'github', status: null, conclusion: null, failureReason: null },
    attempt: 1, url: null, labels: [], runnerNativeId: null, runnerName: null, branch: null,
    createdAt: null, queuedAt: null, startedAt: null, finishedAt: null, steps: [],
  });

  it('should undo an unpublished change so the same observation is news again, unless newer state replaced it', () => {
    const state = new LiveState();
    const queued = job('QUEUED', [1]);
    const running = job('RUNNING', [2]);
    state.apply(queued, 0);
    state.apply(running, 0);
    state.revert(running, queued);
    expect(state.get('Job', 'gh', 'o/r/jobs/1')?.status).toBe('QUEUED');
    expect(state.apply(job('RUNNING', [2]), 0).kind).toBe('changed');

    const done = job('SUCCESS', [3]);
    state.apply(done, 0);
    state.revert(running, queued);
    expect(state.get('Job', 'gh', 'o/r/jobs/1')?.status).toBe('SUCCESS');

    const fresh = new LiveState();
    fresh.apply(queued, 0);
    fresh.revert(queued, null);
    expect(fresh.get('Job', 'gh', 'o/r/jobs/1')).toBeUndefined();
  });
});
