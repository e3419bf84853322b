import { getOperationAST, getVariableValues, GraphQLError, type DocumentNode, type ExecutionArgs, type GraphQLSchema } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import type { WebSocket } from 'ws';
import type { GatewayContext, Identity } from '../context.ts';
import { multiplexKey } from './multiplex-key.ts';
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

  // The group runs under the scope alone: expiry and revocation are checked per member.
  const start: GroupStart = async (observe) => {
    const group = r.yoga.getEnveloped({ params: payload, identity: { ...identity, expiresAt: null, isRevoked: undefined } });
    // Parsed through the envelope (once per group) so parse-keyed plugins (Prometheus) see the group's execution.
    group.parse(r.source);
    const contextValue = await group.contextFactory();
    contextValue.observeEvent = observe;
    const args = { schema: group.schema, operationName: payload.operationName ?? null, document: r.document, variableValues: groupVariables, contextValue } satisfies ExecutionArgs;
    return (await group.subscribe(args)) as Awaited<ReturnType<GroupStart>>;
  };
  const rootValue: MultiplexedRoot = { multiplexed: { key: plan.key, start, id: r.id, socket: r.socket, identity, accepts } };
  return { schema: r.schema, operationName: payload.operationName ?? null, document: r.document, variableValues: payload.variables ?? null, contextValue: null, rootValue };
}
