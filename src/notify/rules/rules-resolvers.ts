import type { FailureCategory as GqlCategory, MutationResolvers, NotificationRule, NotificationTrigger, QueryResolvers } from '../../__generated__/resolvers-types.ts';
import { fromGlobalId } from '../../ids.ts';
import type { PipelineModel } from '../../model.ts';
import { loadNodes } from '../../resolvers/load-nodes.ts';
import type { FailureCategory } from '../notification.ts';
import type { RuleConfig } from '../notify-config.ts';
import { matchesEverything } from './rule-match.ts';
import { NotificationError } from './watches.ts';
import type { NotificationErrorCode } from '../notification-error-code.ts';
import { NotifyCode } from '../notification-error-code.ts';

const CATEGORIES: readonly FailureCategory[] = ['code', 'infrastructure', 'none'];
const enumOf = (value: string) => value.toUpperCase().replace(/-/g, '_');

/** A rule as GraphQL shows it (schema/notifications.graphql `NotificationRule`). */
export function ruleView(rule: RuleConfig): NotificationRule {
  return {
    name: rule.name,
    match: { ...rule.match },
    triggers: rule.on.map((t) => enumOf(t) as NotificationTrigger),
    routes: CATEGORIES.map((c) => ({ category: enumOf(c) as GqlCategory, sinks: rule.route[c] ?? rule.sinks })),
    flaky: enumOf(rule.flaky) as NotificationRule['flaky'],
    stillFailingEveryMinutes: rule.stillFailingEveryMinutes,
    queuedLongerThanSeconds: rule.queuedLongerThanSeconds,
    runningLongerThanSeconds: rule.runningLongerThan === 'p95' ? null : rule.runningLongerThan,
    poolQueueAbove: rule.poolQueueAbove,
    poolOldestWaitAboveSeconds: rule.poolOldestWaitAboveSeconds,
    webhooksSilentSeconds: rule.webhooksSilentSeconds,
    matchesEverything: matchesEverything(rule),
  };
}

const refused = (clientMutationId: string | null | undefined, code: NotificationErrorCode, message: string) =>
  ({ clientMutationId: clientMutationId ?? null, pipeline: null, expiresAt: null, alreadyFinished: false, errors: [{ code, message }] });

/** Query.notificationRules and Mutation.watchPipeline (schema/notifications.graphql). */
export const rulesResolvers: { Query: Pick<QueryResolvers, 'notificationRules'>; Mutation: Pick<MutationResolvers, 'watchPipeline'> } = {
  Query: {
    notificationRules: (_, __, ctx) => (ctx.notifications?.config.rules ?? []).map(ruleView),
  },
  Mutation: {
    watchPipeline: async (_, { input }, ctx, info) => {
      const { clientMutationId, pipelineId, sink } = input;
      const notifications = ctx.notifications;
      if (!notifications?.watches) return refused(clientMutationId, NotifyCode.NotConfigured, 'notifications are not configured on this gateway');
      const sinkConfig = notifications.config.sinks.find((s) => s.name === sink);
      if (!sinkConfig) return refused(clientMutationId, NotifyCode.InvalidSink, `no sink named "${sink}"`);
      if (!sinkConfig.watchable) return refused(clientMutationId, NotifyCode.InvalidSink, `the sink "${sink}" is not watchable`);
      const parts = fromGlobalId(pipelineId);
      if (!parts || parts.type !== 'Pipeline') return refused(clientMutationId, NotifyCode.NotFound, `no pipeline with id "${pipelineId}"`);
      // Loaded as the caller: a pipeline outside the caller's scope does not exist for them.
      const [node] = await loadNodes(ctx, [parts], info);
      if (!node || !('type' in node) || node.type !== 'Pipeline') return refused(clientMutationId, NotifyCode.NotFound, `no pipeline with id "${pipelineId}"`);
      try {
        const result = await notifications.watches.watch(pipelineId, sink, ctx.identity.id);
        return { clientMutationId: clientMutationId ?? null, pipeline: node satisfies PipelineModel, expiresAt: result.expiresAt, alreadyFinished: result.alreadyFinished, errors: [] };
      } catch (error) {
        if (error instanceof NotificationError) return refused(clientMutationId, error.code, error.message);
        return refused(clientMutationId, NotifyCode.NotConfigured, `the watch could not be stored: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
  },
};
