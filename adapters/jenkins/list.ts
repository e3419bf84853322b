import { matchesPipelineQuery, newestPipelineFirst } from '../../src/adapter-kit/pipeline-query.ts';
import type { PipelineQuery } from '../../src/adapter-contract.ts';
import type { PipelineModel } from '../../src/model.ts';
import { nullOn404, type JenkinsClient } from './client.ts';
import { int, loose, records } from './fields.ts';
import type { BuildReader } from './builds.ts';
import { jobPath } from './native-ids.ts';
import { toPipeline } from './normalize.ts';
import { flattenJobs, type JobDirectory } from './projects.ts';
import { buildsOfAllJobsTree, jobBuildRangeTree, jobBuildsTree, QUEUE_TREE } from './queries.ts';
import { queuedBuilds } from './queue.ts';

const QUEUE_STATUSES = new Set(['QUEUED', 'WAITING']);

/** Where a job's builds were last read back to: the build created at `createdMs` sat at `index`. */
export type BuildIndexHints = Map<string, { readonly createdMs: number; readonly index: number }>;

const MAX_HINTS = 5000;

/**
 * Builds of one job created in [createdAfter, createdBefore], newest first, at most
 * `limit`: `allBuilds{M,N}` pages (Jenkins has no time filter). A page starts where
 * the last read of the job ended (`hints`), when that build is no older than
 * `createdBefore`: newer builds only push it further down, so reading resumes there
 * instead of from the newest build, and paging back a week costs one request per
 * `limit` builds.
 */
async function buildsBetween(
  deps: { backend: string; client: JenkinsClient; jobs: JobDirectory; hints: BuildIndexHints },
  fullName: string,
  query: PipelineQuery,
  limit: number,
  signal?: AbortSignal,
): Promise<PipelineModel[]> {
  const before = query.createdBefore?.getTime() ?? Infinity;
  const after = query.createdAfter?.getTime() ?? -Infinity;
  const hint = deps.hints.get(fullName);
  let from = hint && hint.createdMs >= before ? hint.index : 0;
  const found: PipelineModel[] = [];
  let last: { createdMs: number; index: number } | null = null;
  for (;;) {
    const answer = await nullOn404(deps.client.getJson(`${jobPath(fullName)}/api/json`, jobBuildRangeTree(from, from + limit), undefined, signal));
    if (answer === null) return [];
    const builds = records(loose(answer).allBuilds);
    let older = false;
    builds.forEach((b, i) => {
      if (older) return;
      let p: PipelineModel;
      try {
        p = toPipeline(deps.backend, fullName, b, { branch: deps.jobs.branchOf(fullName) });
      } catch {
        return;
      }
      const created = Date.parse(p.createdAt);
      if (created < after) {
        older = true;
        return;
      }
      if (created > before || found.length >= limit) return;
      if (matchesPipelineQuery(p, query)) found.push(p);
      last = { createdMs: created, index: from + i };
    });
    if (older || found.length >= limit || builds.length < limit) break;
    from += limit;
  }
  if (last) {
    deps.hints.delete(fullName);
    deps.hints.set(fullName, last);
    if (deps.hints.size > MAX_HINTS) deps.hints.delete(deps.hints.keys().next().value!);
  }
  return found;
}

/**
 * Newest builds first. Without a project filter this is ONE request: the job
 * tree with every job's newest `limit` builds nested (`jobs[...,builds[...]{0,N}]`),
 * plus one queue read when queued builds can match. With a project filter:
 * one `builds[...]{0,N}` read per project, or with `createdBefore` `allBuilds{M,N}`
 * pages back in time (buildsBetween). Filtering is local (Jenkins has none).
 */
export async function listPipelines(
  deps: { backend: string; client: JenkinsClient; jobs: JobDirectory; reader: BuildReader; depth: number; roots: readonly string[] | undefined; hints: BuildIndexHints },
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
  } else if (query.createdBefore) {
    // Paging back in time (the backfill): ranges of allBuilds, past the newest 100.
    for (const fullName of wantedProjects) {
      reads.push(buildsBetween(deps, fullName, query, Math.min(100, limit), signal).then((builds) => void found.push(...builds)));
    }
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
  // Queued items are not builds yet: a read back in time (createdBefore) has none to find.
  if (queueCanMatch && query.branch === undefined && !(query.createdBefore && wantedProjects)) {
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
