import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { BackendEntry } from '../../src/backend-registry.ts';
import { FollowUps } from '../../src/actions/follow-up.ts';
import type { Ingestor } from '../../src/ingest/ingestor.ts';
import type { PipelineModel } from '../../src/model.ts';
import { LiveState } from '../../src/state/live-state.ts';
import { createBackendPolicy } from '../../src/resilience/backend-policy.ts';

/** The follow-up's bounds (issue 15 item 8): a schedule that ends, a cap on those in flight, and stop at shutdown. */
function pipeline(status: PipelineModel['status'], attempt = 1): PipelineModel {
  return {
    type: 'Pipeline', backend: 'b', nativeId: 'p1', revision: [attempt], projectNativeId: 'x', number: 1, name: null, status, waitReason: null,
    native: { provider: 'testci', status: null, conclusion: null, failureReason: null }, attempt, url: null, branch: 'main', ref: 'main', commitSha: null,
    event: null, actor: null, createdAt: '2026-01-01T00:00:00Z', queuedAt: null, startedAt: null, finishedAt: null, updatedAt: '2026-01-01T00:00:00Z',
  };
}

function setup(reads: { n: number }, answer: () => PipelineModel) {
  const adapter = {
    owns: () => true,
    batch: {
      pipelines: async () => (reads.n++, [answer()]),
      jobsOfPipelines: async () => [[]],
    },
  };
  const backend = { name: 'b', adapter, policy: createBackendPolicy('b') } as unknown as BackendEntry;
  const ingested: unknown[] = [];
  const ingestor = { ingest: (e: unknown[]) => (ingested.push(...e), e.length) } as unknown as Ingestor;
  return { backend, ingested, ingestor };
}

describe('action follow-ups', () => {
  it('should re-read on its schedule until the change shows, then stop', async () => {
    const reads = { n: 0 };
    const { backend, ingestor, ingested } = setup(reads, () => (reads.n >= 3 ? pipeline('CANCELED') : pipeline('RUNNING')));
    const followUps = new FollowUps(new LiveState(), ingestor, pino({ level: 'silent' }), { scheduleMs: [5, 5, 5, 5, 5, 5, 5, 5] });
    expect(followUps.start({ backend, pipelineNativeId: 'p1', before: pipeline('RUNNING') })).toBe(true);
    await expect.poll(() => followUps.inFlight).toBe(0);
    // The third read showed the change (CANCELED): no read after it.
    expect(reads.n).toBe(3);
    expect(ingested).toHaveLength(3);
  });

  it('should follow a cancel or reject past a first change that is not its end (untilFinished), and stop at the end', async () => {
    // A Jenkins reject: WAITING at the input, RUNNING while the aborted build winds down, then CANCELED.
    const reads = { n: 0 };
    const { backend, ingestor } = setup(reads, () => (reads.n >= 3 ? pipeline('CANCELED') : pipeline('RUNNING')));
    const followUps = new FollowUps(new LiveState(), ingestor, pino({ level: 'silent' }), { scheduleMs: [5, 5, 5, 5, 5, 5, 5, 5] });
    followUps.start({ backend, pipelineNativeId: 'p1', before: pipeline('WAITING'), untilFinished: true });
    await expect.poll(() => followUps.inFlight).toBe(0);
    expect(reads.n).toBe(3);

    // Without it, the first change (RUNNING) ends the follow-up.
    const plain = { n: 0 };
    const second = setup(plain, () => (plain.n >= 3 ? pipeline('CANCELED') : pipeline('RUNNING')));
    const changeOnly = new FollowUps(new LiveState(), second.ingestor, pino({ level: 'silent' }), { scheduleMs: [5, 5, 5, 5, 5, 5, 5, 5] });
    changeOnly.start({ backend: second.backend, pipelineNativeId: 'p1', before: pipeline('WAITING') });
    await expect.poll(() => changeOnly.inFlight).toBe(0);
    expect(plain.n).toBe(1);
  });

  it('should give up when the schedule ends, cap those in flight, and end them all at stop()', async () => {
    const reads = { n: 0 };
    const { backend, ingestor } = setup(reads, () => pipeline('RUNNING'));
    const ended = new FollowUps(new LiveState(), ingestor, pino({ level: 'silent' }), { scheduleMs: [1, 1, 1] });
    ended.start({ backend, pipelineNativeId: 'p1', before: pipeline('RUNNING') });
    await expect.poll(() => ended.inFlight).toBe(0);
    expect(reads.n).toBe(3);

    const capped = new FollowUps(new LiveState(), ingestor, pino({ level: 'silent' }), { scheduleMs: [60_000], maxInFlight: 2 });
    const target = { backend, pipelineNativeId: 'p1', before: pipeline('RUNNING') };
    expect([capped.start(target), capped.start(target), capped.start(target)]).toEqual([true, true, false]);
    expect(capped.inFlight).toBe(2);
    capped.stop();
    expect(capped.inFlight).toBe(0);
    expect(capped.start(target)).toBe(false);
    expect(reads.n).toBe(3);
  });
});
