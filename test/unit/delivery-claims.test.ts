import { describe, expect, it } from 'vitest';
import { CLAIM_TTL_MS, MemoryDeliveryDedupe } from '../../src/ingest/delivery-dedupe.ts';
import type { JobModel } from '../../src/model.ts';
import { LiveState } from '../../src/state/live-state.ts';

describe('webhook delivery claims', () => {
  it('should say in-progress while claimed, done once completed, and free a released or expired claim', async () => {
    let now = 0;
    const dedupe = new MemoryDeliveryDedupe(3600_000, 100, () => now);
    expect(await dedupe.claim('a')).toBe('claimed');
    expect(await dedupe.claim('a')).toBe('in-progress');
    await dedupe.complete('a');
    expect(await dedupe.claim('a')).toBe('done');

    expect(await dedupe.claim('b')).toBe('claimed');
    await dedupe.release('b');
    expect(await dedupe.claim('b')).toBe('claimed');
    // The instance holding the claim died: after the TTL a retry may take it.
    now += CLAIM_TTL_MS;
    expect(await dedupe.claim('b')).toBe('claimed');
    expect(await dedupe.claim('a')).toBe('done');
  });
});

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
