import type { GraphQLResolveInfo } from 'graphql';
import type { GatewayContext } from '../context.ts';
import type { GlobalIdParts } from '../ids.ts';
import type { EntityModel } from '../model.ts';
import type { BackendEntry } from '../backend-registry.ts';
import { reportBackendFailure } from './backend-calls.ts';

export type NodeValue = EntityModel | BackendEntry;

/**
 * Loads entities by decoded global ID through the per-request loaders. An
 * unknown backend or a missing entity reads as null; a failing backend reads
 * as null plus one error naming it.
 */
export async function loadNodes(ctx: GatewayContext, ids: readonly GlobalIdParts[], info: GraphQLResolveInfo): Promise<(NodeValue | null)[]> {
  return Promise.all(
    ids.map(async (parts): Promise<NodeValue | null> => {
      const backend = ctx.registry.get(parts.backend);
      if (!backend) return null;
      if (parts.type === 'Backend') return parts.nativeId === backend.name ? backend : null;
      const loaders = ctx.loaders(backend);
      // Outside the backend's configured set or the caller's scope: does not exist for the caller.
      const visible = (e: EntityModel | null) => (e && backend.adapter.owns(e) && ctx.identity.scope.allowsEntity(e) ? e : null);
      try {
        switch (parts.type) {
          case 'Project':
            return visible(await loaders.project.load(parts.nativeId));
          case 'Pipeline':
            return visible(await loaders.pipeline.load(parts.nativeId));
          case 'Job':
            return visible(await loaders.job.load(parts.nativeId));
          case 'Runner':
            return visible(await loaders.runner.load(parts.nativeId));
        }
      } catch (error) {
        reportBackendFailure(ctx, backend, error, info);
        return null;
      }
    }),
  );
}

/** Keeps the loaded nodes of one entity type. */
export function ofType<K extends EntityModel['type']>(nodes: readonly (NodeValue | null)[], type: K): Extract<EntityModel, { type: K }>[] {
  return nodes.filter((n): n is Extract<EntityModel, { type: K }> => n !== null && 'type' in n && n.type === type);
}
