import { perDistinctKey } from '../../src/adapter-kit/per-distinct-key.ts';
import { nullOn404 } from '../../src/adapter-kit/upstream-errors.ts';
import type { BatchFunctions } from '../../src/adapter-contract.ts';
import type { JobModel } from '../../src/model.ts';
import { seg, type BuildkiteClient } from './client.ts';
import { asRecord } from './fields.ts';
import { parseJobId, parsePipelineId, type BuildRef } from './native-ids.ts';
import { jobsOfBuild, toJob, toPipeline } from './normalize.ts';
import type { ProjectDirectory } from './projects.ts';
import type { RunnerSet } from './runners.ts';

/**
 * DataLoader batch functions. Every slot gets a model, null (malformed id,
 * slug outside the configured pipelines, or 404) or an Error; a batch never
 * rejects as a whole.
 *
 * Upstream calls: one `GET …/pipelines/{slug}/builds/{number}?include_retried_jobs=true`
 * per distinct build, whatever asks for it: pipelines, jobs (Buildkite has a
 * job-by-id route, but the build gives the job its branch and costs the same),
 * jobsOfPipelines and jobAttemptsOfPipelines all read that one URL, and
 * identical requests in flight at once share one (client SharedRequests).
 * Runners: one agents listing per burst + one read per agent it does not hold.
 */
export interface LoaderDeps {
  readonly backend: string;
  readonly client: BuildkiteClient;
  readonly organization: string;
  readonly projects: ProjectDirectory;
  readonly runners: RunnerSet;
}

export function buildPath(organization: string, ref: BuildRef): string {
  return `/organizations/${seg(organization)}/pipelines/${seg(ref.slug)}/builds/${ref.number}`;
}

/** The build with every job attempt (the build endpoint's default keeps only the newest per step). */
export async function readBuild(deps: LoaderDeps, ref: BuildRef, signal?: AbortSignal): Promise<unknown> {
  if (!deps.projects.inScope(ref.slug)) return null;
  const res = await nullOn404(deps.client.get(buildPath(deps.organization, ref), { include_retried_jobs: true }, signal));
  return res && asRecord(res.data) ? res.data : null;
}

async function jobsOf(deps: LoaderDeps, id: string, attempts: boolean, signal?: AbortSignal): Promise<readonly JobModel[]> {
  const ref = parsePipelineId(id);
  const build = ref ? await readBuild(deps, ref, signal) : null;
  if (!ref || build === null) return [];
  const jobs = jobsOfBuild(deps.backend, build, { slug: ref.slug, attempts });
  deps.runners.rememberFromJobs(jobs);
  return jobs;
}

export function createBatchFunctions(deps: LoaderDeps): BatchFunctions {
  const { backend } = deps;
  return {
    projects: (ids, signal) => perDistinctKey(ids, (id) => deps.projects.get(id, signal)),

    pipelines: (ids, signal) =>
      perDistinctKey(ids, async (id) => {
        const ref = parsePipelineId(id);
        const build = ref ? await readBuild(deps, ref, signal) : null;
        return ref && build !== null ? toPipeline(backend, build, { slug: ref.slug }) : null;
      }),

    jobs: (ids, signal) =>
      perDistinctKey(ids, async (id) => {
        const ref = parseJobId(id);
        const build = ref ? await readBuild(deps, ref, signal) : null;
        if (!ref || build === null) return null;
        const jobs = asRecord(build)?.jobs;
        const job = Array.isArray(jobs) ? jobs.find((j) => asRecord(j)?.id === ref.jobId) : undefined;
        return job === undefined || asRecord(job)?.type === 'waiter' ? null : toJob(backend, job, build, { slug: ref.slug });
      }),

    jobsOfPipelines: (ids, signal) => perDistinctKey(ids, (id) => jobsOf(deps, id, false, signal)),

    // A retried Buildkite job is a new job id in the same build, numbered by retries_count + 1.
    jobAttemptsOfPipelines: (ids, signal) => perDistinctKey(ids, (id) => jobsOf(deps, id, true, signal)),

    runners: (ids, signal) => deps.runners.byIds(ids, signal),
  };
}
