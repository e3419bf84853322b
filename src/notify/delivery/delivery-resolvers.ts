import type { GraphQLResolveInfo } from 'graphql';
import type {
  FailureCategory as GqlFailureCategory, NotificationDelivery as GqlDelivery, NotificationDeliveryState as GqlDeliveryState, NotificationError,
  NotificationSinkType, NotificationTrigger, QueryNotificationDeliveriesArgs, Resolvers,
} from '../../__generated__/resolvers-types.ts';
import type { GatewayContext } from '../../context.ts';
import { badInput } from '../../errors.ts';
import { fromGlobalId } from '../../ids.ts';
import type { EntityModel } from '../../model.ts';
import { loadNodes } from '../../resolvers/load-nodes.ts';
import type { DeliveryRecord, DeliveryState } from '../notify-context.ts';
import type { FailureCategory, Notification, TriggerKind } from '../notification.ts';
import { deliveryCursor } from './outbox-rows.ts';
import { sinkTarget } from './sink-target.ts';
import { NotifyCode } from '../notification-error-code.ts';

const MAX_FIRST = 200;

/** `still-failing` ↔ STILL_FAILING: the schema's enums are the config's words, upper-cased. */
const upper = <T extends string>(word: string): T => word.toUpperCase().replaceAll('-', '_') as T;
export const triggerToGraphql = (t: TriggerKind): NotificationTrigger => upper(t);
export const categoryToGraphql = (c: FailureCategory): GqlFailureCategory => upper(c);
const stateToGraphql = (s: DeliveryState): GqlDeliveryState => upper(s);
const stateFromGraphql = (s: GqlDeliveryState): DeliveryState => s.toLowerCase() as DeliveryState;

/** The message behind each delivery node, for its `pipeline` and `job` fields (loaded, and scoped, only when asked). */
const messages = new WeakMap<object, Notification>();

type DeliveryNode = Omit<GqlDelivery, 'job' | 'pipeline'>;

function nodeOf(record: DeliveryRecord): DeliveryNode {
  const n = record.notification;
  const node: DeliveryNode = {
    id: record.id, sink: record.sink, rule: n.rule, trigger: triggerToGraphql(n.trigger), category: categoryToGraphql(n.category),
    state: stateToGraphql(record.state), summary: n.summary, backend: n.backend, attempts: record.attempts, lastStatus: record.lastStatus,
    lastError: record.lastError, createdAt: record.createdAt, nextAttemptAt: record.nextAttemptAt, deliveredAt: record.deliveredAt, latencyMs: record.latencyMs,
  };
  messages.set(node, n);
  return node;
}

/** The pipeline or job a message is about, as the caller may see it now (null when gone or out of scope). */
async function entityOf<T extends EntityModel['type']>(ctx: GatewayContext, info: GraphQLResolveInfo, type: T, globalId: string | undefined): Promise<Extract<EntityModel, { type: T }> | null> {
  const parts = globalId ? fromGlobalId(globalId) : null;
  if (!parts || parts.type !== type) return null;
  const [node] = await loadNodes(ctx, [parts], info);
  return node && 'type' in node && node.type === type ? (node as Extract<EntityModel, { type: T }>) : null;
}

/** Whether the caller may re-drive a message: the `retry` action on its backend and project (pool and backend messages: on the whole backend). */
export function mayRedrive(ctx: GatewayContext, record: DeliveryRecord): boolean {
  const { backend, project } = record.notification;
  return ctx.identity.scope.allowsAction('retry', backend, project ? [project.nativeId, project.fullName] : []);
}

const notConfigured = (): NotificationError => ({ code: NotifyCode.NotConfigured, message: 'notifications are not configured, or the history (which holds the outbox) is off' });

/** Query.notificationDeliveries, Query.notificationSinks, Mutation.redriveNotifications (schema/notifications.graphql). */
export const deliveryResolvers = {
  Query: {
    notificationDeliveries: async (_: unknown, args: QueryNotificationDeliveriesArgs, ctx: GatewayContext) => {
      const first = args.first ?? 50;
      if (first < 0 || first > MAX_FIRST) throw badInput(`notificationDeliveries: first must be between 0 and ${MAX_FIRST}, got ${first}`);
      const outbox = ctx.notifications?.outbox;
      if (!outbox) return { edges: [], pageInfo: { hasNextPage: false, endCursor: null } };
      const page = await outbox.list(
        { first, ...(args.state ? { state: stateFromGraphql(args.state) } : {}), ...(args.sink ? { sink: args.sink } : {}), ...(args.after ? { after: args.after } : {}) },
        ctx.identity.scope,
      );
      return { edges: page.records.map((r) => ({ cursor: deliveryCursor(r), node: nodeOf(r) })), pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor } };
    },
    notificationSinks: async (_: unknown, __: unknown, ctx: GatewayContext) => {
      const notifications = ctx.notifications;
      if (!notifications) return [];
      const counts = notifications.outbox ? await notifications.outbox.counts() : new Map<string, { pending: number; dead: number }>();
      return notifications.config.sinks.map((s) => ({
        name: s.name, type: upper<NotificationSinkType>(s.type), target: sinkTarget(s), watchable: s.watchable, concurrency: s.concurrency,
        ratePerMinute: s.ratePerMinute, pending: counts.get(s.name)?.pending ?? 0, dead: counts.get(s.name)?.dead ?? 0,
      }));
    },
  },
  Mutation: {
    redriveNotifications: async (_: unknown, { input }: { input: { clientMutationId?: string | null; ids?: readonly string[] | null; sink?: string | null } }, ctx: GatewayContext) => {
      const clientMutationId = input.clientMutationId ?? null;
      const outbox = ctx.notifications?.outbox;
      if (!outbox) return { clientMutationId, redriven: 0, errors: [notConfigured()] };
      if (input.sink && !ctx.notifications?.config.sinks.some((s) => s.name === input.sink))
        return { clientMutationId, redriven: 0, errors: [{ code: NotifyCode.InvalidSink, message: `no sink named "${input.sink}"` }] };
      let refused = 0;
      const redriven = await outbox.redrive({ ...(input.ids ? { ids: input.ids } : {}), ...(input.sink ? { sink: input.sink } : {}) }, (record) => {
        const allowed = mayRedrive(ctx, record);
        if (!allowed) refused++;
        return allowed;
      });
      const errors: NotificationError[] = [];
      if (refused > 0) errors.push({ code: NotifyCode.Forbidden, message: `${refused} message(s) not re-driven: re-driving needs the retry action permission on the message's backend and project` });
      if (input.ids && redriven + refused < new Set(input.ids).size)
        errors.push({ code: NotifyCode.NotFound, message: `${new Set(input.ids).size - redriven - refused} of the ids name no dead or pending message (delivered, being sent, pruned or unknown)` });
      return { clientMutationId, redriven, errors };
    },
  },
  NotificationDelivery: {
    pipeline: (parent: object, _: unknown, ctx: GatewayContext, info: GraphQLResolveInfo) => entityOf(ctx, info, 'Pipeline', messages.get(parent)?.pipeline?.id),
    job: (parent: object, _: unknown, ctx: GatewayContext, info: GraphQLResolveInfo) => entityOf(ctx, info, 'Job', messages.get(parent)?.job?.id),
  },
} satisfies Resolvers;
