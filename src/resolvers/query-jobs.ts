import type { GraphQLResolveInfo } from 'graphql';
import type { JobFilter } from '../__generated__/resolvers-types.ts';
import type { GatewayContext } from '../context.ts';
import type { JobModel, PipelineModel } from '../model.ts';
import { reportBackendFailure, visibleToCaller } from './backend-calls.ts';
import { decodeCursor, pageSize, paginate, type Connection } from './connection.ts';
import { compileJobFilter, newestFirstPosition } from './filters.ts';
import { historyJobsByPipeline, jobsFromHistory } from './history-lists.ts';
import { loadNodes, ofType } from './load-nodes.ts';
import { MAX_PAGE, resolvePipelines } from './query-pipelines.ts';
import { learnNamesForFilter, liveProjectName } from './project-name-filter-live.ts';

/**
 * Jobs of the given pipelines (ones this caller was shown), through the per-request
 * loaders (one batched call per backend).
 */
export async function jobsOfPipelines(ctx: GatewayContext, pipelines: readonly PipelineModel[], info: GraphQLResolveInfo): Promise<JobModel[]> {
  // Pipelines older than the live window: their jobs as the history recorded them, no upstream call.
  const recorded = await historyJobsByPipeline(ctx, pipelines);
  const lists = await Promise.all(
    pipelines.map(async (p) => {
      const backend = ctx.registry.get(p.backend);
      if (!backend) return [];
      const fromHistory = recorded.get(`${p.backend}\u0000${p.nativeId}`);
      if (fromHistory) return fromHistory.filter((j) => backend.adapter.owns(j));
      try {
        return await ctx.loaders(backend).jobsOfPipeline.load(p.nativeId);
      } catch (error) {
        reportBackendFailure(ctx, backend, error, info);
        // Upstream failed: the jobs deliveries and earlier reads brought are still shown, with the error.
        return ctx.state.knownPipelineJobs(p.backend, p.nativeId).filter((j) => backend.adapter.owns(j));
      }
    }),
  );
  // A job in its pipeline's project is seen as its pipeline was (however the project was
  // named then, e.g. from the history); anything else is checked on its own.
  const shown = new Set(pipelines.map((p) => `${p.backend}\u0000${p.nativeId}\u0000${p.projectNativeId}`));
  const ofShown = (j: JobModel) => shown.has(`${j.backend}\u0000${j.pipelineNativeId}\u0000${j.projectNativeId}`);
  const jobs = lists.flat();
  const checked = new Set(await visibleToCaller(ctx, jobs.filter((j) => !ofShown(j))));
  return jobs.filter((j) => ofShown(j) || checked.has(j));
}

/** Jobs newest first: of the filtered pipelines, or of the most recent pipelines. */
export async function resolveJobs(
  ctx: GatewayContext,
  args: { first?: number | null; after?: string | null; filter?: JobFilter | null },
  info: GraphQLResolveInfo,
): Promise<Connection<JobModel>> {
  const first = pageSize(args.first, 50, MAX_PAGE);
  const after = decodeCursor(args.after);
  const filter = compileJobFilter(args.filter, { purpose: 'query', projectName: liveProjectName(ctx) });
  const position = (j: JobModel) => newestFirstPosition(j);
  // The live state must name the projects first (GitLab's ids are numeric); the pipelines' read below does it too.
  if (filter.ids || filter.pipelines) await learnNamesForFilter(ctx, args.filter);
  if (filter.ids) {
    const found = ofType(await loadNodes(ctx, filter.ids, info), 'Job');
    return paginate(found.filter(filter.matches), position, { first, after, ascending: false });
  }
  let pipelines: PipelineModel[];
  let historical: Awaited<ReturnType<typeof jobsFromHistory>> = null;
  if (!filter.pipelines) {
    // Older than the live window: jobs straight from the history (see history-lists.ts).
    const cursorTime = after && typeof after.key === 'number' ? new Date(after.key) : undefined;
    const requestedBefore = args.filter?.createdBefore ? new Date(args.filter.createdBefore) : undefined;
    const createdBefore = cursorTime && (!requestedBefore || cursorTime < requestedBefore) ? cursorTime : requestedBefore;
    historical = await jobsFromHistory(ctx, ctx.registry.select(args.filter?.backends).map((b) => b.name), createdBefore, {
      limit: first + 1,
      projects: filter.projects,
      projectNames: filter.projectNames?.scope ?? null,
      statuses: args.filter?.status ?? null,
      branch: args.filter?.branch ?? null,
      createdAfter: args.filter?.createdAfter ? new Date(args.filter.createdAfter) : null,
    });
  }
  const served = historical?.backends;
  const upstreamBackends = served ? ctx.registry.select(args.filter?.backends).map((b) => b.name).filter((b) => !served.has(b)) : null;
  // The history matched `projectNames` itself, on the names it recorded: no live name is needed for these.
  const recorded = historical?.items.filter(filter.matchesRecorded) ?? [];
  if (upstreamBackends?.length === 0) {
    return paginate(recorded, position, { first, after, ascending: false });
  }
  if (filter.pipelines) {
    pipelines = ofType(await loadNodes(ctx, filter.pipelines, info), 'Pipeline');
  } else {
    // Jobs belong to pipelines: read enough recent pipelines to fill the page.
    const pipelineFilter = {
      backends: upstreamBackends ?? args.filter?.backends ?? null,
      projects: args.filter?.projects ?? null,
      projectNames: args.filter?.projectNames ?? null,
      branch: args.filter?.branch ?? null,
      createdAfter: args.filter?.createdAfter ?? null,
      createdBefore: args.filter?.createdBefore ?? null,
    };
    const page = await resolvePipelines(ctx, { first: Math.min(MAX_PAGE, Math.max(5, Math.ceil(first / 2))), filter: pipelineFilter }, info);
    pipelines = [...page.nodes];
  }
  const jobs = [...(await jobsOfPipelines(ctx, pipelines, info)).filter(filter.matches), ...recorded];
  return paginate(jobs, position, { first, after, ascending: false });
}
