import { createSourceEventStream, execute, getOperationAST, getVariableValues, GraphQLError, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { Plugin, YogaServerInstance } from 'graphql-yoga';
import type { WebSocket } from 'ws';
import type { GatewayContext, Identity } from '../context.ts';
import { multiplexKey, sourceKey } from './multiplex-key.ts';
import type { SharedSources } from './shared-sources.ts';
import type { GroupStart } from './subscription-multiplexer.ts';

/** Root value of a multiplexed subscription: what graphql-ws's `subscribe` needs to join its group. */
export interface MultiplexedRoot {
  readonly multiplexed: {
    readonly key: string;
    readonly start: GroupStart;
    readonly id: string;
    readonly socket: WebSocket;
    readonly identity: Identity;
    readonly accepts: ((event: unknown) => boolean) | undefined;
  };
}

export interface MultiplexRequest {
  readonly yoga: YogaServerInstance<Record<string, unknown>, GatewayContext>;
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly source: string;
  readonly payload: { readonly operationName?: string | null; readonly variables?: Record<string, unknown> | null };
  readonly identity: Identity;
  readonly id: string;
  readonly socket: WebSocket;
  /** Per-field event filters (src/resolvers/subscription-resolvers.ts). */
  readonly eventFilters: Readonly<Record<string, (filter: unknown) => (event: unknown) => boolean>>;
  /** The keys of `eventFilters`, built once at start-up. */
  readonly filterableFields: ReadonlySet<string>;
  /** Event sources shared by groups that differ only in their selection. */
  readonly sources: SharedSources;
}

/**
 * The root value a group subscribes with: useSharedSources() sees it and makes
 * the group's subscription a feed of the shared source, executed per event.
 */
class SharedSourceSubscription {
  constructor(readonly subscribe: (args: ExecutionArgs) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>) {}
}

/**
 * Replaces the engine's subscribe for multiplexed groups (first among our
 * plugins, so the others wrap it as they wrap the engine's): what the group
 * gets is still an envelop subscription, so every plugin's subscribe hooks run
 * once per group and its result hooks (yoga's error masking, Prometheus error
 * counts, suggestions stripped) once per executed event, as for graphql-js's
 * own mapped stream.
 */
export function useSharedSources(): Plugin {
  return {
    onSubscribe({ args, setSubscribeFn }) {
      const root = args.rootValue;
      if (root instanceof SharedSourceSubscription) setSubscribeFn((a: ExecutionArgs) => root.subscribe(a));
    },
  };
}

/**
 * Execution arguments that make graphql-ws join (or start) the group of
 * identical subscriptions; errors for a member whose own filter is invalid;
 * null when the operation must run on its own.
 */
export function prepareMultiplexed(r: MultiplexRequest): ExecutionArgs | readonly GraphQLError[] | null {
  const { payload, identity } = r;
  const plan = multiplexKey({
    document: r.document, source: r.source, operationName: payload.operationName, variables: payload.variables,
    scope: identity.scope, filterableFields: r.filterableFields,
  });
  if (!plan) return null;

  let accepts: ((event: unknown) => boolean) | undefined;
  let groupVariables = payload.variables ?? null;
  if (plan.memberFilter) {
    const { field, variable } = plan.memberFilter;
    // Coerced as execution would coerce them (enums, scalars), with the same errors.
    const operation = getOperationAST(r.document, payload.operationName)!;
    const coerced = getVariableValues(r.schema, operation.variableDefinitions ?? [], payload.variables ?? {});
    if (coerced.errors) return coerced.errors;
    try {
      accepts = r.eventFilters[field]!(coerced.coerced[variable] ?? null);
    } catch (error) {
      if (error instanceof GraphQLError) return [error];
      throw error;
    }
    groupVariables = { [variable]: null };
  }

  const operationName = payload.operationName ?? null;
  // Operations whose root field and arguments coerce alike listen to one source whatever they select.
  const source = sourceKey({ schema: r.schema, document: r.document, operationName, variables: groupVariables, scope: identity.scope }) ?? `own\u0000${plan.key}`;

  // The group runs under the scope alone: expiry and revocation are checked per member.
  const start: GroupStart = async (observe) => {
    const group = r.yoga.getEnveloped({ params: payload, identity: { ...identity, expiresAt: null, isRevoked: undefined } });
    // Parsed through the envelope (once per group) so parse-keyed plugins (Prometheus) see the group's execution.
    group.parse(r.source);
    const contextValue = await group.contextFactory();
    const rootValue = new SharedSourceSubscription((a) => r.sources.feed(
      source,
      // The source's root value is undefined, as for any subscription the engine starts.
      () => createSourceEventStream({ ...a, rootValue: undefined }),
      executeEach(a, observe),
    ));
    const args = { schema: group.schema, operationName, document: r.document, variableValues: groupVariables, contextValue, rootValue } satisfies ExecutionArgs;
    return (await group.subscribe(args)) as Awaited<ReturnType<GroupStart>>;
  };
  const rootValue: MultiplexedRoot = { multiplexed: { key: plan.key, start, id: r.id, socket: r.socket, identity, accepts } };
  return { schema: r.schema, operationName: payload.operationName ?? null, document: r.document, variableValues: payload.variables ?? null, contextValue: null, rootValue };
}

/**
 * One group's per-event execution: graphql-js `execute` of its cached, validated
 * document with the event as root value, exactly what graphql-js `subscribe`
 * does with each source event. Executing with resolvers that return values
 * synchronously takes no promise at all; the group's own context (fresh
 * loaders per event: resolveEvent) is used as it was for its own stream.
 */
function executeEach(a: ExecutionArgs, observe: (event: unknown) => void): (event: unknown) => ExecutionResult | Promise<ExecutionResult> {
  const { schema, document, operationName, variableValues, contextValue, fieldResolver, typeResolver } = a;
  return (event) => {
    observe(event);
    return execute({ schema, document, operationName, variableValues, contextValue, fieldResolver, typeResolver, rootValue: event });
  };
}
