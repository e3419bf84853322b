import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { overlayRunnerFromJob } from '../../src/ingest/runner-overlay.ts';
import type { CiStatus, JobModel, RunnerModel } from '../../src/model.ts';
import { LiveState } from '../../src/state/live-state.ts';

const job = (status: CiStatus, revision: number[], runner: string | null = null): JobModel => ({
  type: 'Job', backend: 'gh', nativeId: 'o/r/jobs/1', revision, projectNativeId: 'o/r', pipelineNativeId: 'o/r/runs/1',
  name: 'build', status, waitReason: null, native: { provider: 'github', status: status.toLowerCase(), conclusion: null, failureReason: null },
  attempt: 1, url: null, labels: [], runnerNativeId: runner, runnerName: null, branch: 'main',
  createdAt: null, queuedAt: null, startedAt: null, finishedAt: null, steps: [],
});

const runner = (state: RunnerModel['state'], currentJobNativeId: string | null = null): RunnerModel => ({
  type: 'Runner', backend: 'gh', nativeId: '7', revision: [1], name: 'r7', state, paused: false, labels: [], os: null,
  scope: 'ORGANIZATION', ephemeral: false, version: null, currentJobNativeId,
  native: { provider: 'github', status: 'online', conclusion: null, failureReason: null },
});

describe('LiveState', () => {
  it('should never move an entity back to an older revision, whatever the arrival order', () => {
    const observations = [job('QUEUED', [1, 100]), job('RUNNING', [2, 200]), job('SUCCESS', [3, 300])];
    fc.assert(
      fc.property(fc.shuffledSubarray(observations, { minLength: 3, maxLength: 3 }), (order) => {
        const state = new LiveState();
        for (const o of order) state.apply(o, 0);
        expect(state.get('Job', 'gh', 'o/r/jobs/1')?.status).toBe('SUCCESS');
      }),
    );
  });

  it('should report created, changed with the previous value, unchanged and stale', () => {
    const state = new LiveState();
    expect(state.apply(job('QUEUED', [1]), 0).kind).toBe('created');
    const changed = state.apply(job('RUNNING', [2]), 0);
    expect(changed.kind).toBe('changed');
    expect(changed.kind === 'changed' && changed.previous.status).toBe('QUEUED');
    expect(state.apply(job('RUNNING', [2]), 0).kind).toBe('unchanged');
    expect(state.apply(job('QUEUED', [1]), 0).kind).toBe('stale');
  });

  it('should evict the least recently updated entries past its bound', () => {
    const state = new LiveState(100);
    for (let i = 0; i < 1000; i++) state.apply({ ...job('QUEUED', [1]), nativeId: `o/r/jobs/${i}` }, 0);
    expect(state.size).toBe(100);
    expect(state.get('Job', 'gh', 'o/r/jobs/999')).toBeDefined();
    expect(state.get('Job', 'gh', 'o/r/jobs/0')).toBeUndefined();
  });

  it('should serve fresh entries only within the freshness window', () => {
    const state = new LiveState();
    state.apply(job('RUNNING', [1]), 1000);
    expect(state.getFresh('Job', 'gh', 'o/r/jobs/1', 5000, 10_000)).toBeDefined();
    expect(state.getFresh('Job', 'gh', 'o/r/jobs/1', 20_000, 10_000)).toBeUndefined();
  });
});

describe('LiveState job lists', () => {
  const named = (id: number, name: string, status: CiStatus = 'QUEUED', attempt = 1): JobModel => ({
    ...job(status, [1]), nativeId: `o/r/jobs/${id}`, name, attempt,
  });
  const pipeline = (attempt: number) => ({
    type: 'Pipeline' as const, backend: 'gh', nativeId: 'o/r/runs/1', revision: [attempt], projectNativeId: 'o/r', number: 1, name: 'ci',
    status: 'RUNNING' as const, waitReason: null, native: { provider: 'github' as const, status: 'in_progress', conclusion: null, failureReason: null },
    attempt, url: null, branch: 'main', ref: null, commitSha: null, event: null, actor: null,
    createdAt: '2026-01-01T00:00:00Z', queuedAt: null, startedAt: null, finishedAt: null, updatedAt: null,
  });
  const names = (jobs: readonly JobModel[] | undefined) => jobs?.map((j) => j.name).sort();

  it('should keep a list read upstream complete as deliveries add jobs, and keep delivered jobs a lagging read lacks', () => {
    const state = new LiveState();
    state.apply(pipeline(1), 0);
    state.apply(named(1, 'build'), 0);
    state.apply(named(2, 'test'), 0); // delivered; the REST read below does not show it yet
    state.setPipelineJobs('gh', 'o/r/runs/1', [named(1, 'build')], 0);
    expect(names(state.getFreshPipelineJobs('gh', 'o/r/runs/1', 0, 1000))).toEqual(['build', 'test']);
    state.apply(named(3, 'deploy'), 10); // a job created later arrives by webhook
    expect(names(state.getFreshPipelineJobs('gh', 'o/r/runs/1', 10, 1000))).toEqual(['build', 'deploy', 'test']);
  });

  it('should no longer call a list complete after a retry under a known name or a new attempt', () => {
    const state = new LiveState();
    state.apply(pipeline(1), 0);
    state.setPipelineJobs('gh', 'o/r/runs/1', [named(1, 'build', 'FAILURE')].map((j) => (state.apply(j, 0), j)), 0);
    expect(state.getFreshPipelineJobs('gh', 'o/r/runs/1', 0, 1000)).toHaveLength(1);
    state.apply(named(2, 'build'), 1); // GitLab retry: a new id under the same name
    expect(state.getFreshPipelineJobs('gh', 'o/r/runs/1', 1, 1000)).toBeUndefined();

    state.setPipelineJobs('gh', 'o/r/runs/1', [named(2, 'build')], 2);
    expect(names(state.getFreshPipelineJobs('gh', 'o/r/runs/1', 2, 1000))).toEqual(['build']);
    state.apply(pipeline(2), 3); // GitHub re-run: the next attempt's jobs replace these
    expect(state.getFreshPipelineJobs('gh', 'o/r/runs/1', 3, 1000)).toBeUndefined();
  });
});

describe('overlayRunnerFromJob', () => {
  it('should make an idle runner BUSY with the running job, then IDLE when that job ends', () => {
    const busy = overlayRunnerFromJob(runner('IDLE'), job('RUNNING', [2], '7'), 10);
    expect(busy).toMatchObject({ state: 'BUSY', currentJobNativeId: 'o/r/jobs/1' });
    const idle = overlayRunnerFromJob(busy!, job('SUCCESS', [3], '7'), 20);
    expect(idle).toMatchObject({ state: 'IDLE', currentJobNativeId: null });
  });

  it('should not free a runner that moved on to another job, nor touch offline runners', () => {
    expect(overlayRunnerFromJob(runner('BUSY', 'o/r/jobs/2'), job('SUCCESS', [3], '7'), 10)).toBeNull();
    expect(overlayRunnerFromJob(runner('OFFLINE'), job('RUNNING', [2], '7'), 10)).toBeNull();
  });
});

describe('overlayRunnerFromJob with several jobs per runner', () => {
  const other = 'o/r/jobs/2';
  it('should keep a runner BUSY with another job that still runs when its current job ends', () => {
    expect(overlayRunnerFromJob(runner('BUSY', 'o/r/jobs/1'), job('SUCCESS', [3], '7'), 10, { othersRunning: [other] }))
      .toMatchObject({ state: 'BUSY', currentJobNativeId: other });
    // A second job starting does not flip the current one while that still runs.
    expect(overlayRunnerFromJob(runner('BUSY', other), job('RUNNING', [2], '7'), 10, { othersRunning: [other] })).toBeNull();
  });

  it('should leave a runner busy with unnamed work to its listing when runners run several jobs', () => {
    // GitHub (one job per runner): the job that ends was the runner's work.
    expect(overlayRunnerFromJob(runner('BUSY'), job('SUCCESS', [3], '7'), 10)).toMatchObject({ state: 'IDLE' });
    // GitLab: the listing's `active` may be other jobs.
    expect(overlayRunnerFromJob(runner('BUSY'), job('SUCCESS', [3], '7'), 10, { severalJobs: true })).toBeNull();
    expect(overlayRunnerFromJob(runner('BUSY'), job('RUNNING', [2], '7'), 10, { severalJobs: true })).toBeNull();
    expect(overlayRunnerFromJob(runner('IDLE'), job('RUNNING', [2], '7'), 10, { severalJobs: true })).toMatchObject({ state: 'BUSY', currentJobNativeId: 'o/r/jobs/1' });
  });
});

describe('RunnerJobs', () => {
  it('should track the running jobs of each runner and trust only what the live state confirms', async () => {
    const { RunnerJobs } = await import('../../src/ingest/runner-jobs.ts');
    const jobs = new RunnerJobs();
    const a = { ...job('RUNNING', [2], '7'), nativeId: 'o/r/jobs/1' };
    const b = { ...job('RUNNING', [2], '7'), nativeId: 'o/r/jobs/2' };
    jobs.observe(a);
    jobs.observe(b);
    expect(jobs.running('gh', '7', () => true)).toEqual(['o/r/jobs/1', 'o/r/jobs/2']);
    expect(jobs.running('gh', '7', () => true, 'o/r/jobs/1')).toEqual(['o/r/jobs/2']);
    jobs.observe({ ...a, status: 'SUCCESS', revision: [3] });
    expect(jobs.running('gh', '7', () => true)).toEqual(['o/r/jobs/2']);
    expect(jobs.running('gh', '7', () => false)).toEqual([]);
    expect(jobs.running('gh', '7', () => true)).toEqual([]);
  });
});

describe('keepKnownCurrentJob', () => {
  it('should keep the job a listing cannot name while that job still runs', async () => {
    const { keepKnownCurrentJob } = await import('../../src/ingest/runner-overlay.ts');
    const listed = runner('BUSY');
    const known = runner('BUSY', 'o/r/jobs/1');
    expect(keepKnownCurrentJob(listed, known, () => true).currentJobNativeId).toBe('o/r/jobs/1');
    expect(keepKnownCurrentJob(listed, known, () => false).currentJobNativeId).toBeNull();
    expect(keepKnownCurrentJob(runner('IDLE'), known, () => true).currentJobNativeId).toBeNull();
  });
});
