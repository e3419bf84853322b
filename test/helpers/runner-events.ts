import type { RunnerEvent } from '../../src/events/event-types.ts';
import type { RunnerModel } from '../../src/model.ts';

/** An idle GitHub org runner named `name` (nativeId = name). */
export const idleRunner = (name: string): RunnerModel => ({
  type: 'Runner', backend: 'gh', nativeId: name, revision: [1], name, state: 'IDLE', paused: false, labels: [], os: null,
  scope: 'ORGANIZATION', ephemeral: false, version: null, currentJobNativeId: null,
  native: { provider: 'github', status: 'online', conclusion: null, failureReason: null },
});

/** A polled Runner event for `idleRunner(name)` with the given sequence. */
export const runnerEvent = (name: string, sequence: number): RunnerEvent => ({
  type: 'Runner', runner: idleRunner(name), previousState: null, sequence, source: 'POLL', receivedAt: new Date(0).toISOString(),
});
