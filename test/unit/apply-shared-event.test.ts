import { describe, expect, it } from 'vitest';
import type { JobEvent } from '../../src/events/event-types.ts';
import type { CiStatus, JobModel } from '../../src/model.ts';
import { applySharedEvent } from '../../src/state/apply-shared-event.ts';
import { LiveState } from '../../src/state/live-state.ts';

const job = (status: CiStatus, revision: number[]): JobModel => ({
  type: 'Job', backend: 'gh', nativeId: 'o/r/jobs/1', revision, projectNativeId: 'o/r', pipelineNativeId: 'o/r/runs/1',
  name: 'build', status, waitReason: null, native: { provider: 'github', status: status.toLowerCase(), conclusion: null, failureReason: null },
  attempt: 1, url: null, labels: [], runnerNativeId: null, runnerName: null, branch: 'main',
  createdAt: null, queuedAt: null, startedAt: null, finishedAt: null, steps: [],
});

const event = (j: JobModel, receivedAt: number): JobEvent => ({
  type: 'Job', job: j, previousStatus: null, sequence: 1, source: 'WEBHOOK', receivedAt: new Date(receivedAt).toISOString(),
});

describe('applySharedEvent', () => {
  it('should bring the live state forward, never back to an older revision', () => {
    const state = new LiveState();
    applySharedEvent(state, event(job('RUNNING', [2]), 1000), 1000);
    expect(state.get('Job', 'gh', 'o/r/jobs/1')?.status).toBe('RUNNING');
    applySharedEvent(state, event(job('QUEUED', [1]), 1100), 1100);
    expect(state.get('Job', 'gh', 'o/r/jobs/1')?.status).toBe('RUNNING');
    applySharedEvent(state, event(job('SUCCESS', [3]), 1200), 1200);
    expect(state.get('Job', 'gh', 'o/r/jobs/1')?.status).toBe('SUCCESS');
  });

  it('should count freshness from when the publishing instance received the change', () => {
    const state = new LiveState();
    // Read 10 s after it was published (a backlog after a reconnect): 10 s old already.
    applySharedEvent(state, event(job('RUNNING', [2]), 50_000), 60_000);
    expect(state.getFresh('Job', 'gh', 'o/r/jobs/1', 60_000, 15_000)?.status).toBe('RUNNING');
    expect(state.getFresh('Job', 'gh', 'o/r/jobs/1', 60_000, 5_000)).toBeUndefined();
  });
});
