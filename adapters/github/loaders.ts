import { perDistinctKey } from '../../src/adapter-kit/per-distinct-key.ts';
import { nullOn404 } from '../../src/adapter-kit/upstream-errors.ts';
import type { BatchFunctions } from '../../src/adapter-contract.ts';
import type { JobModel, PipelineModel, RunnerModel } from '../../src/model.ts';
import type { GithubClient } from './client.ts';
import { isNotFound } from './errors.ts';
import { asRecord } from './fields.ts';
import { parseHostedRunnerId, parseJobId, parsePipelineId, parseRunnerId, projectIdOf } from './native-ids.ts';
import { hostedRunnerOf, toJob, toPipeline } from './normalize.ts';
import type { ProjectDirectory } from './projects.ts';
import type { RunnerDirectory } from './runners.ts';
import type { JobPayload, RunPayload } from './upstream-types.ts';

/**
 * DataLoader batch functions. Every slot gets a model, null (unknown id or
 * 404) or an Error; a batch never rejects as a whole. Identical ids in one
 * batch cost one request, and all requests are ETag-conditional.
 *
 * Upstream calls per batch: pipelines/jobs/projects = distinct ids;
 * jobsOfPipelines = distinct runs × pages (100 jobs per page);
 * runners = configured runner sources × pages, regardless of how many ids
 * (none when every id is known missing, see RunnerDirectory), plus one job
 * read per GitHub-hosted runner id.
 */
export interface LoaderDeps {
  readonly backend: string;
  readonly client: GithubClient;
  readonly projects: ProjectDirectory;
  readonly runners: RunnerDirectory;
}

export function createBatchFunctions(deps: LoaderDeps): BatchFunctions {
  const { backend, client } = deps;

  return {
    // Ids outside the configured repositories and organizations read as null without a request.
    projects: (ids, signal) => perDistinctKey(ids, async (id) => (deps.projects.covers(id) ? deps.projects.get(id, signal) : null)),

    pipelines: (ids, signal) =>
      perDistinctKey(ids, async (id): Promise<PipelineModel | null> => {
        const ref = parsePipelineId(id);
        if (!ref || !deps.projects.covers(projectIdOf(ref))) return null;
        const res = await nullOn404(
          client.get<RunPayload>('GET /repos/{owner}/{repo}/actions/runs/{run_id}', { owner: ref.owner, repo: ref.repo, run_id: ref.runId }, signal),
        );
        return res ? toPipeline(backend, res.data, projectIdOf(ref)) : null;
      }),

    jobs: (ids, signal) =>
      perDistinctKey(ids, async (id): Promise<JobModel | null> => {
        const ref = parseJobId(id);
        if (!ref || !deps.projects.covers(projectIdOf(ref))) return null;
        const res = await nullOn404(
          client.get<JobPayload>('GET /repos/{owner}/{repo}/actions/jobs/{job_id}', { owner: ref.owner, repo: ref.repo, job_id: ref.jobId }, signal),
        );
        return res ? toJob(backend, res.data, projectIdOf(ref)) : null;
      }),

    jobsOfPipelines: (ids, signal) =>
      perDistinctKey(ids, async (id) => {
        const ref = parsePipelineId(id);
        return ref && deps.projects.covers(projectIdOf(ref)) ? loadJobsOfRun(client, backend, id, signal) : [];
      }),

    // Every attempt of a re-run run (`filter=all`: the same one listing, each job with its `run_attempt`).
    jobAttemptsOfPipelines: (ids, signal) =>
      perDistinctKey(ids, async (id) => {
        const ref = parsePipelineId(id);
        return ref && deps.projects.covers(projectIdOf(ref)) ? (await fetchJobsOfRun(client, backend, id, signal, 'all')).jobs : [];
      }),

    runners: async (ids, signal) => {
      const selfHosted = ids.filter((id) => parseRunnerId(id) !== null);
      // One listing of the sources serves every self-hosted id in the batch.
      const found = selfHosted.length > 0 ? await deps.runners.lookup(selfHosted, signal) : [];
      const listed = new Map(selfHosted.map((id, i) => [id, found[i] ?? null]));
      // GitHub-hosted runners are read through their job: no listing holds them.
      return perDistinctKey(ids, async (id) => (listed.has(id) ? listed.get(id) ?? null : loadHostedRunner(id, signal)));
    },
  };

  async function loadHostedRunner(id: string, signal?: AbortSignal): Promise<RunnerModel | null> {
    const ref = parseHostedRunnerId(id);
    if (!ref || !deps.projects.covers(projectIdOf(ref))) return null;
    const res = await nullOn404(
      client.get<JobPayload>('GET /repos/{owner}/{repo}/actions/jobs/{job_id}', { owner: ref.owner, repo: ref.repo, job_id: ref.jobId }, signal),
    );
    return res ? hostedRunnerOf(toJob(backend, res.data, projectIdOf(ref))) : null;
  }
}

/** Jobs of the latest attempt of one run (`filter=latest`, GitHub's default). */
export async function loadJobsOfRun(client: GithubClient, backend: string, pipelineId: string, signal?: AbortSignal): Promise<JobModel[]> {
  return (await fetchJobsOfRun(client, backend, pipelineId, signal)).jobs;
}

/** As loadJobsOfRun, also telling whether every page was a 304 (for the poller); `all`: earlier attempts' jobs too. */
export async function fetchJobsOfRun(
  client: GithubClient,
  backend: string,
  pipelineId: string,
  signal?: AbortSignal,
  filter: 'latest' | 'all' = 'latest',
): Promise<{ jobs: JobModel[]; notModified: boolean }> {
  const ref = parsePipelineId(pipelineId);
  if (!ref) return { jobs: [], notModified: true };
  const project = projectIdOf(ref);
  let res: { items: JobPayload[]; notModified: boolean };
  try {
    res = await client.getAllPages(
      'GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs',
      { owner: ref.owner, repo: ref.repo, run_id: ref.runId, ...(filter === 'all' ? { filter } : {}) },
      (page) => {
        const jobs = asRecord(page)?.jobs;
        return Array.isArray(jobs) ? (jobs as JobPayload[]) : [];
      },
      undefined,
      signal,
    );
  } catch (error) {
    if (isNotFound(error)) return { jobs: [], notModified: false };
    throw error;
  }
  const jobs: JobModel[] = [];
  for (const j of res.items) {
    try {
      jobs.push(toJob(backend, j, project));
    } catch {
      // A job without an id cannot be addressed; skip it.
    }
  }
  return { jobs, notModified: res.notModified };
}
