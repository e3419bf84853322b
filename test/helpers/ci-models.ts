import type { JobModel, PipelineModel, RunnerModel } from '../../src/model.ts';

/** Model builders for constructed histories and live states: every field set, overrides last. */
export function job(nativeId: string, over: Partial<JobModel> = {}): JobModel {
  return {
    type: 'Job', backend: 'gh', nativeId, revision: [1], projectNativeId: 'acme/web', pipelineNativeId: `${nativeId}-p`, name: 'test',
    status: 'SUCCESS', waitReason: null, native: { provider: 'github', status: 'completed', conclusion: 'success', failureReason: null },
    attempt: 1, url: null, labels: [], runnerNativeId: null, runnerName: null, branch: 'main',
    createdAt: '2026-01-01T10:00:00.000Z', queuedAt: null, startedAt: null, finishedAt: null, steps: [], ...over,
  };
}

export function pipeline(nativeId: string, over: Partial<PipelineModel> = {}): PipelineModel {
  return {
    type: 'Pipeline', backend: 'gh', nativeId, revision: [1], projectNativeId: 'acme/web', number: 1, name: 'ci',
    status: 'SUCCESS', waitReason: null, native: { provider: 'github', status: 'completed', conclusion: 'success', failureReason: null },
    attempt: 1, url: null, branch: 'main', ref: 'refs/heads/main', commitSha: 'abc', event: 'push', actor: null,
    createdAt: '2026-01-01T10:00:00.000Z', queuedAt: null, startedAt: null, finishedAt: null, updatedAt: null, ...over,
  };
}

export function runner(nativeId: string, labels: string[], over: Partial<RunnerModel> = {}): RunnerModel {
  return {
    type: 'Runner', backend: 'gh', nativeId, revision: [1], name: nativeId, state: 'IDLE', paused: false, labels, os: null,
    scope: 'ORGANIZATION', ephemeral: false, version: null, currentJobNativeId: null,
    native: { provider: 'github', status: 'online', conclusion: null, failureReason: null }, ...over,
  };
}

/** `2026-01-01T<hh:mm>:00.000Z` */
export const at = (hhmm: string) => `2026-01-01T${hhmm}:00.000Z`;
