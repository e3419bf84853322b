import { matchesPipelineQuery, newestPipelineFirst } from '../../src/adapter-kit/pipeline-query.ts';
import type { PipelineQuery } from '../../src/adapter-contract.ts';
import type { PipelineModel } from '../../src/model.ts';
import { nullOn404, type JenkinsClient } from './client.ts';
import { int, loose, records } from './fields.ts';
import type { BuildReader } from './builds.ts';
import { jobPath } from './native-ids.ts';
import { toPipeline } from './normalize.ts';
import { flattenJobs, type JobDirectory } from './projects.ts';
import { buildsOfAllJobsTree, jobBuildsTree, QUEUE_TREE } from './queries.ts';
import { queuedBuilds } from './queue.ts';

const QUEUE_STATUSES = new Set(['QUEUED', 'WAITING']);

/**
 * Newest builds first. Without a project filter this is ONE request: the job
 * tree with every job's newest `limit` builds nested (`jobs[...,builds[...]{0,N}]`),
 * plus one queue read when queued builds can match. With a project filter:
 * one `builds[...]{0,N}` read per project. Filtering is local (Jenkins has none).
 */
export async function listPipelines(
  deps: { backend: string; client: JenkinsClient; jobs: JobDirectory; reader: BuildReader; depth: number; roots: readonly string[] | undefined },
  query: PipelineQuery,
  signal?: AbortSignal,
): Promise<PipelineModel[]> {
  const limit = Math.max(0, Math.floor(query.limit));
  if (limit === 0) return [];
  const perJob = Math.min(100, limit + (query.status?.length || query.branch !== undefined ? 20 : 0));
  const found: PipelineModel[] = [];
  const wantedProjects = query.projectNativeIds ? new Set(query.projectNativeIds.filter((id) => deps.jobs.covers(id))) : null;

  const addBuilds = (fullName: string, branch: string | null, builds: unknown) => {
    for (const b of records(builds)) {
      deps.reader.noteNewest(fullName, int(b.number));
      try {
        const p = toPipeline(deps.backend, fullName, b, { branch });
        if (matchesPipelineQuery(p, query)) found.push(p);
      } catch {
        // A build without a number cannot be addressed.
      }
    }
  };

  const reads: Promise<void>[] = [];
  if (wantedProjects === null) {
    reads.push(
      deps.client.getJson('/api/json', buildsOfAllJobsTree(deps.depth, perJob), undefined, signal).then((answer) => {
        for (const j of flattenJobs(answer, deps.roots)) addBuilds(j.fullName, j.branch, j.raw.builds);
      }),
    );
  } else {
    for (const fullName of wantedProjects) {
      reads.push(
        nullOn404(deps.client.getJson(`${jobPath(fullName)}/api/json`, jobBuildsTree(perJob), undefined, signal)).then((answer) => {
          if (answer !== null) addBuilds(fullName, deps.jobs.branchOf(fullName), loose(answer).builds);
        }),
      );
    }
  }
  const queueCanMatch = !query.status || query.status.length === 0 || query.status.some((s) => QUEUE_STATUSES.has(s));
  if (queueCanMatch && query.branch === undefined) {
    reads.push(
      deps.client.getJson('/queue/api/json', QUEUE_TREE, undefined, signal).then((answer) => {
        for (const item of queuedBuilds(deps.backend, answer, (n) => deps.jobs.covers(n) && (wantedProjects === null || wantedProjects.has(n)))) {
          if (matchesPipelineQuery(item.model, query)) found.push(item.model);
        }
      }),
    );
  }
  await Promise.all(reads);
  return found.sort(newestPipelineFirst).slice(0, limit);
}
