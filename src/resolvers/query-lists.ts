import type { GraphQLResolveInfo } from 'graphql';
import type { ProjectFilter, RunnerFilter } from '../__generated__/resolvers-types.ts';
import type { GatewayContext } from '../context.ts';
import { entityGlobalId } from '../ids.ts';
import type { ProjectModel, RunnerModel } from '../model.ts';
import { fromEachBackend, listProjects, listRunners } from './backend-calls.ts';
import { decodeCursor, pageSize, paginate, type Connection } from './connection.ts';
import { compileRunnerFilter } from './filters.ts';

export async function resolveRunners(
  ctx: GatewayContext,
  args: { first?: number | null; after?: string | null; filter?: RunnerFilter | null },
  info: GraphQLResolveInfo,
): Promise<Connection<RunnerModel>> {
  const first = pageSize(args.first, 100, 500);
  const after = decodeCursor(args.after);
  const filter = compileRunnerFilter(args.filter, { purpose: 'query' });
  const runners = await fromEachBackend(ctx, ctx.registry.select(args.filter?.backends), info, (b) => listRunners(ctx, b));
  return paginate(runners.filter(filter.matches), (r) => ({ key: `${r.backend}/${r.name}`, id: entityGlobalId(r) }), {
    first, after, ascending: true,
  });
}

export async function resolveProjects(
  ctx: GatewayContext,
  args: { first?: number | null; after?: string | null; filter?: ProjectFilter | null },
  info: GraphQLResolveInfo,
): Promise<Connection<ProjectModel>> {
  const first = pageSize(args.first, 50, 500);
  const after = decodeCursor(args.after);
  const search = args.filter?.search?.toLowerCase();
  const projects = await fromEachBackend(ctx, ctx.registry.select(args.filter?.backends), info, (b) => listProjects(ctx, b));
  const matching = search ? projects.filter((p) => p.fullName.toLowerCase().includes(search)) : projects;
  return paginate(matching, (p) => ({ key: `${p.backend}/${p.fullName}`, id: entityGlobalId(p) }), { first, after, ascending: true });
}
