import type { SubscriptionResolvers } from '../__generated__/resolvers-types.ts';
import type { GatewayContext } from '../context.ts';
import { GraphQLError } from 'graphql';
import type { ChangeEvent } from '../events/event-types.ts';
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
  return event;
}

/** In scope, and the credential still valid: nothing is delivered after it expires or is revoked. */
function visible(ctx: GatewayContext, entity: EntityModel): boolean {
  const expiresAt = ctx.identity.expiresAt;
  if (expiresAt && ctx.now() >= expiresAt) return false;
  if (ctx.identity.isRevoked?.()) return false;
  return ctx.identity.scope.allowsEntity(entity);
}

/**
 * Ends the subscription when the credential expires (on every transport; the
 * WebSocket binding also closes the socket with 4403).
 */
function guard<T>(ctx: GatewayContext, iterator: BoundedQueueIterator<T>): BoundedQueueIterator<T> {
  const { expiresAt, isRevoked } = ctx.identity;
  if (!expiresAt && !isRevoked) return iterator;
  const ended = (why: string) => new GraphQLError(`Credentials ${why}`, { extensions: { code: 'UNAUTHENTICATED' } });
  if (expiresAt && expiresAt <= ctx.now()) {
    void iterator.return();
    throw ended('expired');
  }
  const expiry = expiresAt ? setTimeout(() => iterator.end(ended('expired')), expiresAt.getTime() - ctx.now().getTime()) : undefined;
  // A revoked API key (config reload) ends its streams within a second.
  const revocation = isRevoked ? setInterval(() => isRevoked() && iterator.end(ended('revoked')), 500) : undefined;
  expiry?.unref();
  revocation?.unref();
  const originalReturn = iterator.return.bind(iterator);
  iterator.return = () => {
    clearTimeout(expiry);
    clearInterval(revocation);
    return originalReturn();
  };
  return iterator;
}

export const subscriptionResolvers: SubscriptionResolvers = {
  jobUpdated: {
    subscribe: (_, { filter, after }, ctx) => {
      const f = compileJobFilter(filter);
      return guard(ctx, ctx.bus.subscribe('Job', (e) => f.matches(e.job) && visible(ctx, e.job), after));
    },
    resolve: resolveEvent,
  },
  pipelineUpdated: {
    subscribe: (_, { filter, after }, ctx) => {
      const f = compilePipelineFilter(filter);
      return guard(ctx, ctx.bus.subscribe('Pipeline', (e) => f.matches(e.pipeline) && visible(ctx, e.pipeline), after));
    },
    resolve: resolveEvent,
  },
  runnerUpdated: {
    subscribe: (_, { filter, after }, ctx) => {
      const f = compileRunnerFilter(filter);
      return guard(ctx, ctx.bus.subscribe('Runner', (e) => f.matches(e.runner) && visible(ctx, e.runner), after));
    },
    resolve: resolveEvent,
  },
};
