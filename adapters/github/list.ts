import { asError } from '../../src/adapter-kit/per-distinct-key.ts';
import { listPagePlan, matchesPipelineQuery, newestPipelineFirst, singleUpstreamStatusFilter } from '../../src/adapter-kit/pipeline-query.ts';
import type { PipelineQuery } from '../../src/adapter-contract.ts';
import type { CiStatus, PipelineModel, RunnerModel } from '../../src/model.ts';
import type { GithubClient, Params } from './client.ts';
import { isNotFound } from './errors.ts';
import { asRecord } from './fields.ts';
import { formatProjectId, parseProjectId } from './native-ids.ts';
import { toPipeline } from './normalize.ts';
import type { ProjectDirectory } from './projects.ts';
import type { RunnerDirectory } from './runners.ts';
import { RUN_FILTER_VALUES } from './status-map.ts';
import type { RunPayload } from './upstream-types.ts';

/**
 * The GitHub `status` filter takes one value. Returns that value when the
 * requested unified statuses are exactly one GitHub value, `null` when none
 * of them can exist on GitHub (answer [] without a call), and undefined when
 * we must list unfiltered and filter locally.
 */
export function githubStatusFilter(statuses: readonly CiStatus[] | undefined): string | null | undefined {
  return singleUpstreamStatusFilter(statuses, RUN_FILTER_VALUES);
}

/** GitHub search date syntax for `created`. */
export function createdFilter(after: Date | undefined, before: Date | undefined): string | undefined {
  const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (after && before) return `${iso(after)}..${iso(before)}`;
  if (after) return `>=${iso(after)}`;
  if (before) return `<=${iso(before)}`;
  return undefined;
}

/**
 * Upstream calls: per project ceil(limit/100) pages when GitHub can filter
 * everything, plus up to 2 extra pages when some filtering is local.
 */
export async function listPipelines(
  deps: { backend: string; client: GithubClient; projects: ProjectDirectory; log?: { warn(o: object, m?: string): void } },
  query: PipelineQuery,
  signal?: AbortSignal,
): Promise<PipelineModel[]> {
  const limit = Math.max(0, Math.floor(query.limit));
  if (limit === 0) return [];
  const status = githubStatusFilter(query.status);
  if (status === null) return [];
  const projectIds = query.projectNativeIds
    ? [...new Set(query.projectNativeIds.map((id) => formatProjectId(id)))].filter((id) => deps.projects.covers(id))
    : await deps.projects.ids(signal);
  const { perPage, maxPages } = listPagePlan(limit, query.status, status);
  const params: Params = {
    per_page: perPage,
    branch: query.branch,
    status,
    created: createdFilter(query.createdAfter, query.createdBefore),
  };

  const perProject = await Promise.all(
    projectIds.map(async (projectId) => {
      const ref = parseProjectId(projectId);
      if (!ref) return [];
      const found: PipelineModel[] = [];
      for (let page = 1; page <= maxPages && found.length < limit; page++) {
        let res;
        try {
          res = await deps.client.get<unknown>('GET /repos/{owner}/{repo}/actions/runs', { ...params, owner: ref.owner, repo: ref.repo, page }, signal);
        } catch (error) {
          // A configured repo that is gone or invisible should not hide the others.
          if (isNotFound(error)) {
            deps.log?.warn({ project: projectId }, 'GitHub repository not found; skipped');
            return [];
          }
          throw error;
        }
        const runs = asRecord(res.data)?.workflow_runs;
        for (const run of Array.isArray(runs) ? (runs as RunPayload[]) : []) {
          try {
            const p = toPipeline(deps.backend, run, projectId);
            if (matchesPipelineQuery(p, query)) found.push(p);
          } catch {
            // Runs without an id cannot be addressed.
          }
        }
        if (!res.hasNextPage) break;
      }
      return found;
    }),
  );
  return perProject.flat().sort(newestPipelineFirst).slice(0, limit);
}

/** Every self-hosted runner of the configured sources (GitHub-hosted runners are listed nowhere). Throws if a source failed. */
export async function listAllRunners(runners: RunnerDirectory, signal?: AbortSignal): Promise<RunnerModel[]> {
  const byId = new Map<string, RunnerModel>();
  for (const l of await runners.listAll(signal)) {
    if (l.status === 'rejected') throw asError(l.reason);
    for (const r of l.value.runners) byId.set(r.nativeId, r);
  }
  return [...byId.values()];
}
