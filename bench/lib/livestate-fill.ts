/**
 * Synthetic live state for the live-state bench: a realistic mix per backend
 * (pipelines, about 5 jobs each, runners, projects), created over the 30 days
 * before the simulators' own runs, so the dashboard's first page is the same
 * answer whatever the size and only the state's size differs.
 */
import type { JobModel, PipelineModel, ProjectModel, RunnerModel } from '../../src/model.ts';
import type { LiveState } from '../../src/state/live-state.ts';

const JOBS_PER_PIPELINE = 5;
const PROJECTS_PER_BACKEND = 40;
const RUNNERS_PER_BACKEND = 200;
const STATUSES = ['SUCCESS', 'SUCCESS', 'SUCCESS', 'FAILURE', 'CANCELED'] as const;

export function fillLiveState(state: LiveState, backends: readonly { name: string; provider: 'github' | 'gitlab' }[], entities: number, newestMs: number): void {
  const perBackend = Math.floor(entities / backends.length);
  for (const { name: backend, provider } of backends) {
    const native = { provider, status: 'completed', conclusion: null, failureReason: null };
    for (let i = 0; i < PROJECTS_PER_BACKEND; i++) {
      const project: ProjectModel = { type: 'Project', backend, nativeId: `bench/p${i}`, revision: [1], name: `p${i}`, fullName: `bench/p${i}`, url: null, defaultBranch: 'main' };
      state.apply(project, newestMs);
    }
    for (let i = 0; i < RUNNERS_PER_BACKEND; i++) {
      const runner: RunnerModel = {
        type: 'Runner', backend, nativeId: `bench-r${i}`, revision: [1], name: `bench-runner-${i}`, state: 'IDLE', paused: false, labels: ['linux'], os: 'linux',
        scope: 'ORGANIZATION', ephemeral: false, version: null, currentJobNativeId: null, native,
      };
      state.apply(runner, newestMs);
    }
    const pipelines = Math.max(0, Math.floor((perBackend - PROJECTS_PER_BACKEND - RUNNERS_PER_BACKEND) / (1 + JOBS_PER_PIPELINE)));
    const spanMs = 30 * 86_400_000;
    for (let i = 0; i < pipelines; i++) {
      // Oldest first, one every spanMs/pipelines, ending a day before the simulators' runs.
      const createdAt = new Date(newestMs - 86_400_000 - spanMs + Math.floor((i * spanMs) / pipelines)).toISOString();
      const projectNativeId = `bench/p${i % PROJECTS_PER_BACKEND}`;
      const status = STATUSES[i % STATUSES.length]!;
      const pipeline: PipelineModel = {
        type: 'Pipeline', backend, nativeId: `bench-${i}`, revision: [1], projectNativeId, number: i, name: 'ci', status, waitReason: null, native,
        attempt: 1, url: null, branch: i % 4 ? 'main' : `feature/${i}`, ref: null, commitSha: 'c0ffee', event: 'push', actor: null,
        createdAt, queuedAt: createdAt, startedAt: createdAt, finishedAt: createdAt, updatedAt: createdAt,
      };
      state.apply(pipeline, newestMs);
      const jobs: JobModel[] = [];
      for (let j = 0; j < JOBS_PER_PIPELINE; j++) {
        const job: JobModel = {
          type: 'Job', backend, nativeId: `bench-${i}-${j}`, revision: [1], projectNativeId, pipelineNativeId: pipeline.nativeId, name: `job-${j}`, status, waitReason: null, native,
          attempt: 1, url: null, labels: ['linux'], runnerNativeId: `bench-r${(i + j) % RUNNERS_PER_BACKEND}`, runnerName: null, branch: pipeline.branch,
          createdAt, queuedAt: createdAt, startedAt: createdAt, finishedAt: createdAt, steps: [],
        };
        state.apply(job, newestMs);
        jobs.push(job);
      }
      state.setPipelineJobs(backend, pipeline.nativeId, jobs, newestMs);
    }
  }
}
