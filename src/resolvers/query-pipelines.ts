import type { GraphQLResolveInfo } from 'graphql';
import type { PipelineFilter } from '../__generated__/resolvers-types.ts';
import type { GatewayContext } from '../context.ts';
import type { PipelineModel } from '../model.ts';
import { fromEachBackend, listPipelines } from './backend-calls.ts';
import { decodeCursor, pageSize, paginate, type Connection } from './connection.ts';
import { compilePipelineFilter, newestFirstPosition } from './filters.ts';
import { pipelinesFromHistory } from './history-lists.ts';
import { loadNodes, ofType } from './load-nodes.ts';
import { learnNamesForFilter, liveProjectName, projectIdsNamed } from './project-name-filter-live.ts';

export const MAX_PAGE = 100;

/** Pipelines across backends, newest first, one page. */
export async function resolvePipelines(
  ctx: GatewayContext,
  args: { first?: number | null; after?: string | null; filter?: PipelineFilter | null },
  info: GraphQLResolveInfo,
): Promise<Connection<PipelineModel>> {
  const first = pageSize(args.first, 20, MAX_PAGE);
  const after = decodeCursor(args.after);
  const filter = compilePipelineFilter(args.filter, { purpose: 'query', projectName: liveProjectName(ctx) });
  const position = newestFirstPosition;
  if (filter.ids) {
    await learnNamesForFilter(ctx, args.filter);
    const found = ofType(await loadNodes(ctx, filter.ids, info), 'Pipeline');
    return paginate(found.filter(filter.matches), position, { first, after, ascending: false });
  }
  let backends = ctx.registry.select(args.filter?.backends);
  const projectsByBackend = new Map<string, string[]>();
  if (filter.projects) {
    for (const p of filter.projects) projectsByBackend.set(p.backend, [...(projectsByBackend.get(p.backend) ?? []), p.nativeId]);
    backends = backends.filter((b) => projectsByBackend.has(b.name));
  }
  // Everything older than the cursor is what the next page needs from upstream.
  const cursorTime = after && typeof after.key === 'number' ? new Date(after.key) : undefined;
  const requestedBefore = args.filter?.createdBefore ? new Date(args.filter.createdBefore) : undefined;
  const createdBefore = cursorTime && (!requestedBefore || cursorTime < requestedBefore) ? cursorTime : requestedBefore;
  // Older than the live window: from the history, for the backends it reaches back far enough on.
  const historical = await pipelinesFromHistory(ctx, backends.map((b) => b.name), createdBefore, {
    limit: first + 1,
    projects: filter.projects,
    projectNames: filter.projectNames?.scope ?? null,
    statuses: args.filter?.status ?? null,
    branch: args.filter?.branch ?? null,
    createdAfter: args.filter?.createdAfter ? new Date(args.filter.createdAfter) : null,
  });
  if (historical) backends = backends.filter((b) => !historical.backends.has(b.name));
  const items = await fromEachBackend(ctx, backends, info, async (backend) => {
    // Names are resolved to this backend's project ids first, so upstream reads only those projects.
    const projectNativeIds = filter.projectNames
      ? await projectIdsNamed(ctx, backend, filter.projectNames, projectsByBackend.get(backend.name))
      : projectsByBackend.get(backend.name);
    if (projectNativeIds?.length === 0) return [];
    return listPipelines(ctx, backend, {
      limit: first + 1,
      ...(projectNativeIds ? { projectNativeIds } : {}),
      ...(args.filter?.branch ? { branch: args.filter.branch } : {}),
      ...(args.filter?.status ? { status: args.filter.status } : {}),
      ...(args.filter?.createdAfter ? { createdAfter: new Date(args.filter.createdAfter) } : {}),
      ...(createdBefore ? { createdBefore } : {}),
    }, filter.matches, filter.projectNames ? undefined : projectNativeIds);
  });
  // The history matched `projectNames` itself, on the names it recorded: no live name is needed for these.
  if (historical) items.push(...historical.items.filter(filter.matchesRecorded));
  return paginate(items, position, { first, after, ascending: false });
}
