import type { JobFilter, PipelineFilter, RunnerFilter, SubscriptionResolvers } from '../__generated__/resolvers-types.ts';
import type { GatewayContext } from '../context.ts';
import { GraphQLError } from 'graphql';
import type { ChangeEvent, JobEvent, PipelineEvent, RunnerEvent } from '../events/event-types.ts';
import type { BoundedQueueIterator } from '../events/bounded-queue-iterator.ts';
import type { EntityModel } from '../model.ts';
import { compileJobFilter, compilePipelineFilter, compileRunnerFilter } from './filters.ts';

/**
 * Each event is executed against fresh per-event loaders, so nested fields
 * (job.runner, pipeline.project) reflect the state at delivery, not the
 * state when the subscription started.
 */
function resolveEvent<T extends ChangeEvent>(event: T, _args: unknown, ctx: GatewayContext): T {
  ctx.resetLoaders();
  ctx.observeEvent?.(event);
  return event;
}

/**
 * Each subscription field's filter as a predicate on its events. Subscribers
 * whose operations differ only in the `filter` variable share one execution
 * (src/server/subscription-multiplexer.ts) and are filtered one by one with these;
 * a subscription of its own filters with the same predicate.
 * Compiling throws the same GraphQLError (e.g. a malformed id) as subscribing does.
 */
export const subscriptionEventFilters = {
  jobUpdated: (filter) => {
    const f = compileJobFilter(filter as JobFilter | null);
    return (event) => (event as ChangeEvent).type === 'Job' && f.matches((event as JobEvent).job);
  },
  pipelineUpdated: (filter) => {
    const f = compilePipelineFilter(filter as PipelineFilter | null);
    return (event) => (event as ChangeEvent).type === 'Pipeline' && f.matches((event as PipelineEvent).pipeline);
  },
  runnerUpdated: (filter) => {
    const f = compileRunnerFilter(filter as RunnerFilter | null);
    return (event) => (event as ChangeEvent).type === 'Runner' && f.matches((event as RunnerEvent).runner);
  },
} satisfies Record<string, (filter: unknown) => (event: unknown) => boolean>;

/** In scope, and the credential still valid: nothing is delivered after it expires or is revoked. */
function visible(ctx: GatewayContext, entity: EntityModel): boolean {
  return ctx.credentials.stillValid(ctx.identity) && ctx.identity.scope.allowsEntity(entity);
}

/**
 * Ends the subscription when the credential expires or is revoked (on every
 * transport; the WebSocket binding also closes the socket with 4403). The
 * gateway's one credential watcher pushes the end.
 */
function guard<T>(ctx: GatewayContext, iterator: BoundedQueueIterator<T>): BoundedQueueIterator<T> {
  const ended = (why: string) => new GraphQLError(`Credentials ${why}`, { extensions: { code: 'UNAUTHENTICATED' } });
  if (!ctx.credentials.stillValid(ctx.identity)) {
    void iterator.return();
    throw ended(ctx.identity.expiresAt && ctx.identity.expiresAt <= ctx.now() ? 'expired' : 'revoked');
  }
  const stop = ctx.credentials.watch(ctx.identity, (why) => iterator.end(ended(why)));
  const originalReturn = iterator.return.bind(iterator);
  iterator.return = () => {
    stop();
    return originalReturn();
  };
  return iterator;
}

export const subscriptionResolvers: SubscriptionResolvers = {
  jobUpdated: {
    subscribe: (_, { filter, after }, ctx) => {
      const accepts = subscriptionEventFilters.jobUpdated(filter);
      return guard(ctx, ctx.bus.subscribe('Job', (e) => accepts(e) && visible(ctx, e.job), after));
    },
    resolve: resolveEvent,
  },
  pipelineUpdated: {
    subscribe: (_, { filter, after }, ctx) => {
      const accepts = subscriptionEventFilters.pipelineUpdated(filter);
      return guard(ctx, ctx.bus.subscribe('Pipeline', (e) => accepts(e) && visible(ctx, e.pipeline), after));
    },
    resolve: resolveEvent,
  },
  runnerUpdated: {
    subscribe: (_, { filter, after }, ctx) => {
      const accepts = subscriptionEventFilters.runnerUpdated(filter);
      return guard(ctx, ctx.bus.subscribe('Runner', (e) => accepts(e) && visible(ctx, e.runner), after));
    },
    resolve: resolveEvent,
  },
};
