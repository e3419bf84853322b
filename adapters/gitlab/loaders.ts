import { asError, perDistinctKey } from '../../src/adapter-kit/per-distinct-key.ts';
import { nullOn404 } from '../../src/adapter-kit/upstream-errors.ts';
import type { BatchFunctions } from '../../src/adapter-contract.ts';
import type { JobModel, PipelineModel } from '../../src/model.ts';
import { seg, type GitlabClient } from './client.ts';
import type { CommitTitles } from './commit-titles.ts';
import { isNotFound } from './errors.ts';
import { asRecord, idString, loose, parseTimeMs, str } from './fields.ts';
import { parseJobId, parsePipelineId } from './native-ids.ts';
import { toJob, toPipeline } from './normalize.ts';
import { loadPipelineInputs } from './pipeline-inputs.ts';
import type { ProjectDirectory } from './projects.ts';
import type { RunnerSet } from './runners.ts';

/**
 * DataLoader batch functions. Every slot gets a model, null (unknown id or 404)
 * or an Error; a batch never rejects as a whole. Identical ids cost one request.
 *
 * Upstream calls per batch:
 * - projects / pipelines / jobs: one per distinct id (projects: 0 while the
 *   directory listing is fresh);
 * - runners: one listing per runner source (pages of 100) + one detail per
 *   distinct runner not seen within the detail TTL (10 min), never one list per id;
 * - jobsOfPipelines, per project with k requested pipelines:
 *     k = 1: pages(jobs of the pipeline / 100), normally 1;
 *     k ≥ 2: keyset pages of `GET /projects/:id/jobs` (100 jobs each, newest
 *            first) until every requested pipeline is covered, capped at k
 *            pages, + one per-pipeline call for each pipeline the cap left
 *            uncovered; normally ceil(jobs since the oldest requested pipeline / 100);
 *   plus, with `bridges: true`, one `GET .../pipelines/:id/bridges` per pipeline.
 * jobAttemptsOfPipelines costs the same: both listings already carry retried
 * jobs (the project listing always, the pipeline's with `include_retried=true`);
 * jobsOfPipelines keeps the latest attempt of each name from them.
 */
export interface LoaderDeps {
  readonly backend: string;
  readonly client: GitlabClient;
  readonly projects: ProjectDirectory;
  readonly runners: RunnerSet;
  readonly bridges: boolean;
  /** Commit titles learnt from jobs and hooks: the display name of unnamed REST pipelines. */
  readonly titles: CommitTitles;
  /** The read's cancellation (the core's policy): passed to every request. */
  readonly signal?: AbortSignal;
}

export function createBatchFunctions(deps: LoaderDeps): BatchFunctions {
  const { backend, client } = deps;
  return {
    projects: (ids, signal) => perDistinctKey(ids, (id) => deps.projects.get(id, signal)),

    pipelines: (ids, signal) =>
      perDistinctKey(ids, async (id): Promise<PipelineModel | null> => {
        const ref = parsePipelineId(id);
        if (!ref || !(await deps.projects.includes(ref.projectId, signal))) return null;
        const res = await nullOn404(client.get<unknown>(`/projects/${seg(ref.projectId)}/pipelines/${seg(ref.pipelineId)}`, {}, signal));
        return res ? toPipeline(backend, res.data, ref.projectId, deps.titles.of(str(asRecord(res.data)?.sha))) : null;
      }),

    jobs: (ids, signal) =>
      perDistinctKey(ids, async (id): Promise<JobModel | null> => {
        const ref = parseJobId(id);
        if (!ref || !(await deps.projects.includes(ref.projectId, signal))) return null;
        const res = await nullOn404(client.get<unknown>(`/projects/${seg(ref.projectId)}/jobs/${seg(ref.jobId)}`, {}, signal));
        if (!res) return null;
        deps.titles.learnFromJob(res.data);
        return toJob(backend, res.data, ref.projectId);
      }),

    jobsOfPipelines: (ids, signal) => loadJobsOfPipelines({ ...deps, signal }, ids),

    jobAttemptsOfPipelines: (ids, signal) => loadJobAttemptsOfPipelines({ ...deps, signal }, ids),

    runners: (ids, signal) => deps.runners.byIds(ids, signal),

    pipelineInputs: (ids, signal) => loadPipelineInputs(deps, ids, signal),
  };
}

const idOf = (j: JobModel) => Number(j.nativeId.slice(j.nativeId.lastIndexOf('/') + 1));

/** Keeps the newest job per name, in the given order: the latest attempt (retries get new, higher ids). */
export function latestAttempts(jobs: readonly JobModel[]): JobModel[] {
  const byName = new Map<string, JobModel>();
  for (const j of jobs) {
    const seen = byName.get(j.name);
    if (!seen || idOf(j) > idOf(seen)) byName.set(j.name, j);
  }
  return jobs.filter((j) => byName.get(j.name) === j);
}

/**
 * Every attempt of one pipeline's jobs, oldest id first, each numbered. REST jobs carry
 * no attempt (only Job Hooks have `retries_count`), but a retry is a new job with the
 * same name and a higher id, so the n-th id of a name is attempt n: what the hook's
 * `retries_count` + 1 says. Needs the retried jobs too (`include_retried=true`).
 */
export function numberAttempts(jobs: readonly JobModel[]): JobModel[] {
  const seen = new Map<string, number>();
  return [...jobs].sort((a, b) => idOf(a) - idOf(b)).map((j) => {
    const attempt = (seen.get(j.name) ?? 0) + 1;
    seen.set(j.name, attempt);
    return attempt === j.attempt ? j : { ...j, attempt };
  });
}

function toJobs(deps: LoaderDeps, items: readonly unknown[], projectId: string): JobModel[] {
  const out: JobModel[] = [];
  for (const raw of items) {
    deps.titles.learnFromJob(raw);
    try {
      out.push(toJob(deps.backend, raw, projectId));
    } catch {
      // A job without an id cannot be addressed; skip it.
    }
  }
  return out;
}

/** Jobs of each pipeline, the latest attempt of each name (what Pipeline.jobs shows). */
export async function loadJobsOfPipelines(deps: LoaderDeps, ids: readonly string[]): Promise<Array<readonly JobModel[] | Error>> {
  const all = await loadJobAttemptsOfPipelines(deps, ids);
  return all.map((jobs) => (jobs instanceof Error ? jobs : latestAttempts(jobs)));
}

/** Jobs of each pipeline, every attempt numbered (the history's: a failure a retry hid stays). */
export async function loadJobAttemptsOfPipelines(deps: LoaderDeps, ids: readonly string[]): Promise<Array<readonly JobModel[] | Error>> {
  const byProject = new Map<string, Set<string>>();
  /** Projects refused: not ours (false), or the listing that decides failed (its error). */
  const refused = new Map<string, false | Error>();
  const results = new Map<string, JobModel[] | Error>();
  for (const id of ids) {
    const ref = parsePipelineId(id);
    if (!ref) continue;
    if (!byProject.has(ref.projectId) && !refused.has(ref.projectId)) {
      // Pipelines of projects outside the configured set have no jobs to us: no request.
      const ours = await deps.projects.includes(ref.projectId, deps.signal).catch(asError);
      if (ours !== true) refused.set(ref.projectId, ours);
    }
    const refusal = refused.get(ref.projectId);
    if (refusal !== undefined) {
      if (refusal instanceof Error) results.set(id, refusal);
      continue;
    }
    let set = byProject.get(ref.projectId);
    if (!set) byProject.set(ref.projectId, (set = new Set()));
    set.add(ref.pipelineId);
  }
  await Promise.all(
    [...byProject].map(async ([projectId, pipelineIds]) => {
      let builds: Map<string, JobModel[] | Error>;
      try {
        builds = pipelineIds.size === 1
          ? new Map([[[...pipelineIds][0]!, await perPipelineJobs(deps, projectId, [...pipelineIds][0]!).catch(asError)]])
          : await projectJobsKeyset(deps, projectId, [...pipelineIds]);
      } catch (error) {
        builds = new Map([...pipelineIds].map((p) => [p, asError(error)]));
      }
      await Promise.all(
        [...pipelineIds].map(async (pipelineId) => {
          const key = `${projectId}/pipelines/${pipelineId}`;
          const jobs = builds.get(pipelineId) ?? [];
          if (jobs instanceof Error || !deps.bridges) {
            results.set(key, jobs);
            return;
          }
          try {
            const bridges = await deps.client.getAllPages<unknown>(`/projects/${seg(projectId)}/pipelines/${seg(pipelineId)}/bridges`, {}, 5, deps.signal);
            results.set(key, [...jobs, ...latestAttempts(toJobs(deps, bridges, projectId))]);
          } catch (error) {
            results.set(key, isNotFound(error) ? jobs : asError(error));
          }
        }),
      );
    }),
  );
  return ids.map((id) => (parsePipelineId(id) ? results.get(id) ?? [] : []));
}

/** `GET /projects/:id/pipelines/:pipeline_id/jobs?include_retried=true`: every attempt (the default hides retried jobs). */
async function perPipelineJobs(deps: LoaderDeps, projectId: string, pipelineId: string): Promise<JobModel[]> {
  try {
    const items = await deps.client.getAllPages<unknown>(`/projects/${seg(projectId)}/pipelines/${seg(pipelineId)}/jobs`, { include_retried: true }, 10, deps.signal);
    return numberAttempts(toJobs(deps, items, projectId));
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

/**
 * Whether the pages left (up to the cap) can reach the oldest pipeline still
 * uncovered, at the pace so far (pipeline ids per page). Old pipelines (a
 * backfill's) are far below the newest jobs: read per pipeline at once instead
 * of paging the whole cap for nothing.
 */
function withinReach(uncovered: readonly string[], pagesRead: number, cap: number, newestPid: number, oldestPid: number): boolean {
  const lowest = Math.min(...uncovered.map(Number));
  if (!Number.isFinite(lowest) || !Number.isFinite(oldestPid) || lowest >= oldestPid) return true;
  const perPage = Math.max(1, (newestPid - oldestPid) / pagesRead);
  return pagesRead + Math.ceil((oldestPid - lowest) / perPage) <= cap;
}

/**
 * Jobs of several pipelines of one project from the project-level listing
 * (`pagination=keyset&order_by=id&sort=desc`). Job ids grow with creation
 * time and a pipeline's jobs are created with it (retries later, with higher
 * ids), so pipeline P is complete once the listing reaches a job created
 * before P (P's `created_at` comes with its jobs' embedded `pipeline`). Stops
 * when all are complete, at the end of the listing, or after k pages; what the
 * cap leaves uncovered is read per pipeline.
 */
async function projectJobsKeyset(deps: LoaderDeps, projectId: string, pipelineIds: readonly string[]): Promise<Map<string, JobModel[] | Error>> {
  const wanted = new Set(pipelineIds);
  const raw = new Map<string, unknown[]>(pipelineIds.map((p) => [p, []]));
  const createdAt = new Map<string, number>();
  let oldestSeenMs = Infinity;
  const covered = (p: string) => {
    const c = createdAt.get(p);
    return c !== undefined && oldestSeenMs < c;
  };
  let exhausted = false;
  // Pipeline ids grow with creation time too: how far down the listing has come, to see whether the cap can reach the rest.
  let newestPid = -Infinity;
  let oldestPid = Infinity;
  let res = await deps.client.get<unknown>(`/projects/${seg(projectId)}/jobs`, { pagination: 'keyset', order_by: 'id', sort: 'desc', per_page: 100 }, deps.signal);
  for (let page = 1; ; page++) {
    const items = Array.isArray(res.data) ? res.data : [];
    for (const item of items) {
      const j = loose(item);
      const pipeline = asRecord(j.pipeline);
      const pid = idString(pipeline?.id);
      const t = parseTimeMs(j.created_at);
      if (t !== null) oldestSeenMs = Math.min(oldestSeenMs, t);
      const pidNumber = Number(pid);
      if (pid && Number.isFinite(pidNumber)) {
        newestPid = Math.max(newestPid, pidNumber);
        oldestPid = Math.min(oldestPid, pidNumber);
      }
      if (pid && wanted.has(pid)) {
        raw.get(pid)!.push(item);
        const pc = parseTimeMs(pipeline?.created_at);
        if (pc !== null) createdAt.set(pid, pc);
      }
    }
    if (!res.nextLink || items.length === 0) {
      exhausted = true;
      break;
    }
    if (pipelineIds.every(covered) || page >= pipelineIds.length) break;
    if (!withinReach(pipelineIds.filter((p) => !covered(p)), page, pipelineIds.length, newestPid, oldestPid)) break;
    res = await deps.client.getLink<unknown>(res.nextLink, `/projects/${projectId}/jobs`, deps.signal);
  }
  const out = new Map<string, JobModel[] | Error>();
  await Promise.all(
    pipelineIds.map(async (p) => {
      // The project's listing holds retried jobs too (GitLab lists every build of the project).
      if (exhausted || covered(p)) out.set(p, numberAttempts(toJobs(deps, raw.get(p)!, projectId)));
      else out.set(p, await perPipelineJobs(deps, projectId, p).catch(asError));
    }),
  );
  return out;
}
