import { listPagePlan, matchesPipelineQuery, newestPipelineFirst, singleUpstreamStatusFilter } from '../../src/adapter-kit/pipeline-query.ts';
import type { PipelineQuery } from '../../src/adapter-contract.ts';
import type { CiStatus, PipelineModel } from '../../src/model.ts';
import { seg, type GitlabClient, type Params } from './client.ts';
import type { CommitTitles } from './commit-titles.ts';
import { isNotFound } from './errors.ts';
import { asRecord, str } from './fields.ts';
import { parseProjectId } from './native-ids.ts';
import { toPipeline } from './normalize.ts';
import type { ProjectDirectory } from './projects.ts';
import { PIPELINE_FILTER_VALUES } from './status-map.ts';

/**
 * GitLab's `status` filter takes one value: returns it when the requested
 * unified statuses are exactly one GitLab status, null when no GitLab pipeline
 * can have any of them (answer [] without a call), undefined when we list
 * unfiltered and filter locally.
 */
export function gitlabStatusFilter(statuses: readonly CiStatus[] | undefined): string | null | undefined {
  return singleUpstreamStatusFilter(statuses, PIPELINE_FILTER_VALUES);
}

/**
 * `GET /projects/:id/pipelines?order_by=id&sort=desc` per project, filtered
 * upstream by `ref`, a single `status`, `created_after`/`created_before`.
 * Upstream calls: per project ceil(limit/100) pages, + up to 2 pages when
 * some status filtering is local. List items lack `detailed_status`, so a
 * "passed with warnings" pipeline lists as SUCCESS until a hook or a single
 * read says UNSTABLE (the live state keeps the more precise observation).
 */
export async function listPipelines(
  deps: { backend: string; client: GitlabClient; projects: ProjectDirectory; titles: CommitTitles; log?: { warn(o: object, m?: string): void } },
  query: PipelineQuery,
  signal?: AbortSignal,
): Promise<PipelineModel[]> {
  const limit = Math.max(0, Math.floor(query.limit));
  if (limit === 0) return [];
  const status = gitlabStatusFilter(query.status);
  if (status === null) return [];
  const all = await deps.projects.ids(signal);
  const projectIds = query.projectNativeIds ? [...new Set(query.projectNativeIds)].filter((id) => all.includes(id)) : all;
  const { perPage, maxPages } = listPagePlan(limit, query.status, status);
  const params: Params = {
    order_by: 'id',
    sort: 'desc',
    per_page: perPage,
    ref: query.branch,
    status,
    created_after: query.createdAfter?.toISOString(),
    created_before: query.createdBefore?.toISOString(),
  };
  const perProject = await Promise.all(
    projectIds.map(async (projectId) => {
      if (!parseProjectId(projectId)) return [];
      const found: PipelineModel[] = [];
      for (let page = 1; page <= maxPages && found.length < limit; page++) {
        let res;
        try {
          res = await deps.client.get<unknown>(`/projects/${seg(projectId)}/pipelines`, { ...params, page }, signal);
        } catch (error) {
          if (isNotFound(error)) {
            deps.log?.warn({ project: projectId }, 'GitLab project not found; skipped');
            return [];
          }
          throw error;
        }
        for (const raw of Array.isArray(res.data) ? res.data : []) {
          try {
            const p = toPipeline(deps.backend, raw, projectId, deps.titles.of(str(asRecord(raw)?.sha)));
            if (matchesPipelineQuery(p, query)) found.push(p);
          } catch {
            // unaddressable entry
          }
        }
        if (res.nextPage === null) break;
      }
      return found;
    }),
  );
  return perProject.flat().sort(newestPipelineFirst).slice(0, limit);
}
