import type { GraphQLResolveInfo } from 'graphql';
import type { GatewayContext } from '../context.ts';
import type { GlobalIdParts } from '../ids.ts';
import type { EntityModel } from '../model.ts';
import type { BackendEntry } from '../backend-registry.ts';
import { callerSees, reportBackendFailure, visibleToCaller } from './backend-calls.ts';
import { recordedNode } from './history-nodes.ts';

export type NodeValue = EntityModel | BackendEntry;

/**
 * Loads entities by decoded global ID through the per-request loaders (pipelines and
 * jobs finished before the live window from the history, history-nodes.ts). An
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
      const visible = async (e: EntityModel | null) => (e && backend.adapter.owns(e) ? ((await visibleToCaller(ctx, [e]))[0] ?? null) : null);
      try {
        switch (parts.type) {
          case 'Project':
            return await visible(await loaders.project.load(parts.nativeId));
          case 'Pipeline':
          case 'Job': {
            // Finished long ago and no longer live: as the history recorded it, no upstream call.
            const recorded = await recordedNode(ctx, parts.type, backend.name, parts.nativeId);
            if (recorded?.projectFullName) return backend.adapter.owns(recorded.entity) && callerSees(ctx, recorded.entity, recorded.projectFullName) ? recorded.entity : null;
            if (recorded) return await visible(recorded.entity);
            return await visible(await (parts.type === 'Pipeline' ? loaders.pipeline : loaders.job).load(parts.nativeId));
          }
          case 'Runner':
            return await visible(await loaders.runner.load(parts.nativeId));
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
