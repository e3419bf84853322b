import type { Resolvers } from '../__generated__/resolvers-types.ts';
import { badInput } from '../errors.ts';
import { fromGlobalId } from '../ids.ts';
import { actionResolvers } from '../actions/action-resolvers.ts';
import { deliveryResolvers } from '../notify/delivery/delivery-resolvers.ts';
import { rulesResolvers } from '../notify/rules/rules-resolvers.ts';
import { analyticsQueries } from './analytics.ts';
import { loadNodes } from './load-nodes.ts';
import { logResolvers } from './log-resolvers.ts';
import { resolveJobs } from './query-jobs.ts';
import { resolveProjects, resolveRunners } from './query-lists.ts';
import { resolvePipelines } from './query-pipelines.ts';
import { estimateOf } from './estimates.ts';
import { runnerPoolSubscription } from './runner-pool-subscription.ts';
import { runnerPoolResolvers } from './runner-pools.ts';
import { DateTimeScalar } from './scalars.ts';
import { subscriptionResolvers } from './subscription-resolvers.ts';
import { typeResolvers } from './type-resolvers.ts';

const MAX_NODES = 100;

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  ActionInputValue: actionResolvers.ActionInputValue!,
  Mutation: { ...actionResolvers.Mutation!, ...deliveryResolvers.Mutation, ...rulesResolvers.Mutation },
  Query: {
    backends: (_, __, ctx) => [...ctx.registry.all()],
    gatewayLoad: (_, __, ctx) => ctx.load?.() ?? { overloaded: false, eventLoopLagMs: 0, boundMs: 0 },
    node: async (_, { id }, ctx, info) => {
      const parts = fromGlobalId(id);
      if (!parts) return null;
      const [node] = await loadNodes(ctx, [parts], info);
      return node ?? null;
    },
    nodes: async (_, { ids }, ctx, info) => {
      if (ids.length > MAX_NODES) throw badInput(`nodes accepts at most ${MAX_NODES} ids, got ${ids.length}`);
      const decoded = ids.map((id) => fromGlobalId(id));
      const valid = decoded.filter((p) => p !== null);
      const loaded = await loadNodes(ctx, valid, info);
      let next = 0;
      return decoded.map((p) => (p ? loaded[next++] ?? null : null));
    },
    pipelines: (_, args, ctx, info) => resolvePipelines(ctx, args, info),
    jobs: (_, args, ctx, info) => resolveJobs(ctx, args, info),
    runners: (_, args, ctx, info) => resolveRunners(ctx, args, info),
    projects: (_, args, ctx, info) => resolveProjects(ctx, args, info),
    ...analyticsQueries,
    ...runnerPoolResolvers.Query,
    ...deliveryResolvers.Query,
    ...rulesResolvers.Query,
  },
  Subscription: { ...subscriptionResolvers, runnerPoolUpdated: runnerPoolSubscription, ...logResolvers.Subscription },
  ...typeResolvers,
  Pipeline: { ...typeResolvers.Pipeline, ...actionResolvers.Pipeline, estimate: (p, _, ctx) => estimateOf(p, ctx) },
  Job: { ...typeResolvers.Job, ...logResolvers.Job, estimate: (j, _, ctx) => estimateOf(j, ctx) },
  RunnerPool: runnerPoolResolvers.RunnerPool,
  NotificationDelivery: deliveryResolvers.NotificationDelivery,
};
