import type { SubscriptionResolvers } from '../__generated__/resolvers-types.ts';
import type { GatewayContext } from '../context.ts';
import type { ChangeEvent, ChangeEventByType, EventType } from '../events/event-types.ts';
import type { BoundedQueueIterator } from '../events/bounded-queue-iterator.ts';
import type { EntityModel } from '../model.ts';
import { compileJobFilter, compilePipelineFilter, compileRunnerFilter, type FilterUse } from './filters.ts';
import { ErrorCode, gatewayError } from '../errors.ts';
import { callerSees, learnProjectNames, namedByPatterns } from './backend-calls.ts';
import { learnNamesForFilter, liveProjectName } from './project-name-filter-live.ts';

/**
 * Each event is executed against fresh per-event loaders, so nested fields
 * (job.runner, pipeline.project) reflect the state at delivery, not the
 * state when the subscription started.
 */
function resolveEvent<T extends ChangeEvent>(event: T, _args: unknown, ctx: GatewayContext): T {
  ctx.resetLoaders();
  return event;
}

/** One subscription field: the event type it streams, its filter, and the entity each event carries (what scope is checked on). */
interface SubscriptionField<K extends EventType, F, E extends EntityModel> {
  readonly eventType: K;
  readonly compileFilter: (filter: F | null, use: FilterUse) => { readonly matches: (entity: E) => boolean; readonly statusChanged?: boolean; readonly stateChanged?: boolean };
  readonly entityOf: (event: ChangeEventByType[K]) => E;
  /** Whether the event is a transition: its status (state) differs from the previous one. */
  readonly changed: (event: ChangeEventByType[K]) => boolean;
}

const field = <K extends EventType, F, E extends EntityModel>(row: SubscriptionField<K, F, E>) => row;

/**
 * The subscription fields, one row each: everything else (filtering, scope
 * checks, resume with `after`, credential expiry) is the same for all of them.
 */
const SUBSCRIPTION_FIELDS = {
  jobUpdated: field({ eventType: 'Job', compileFilter: compileJobFilter, entityOf: (e) => e.job, changed: (e) => e.job.status !== e.previousStatus }),
  pipelineUpdated: field({ eventType: 'Pipeline', compileFilter: compilePipelineFilter, entityOf: (e) => e.pipeline, changed: (e) => e.pipeline.status !== e.previousStatus }),
  runnerUpdated: field({ eventType: 'Runner', compileFilter: compileRunnerFilter, entityOf: (e) => e.runner, changed: (e) => e.runner.state !== e.previousState }),
} as const;

type SubscriptionFieldName = keyof typeof SUBSCRIPTION_FIELDS;
// Loosened for the table-driven code below; each row is checked against its own types above.
type AnyField = SubscriptionField<EventType, unknown, EntityModel>;
const rowOf = (name: SubscriptionFieldName) => SUBSCRIPTION_FIELDS[name] as unknown as AnyField;

/**
 * A field's filter as a predicate on any event: its event type, a match, and with
 * `statusChanged` / `stateChanged` a transition. The one predicate for live events,
 * replays after a cursor and events read from Redis alike (each carries its previous
 * status). Compiling throws the filter's GraphQLError (e.g. a malformed id).
 */
function eventFilter(name: SubscriptionFieldName, filter: unknown, use: FilterUse = { purpose: 'subscription' }): (event: unknown) => boolean {
  const row = rowOf(name);
  const compiled = row.compileFilter(filter ?? null, use);
  const transitionsOnly = compiled.statusChanged === true || compiled.stateChanged === true;
  return (event) =>
    (event as ChangeEvent).type === row.eventType && compiled.matches(row.entityOf(event as ChangeEvent)) && (!transitionsOnly || row.changed(event as ChangeEvent));
}

/**
 * Each subscription field's filter as a predicate on its events. Subscribers
 * whose operations differ only in the `filter` variable share one execution
 * (src/server/subscription-multiplexer.ts) and are filtered one by one with these;
 * a subscription of its own filters with the same predicate. These know no live
 * state, so a filter with `projectNames` (matched by the names the live state knows)
 * is never shared this way: src/server/multiplex-key.ts runs it in its own group.
 */
export const subscriptionEventFilters = Object.fromEntries(
  Object.keys(SUBSCRIPTION_FIELDS).map((name) => [name, (filter: unknown) => eventFilter(name as SubscriptionFieldName, filter)]),
) as Record<SubscriptionFieldName, (filter: unknown) => (event: unknown) => boolean>;

/** In scope, and the credential still valid: nothing is delivered after it expires or is revoked. */
function visible(ctx: GatewayContext, entity: EntityModel): boolean {
  if (!ctx.credentials.stillValid(ctx.identity)) return false;
  if (callerSees(ctx, entity)) return true;
  // A project new since the stream began: named in the background, for its next events.
  if (namedByPatterns(ctx, entity) && 'projectNativeId' in entity && !ctx.state.get('Project', entity.backend, entity.projectNativeId)) void learnProjectNames(ctx);
  return false;
}

/**
 * Ends the subscription when the credential expires or is revoked (on every
 * transport; the WebSocket binding also closes the socket with 4403). The
 * gateway's one credential watcher pushes the end.
 */
export function guard<T>(ctx: GatewayContext, iterator: BoundedQueueIterator<T>): BoundedQueueIterator<T> {
  const ended = (why: string) => gatewayError(ErrorCode.Unauthenticated, `Credentials ${why}`);
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

/** One field's resolver: its events that pass the filter and the caller's scope, from `after` when given. */
function subscriptionResolver(name: SubscriptionFieldName) {
  const row = rowOf(name);
  return {
    subscribe: async (_: unknown, { filter, after }: { filter?: unknown; after?: string | null }, ctx: GatewayContext) => {
      // With `projectNames`, a project is matched by the full name the live state knows (as scopes are).
      const accepts = eventFilter(name, filter, { purpose: 'subscription', projectName: liveProjectName(ctx) });
      // Events are checked one by one without waiting: the project names patterns match must be known first.
      if (ctx.credentials.stillValid(ctx.identity)) await Promise.all([learnProjectNames(ctx), learnNamesForFilter(ctx, filter)]);
      return guard(ctx, ctx.bus.subscribe(row.eventType, (e) => accepts(e) && visible(ctx, row.entityOf(e)), after));
    },
    resolve: resolveEvent,
  };
}

export const subscriptionResolvers: SubscriptionResolvers = Object.fromEntries(
  Object.keys(SUBSCRIPTION_FIELDS).map((name) => [name, subscriptionResolver(name as SubscriptionFieldName)]),
) as Record<SubscriptionFieldName, ReturnType<typeof subscriptionResolver>>;
