import type { SubscriptionResolvers } from '../__generated__/resolvers-types.ts';
import type { GatewayContext } from '../context.ts';
import type { ChangeEvent } from '../events/event-types.ts';
import { compileJobFilter, compilePipelineFilter, compileRunnerFilter } from './filters.ts';

/**
 * Each event is executed against fresh per-event loaders, so nested fields
 * (job.runner, pipeline.project) reflect the state at delivery, not the
 * state when the subscription started.
 */
function resolveEvent<T extends ChangeEvent>(event: T, _args: unknown, ctx: GatewayContext): T {
  ctx.resetLoaders();
  return event;
}

export const subscriptionResolvers: SubscriptionResolvers = {
  jobUpdated: {
    subscribe: (_, { filter }, ctx) => {
      const f = compileJobFilter(filter);
      return ctx.bus.subscribe('Job', (e) => f.matches(e.job));
    },
    resolve: resolveEvent,
  },
  pipelineUpdated: {
    subscribe: (_, { filter }, ctx) => {
      const f = compilePipelineFilter(filter);
      return ctx.bus.subscribe('Pipeline', (e) => f.matches(e.pipeline));
    },
    resolve: resolveEvent,
  },
  runnerUpdated: {
    subscribe: (_, { filter }, ctx) => {
      const f = compileRunnerFilter(filter);
      return ctx.bus.subscribe('Runner', (e) => f.matches(e.runner));
    },
    resolve: resolveEvent,
  },
};
