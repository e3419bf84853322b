import type { GraphQLResolveInfo } from 'graphql';
import type { JobFilter } from '../__generated__/resolvers-types.ts';
import type { GatewayContext } from '../context.ts';
import type { JobModel, PipelineModel } from '../model.ts';
import { reportBackendFailure } from './backend-calls.ts';
import { decodeCursor, pageSize, paginate, type Connection } from './connection.ts';
import { compileJobFilter, newestFirstPosition } from './filters.ts';
import { loadNodes, ofType } from './load-nodes.ts';
import { MAX_PAGE, resolvePipelines } from './query-pipelines.ts';

/** Jobs of the given pipelines, through the per-request loaders (one batched call per backend). */
export async function jobsOfPipelines(ctx: GatewayContext, pipelines: readonly PipelineModel[], info: GraphQLResolveInfo): Promise<JobModel[]> {
  const lists = await Promise.all(
    pipelines.map(async (p) => {
      const backend = ctx.registry.get(p.backend);
      if (!backend) return [];
      try {
        return await ctx.loaders(backend).jobsOfPipeline.load(p.nativeId);
      } catch (error) {
        reportBackendFailure(ctx, backend, error, info);
        // Upstream failed: the jobs deliveries and earlier reads brought are still shown, with the error.
        return ctx.state.knownPipelineJobs(p.backend, p.nativeId).filter((j) => backend.adapter.owns(j));
      }
    }),
  );
  return lists.flat().filter((j) => ctx.identity.scope.allowsEntity(j));
}

/** Jobs newest first: of the filtered pipelines, or of the most recent pipelines. */
export async function resolveJobs(
  ctx: GatewayContext,
  args: { first?: number | null; after?: string | null; filter?: JobFilter | null },
  info: GraphQLResolveInfo,
): Promise<Connection<JobModel>> {
  const first = pageSize(args.first, 50, MAX_PAGE);
  const after = decodeCursor(args.after);
  const filter = compileJobFilter(args.filter);
  const position = (j: JobModel) => newestFirstPosition(j);
  if (filter.ids) {
    const found = ofType(await loadNodes(ctx, filter.ids, info), 'Job');
    return paginate(found.filter(filter.matches), position, { first, after, ascending: false });
  }
  let pipelines: PipelineModel[];
  if (filter.pipelines) {
    pipelines = ofType(await loadNodes(ctx, filter.pipelines, info), 'Pipeline');
  } else {
    // Jobs belong to pipelines: read enough recent pipelines to fill the page.
    const pipelineFilter = {
      backends: args.filter?.backends ?? null,
      projects: args.filter?.projects ?? null,
      branch: args.filter?.branch ?? null,
      createdAfter: args.filter?.createdAfter ?? null,
      createdBefore: args.filter?.createdBefore ?? null,
    };
    const page = await resolvePipelines(ctx, { first: Math.min(MAX_PAGE, Math.max(5, Math.ceil(first / 2))), filter: pipelineFilter }, info);
    pipelines = [...page.nodes];
  }
  const jobs = await jobsOfPipelines(ctx, pipelines, info);
  return paginate(jobs.filter(filter.matches), position, { first, after, ascending: false });
}
