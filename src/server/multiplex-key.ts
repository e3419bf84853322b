import { getArgumentValues, getOperationAST, getVariableValues, GraphQLError, Kind, visit, type DocumentNode, type FieldNode, type GraphQLSchema, type ValueNode } from 'graphql';
import type { AccessScope } from '../context.ts';
import { FULL_ACCESS } from '../context.ts';

export interface MultiplexInput {
  readonly document: DocumentNode;
  /** The operation's text as received: equal texts execute equally. */
  readonly source: string;
  readonly operationName: string | null | undefined;
  readonly variables: Readonly<Record<string, unknown>> | null | undefined;
  readonly scope: AccessScope;
  /** Root fields whose `filter` argument can be applied per subscriber to a shared execution. */
  readonly filterableFields?: ReadonlySet<string>;
}

export interface Multiplexing {
  readonly key: string;
  /**
   * Set when the only variable is the root field's whole `filter`: the group
   * runs with it null (every event in scope) and each member applies its own.
   */
  readonly memberFilter: { readonly field: string; readonly variable: string } | null;
}

/**
 * The group key under which identical subscriptions share one execution, or
 * null when this operation must run on its own: it is not a subscription, or
 * it resumes from a cursor (`after`), whose replay is the subscriber's own.
 * Operations that differ only in the value of a `filter: $variable` share the
 * execution too, since the selected result of an event does not depend on it.
 */
export function multiplexKey(input: MultiplexInput): Multiplexing | null {
  const operation = getOperationAST(input.document, input.operationName);
  if (!operation || operation.operation !== 'subscription') return null;
  const defaults = new Map<string, ValueNode | undefined>(operation.variableDefinitions?.map((d) => [d.variable.name.value, d.defaultValue]) ?? []);
  for (const selection of operation.selectionSet.selections) {
    // Fragments at the root would need resolving to see their arguments: run those alone.
    if (selection.kind !== Kind.FIELD) return null;
    if (RUNS_ALONE.has(selection.name.value)) return null;
    const after = selection.arguments?.find((a) => a.name.value === 'after');
    if (after && givesValue(after.value, input.variables, defaults)) return null;
  }
  const memberFilter = filterVariableOnly(input, operation.selectionSet.selections[0], operation.variableDefinitions ?? []);
  const variablePart = memberFilter ? `filter:${memberFilter.variable}` : JSON.stringify(input.variables ?? null);
  return { key: [scopeKey(input.scope), input.operationName ?? '', input.source, variablePart].join('\u0000'), memberFilter };
}

/** The root field and variable when the one variable (without default) is used only as that field's whole `filter`. */
function filterVariableOnly(
  input: MultiplexInput,
  root: unknown,
  definitions: readonly { variable: { name: { value: string } }; defaultValue?: unknown }[],
): Multiplexing['memberFilter'] {
  const field = root as { kind: Kind; name: { value: string }; arguments?: readonly { name: { value: string }; value: ValueNode }[] };
  if (definitions.length !== 1 || definitions[0]!.defaultValue !== undefined) return null;
  if (field.kind !== Kind.FIELD || !input.filterableFields?.has(field.name.value)) return null;
  const variable = definitions[0]!.variable.name.value;
  // Project names are matched with the live state's names, which a member filter does not have: such a filter runs in its group's execution.
  if ((input.variables?.[variable] as { projectNames?: unknown } | null | undefined)?.projectNames != null) return null;
  const filter = field.arguments?.find((a) => a.name.value === 'filter');
  if (filter?.value.kind !== Kind.VARIABLE || filter.value.name.value !== variable) return null;
  let uses = 0;
  visit(input.document, {
    Variable: (node, _key, parent) => {
      // Definitions name the variable; every other occurrence is a use.
      if ((parent as { kind?: Kind } | undefined)?.kind !== Kind.VARIABLE_DEFINITION) uses++;
    },
  });
  return uses === 1 ? { field: field.name.value, variable } : null;
}

function givesValue(value: ValueNode, variables: MultiplexInput['variables'], defaults: Map<string, ValueNode | undefined>): boolean {
  if (value.kind === Kind.NULL) return false;
  if (value.kind !== Kind.VARIABLE) return true;
  const name = value.name.value;
  if (variables && name in variables) return variables[name] !== null && variables[name] !== undefined;
  const fallback = defaults.get(name);
  return fallback !== undefined && fallback.kind !== Kind.NULL;
}

/**
 * Subscriptions that open with a snapshot of their own (runnerPoolUpdated sends
 * each pool's current figures first): a member joining a running group would miss it.
 * jobLog streams a log from its start (or a cursor), and counts and audits each watcher.
 */
const RUNS_ALONE: ReadonlySet<string> = new Set(['runnerPoolUpdated', 'jobLog']);

const scopeIds = new WeakMap<AccessScope, string>();
let nextScopeId = 0;

/**
 * Equal scopes see equal events. A compiled scope has a canonical key; any
 * other scope object only matches itself.
 */
function scopeKey(scope: AccessScope): string {
  if (scope === FULL_ACCESS) return '*';
  if (scope.key !== undefined) return `scope:${scope.key}`;
  let id = scopeIds.get(scope);
  if (!id) {
    id = `object:${nextScopeId++}`;
    scopeIds.set(scope, id);
  }
  return id;
}

/**
 * The key of the event source a multiplexed subscription listens to: its scope,
 * root field and root arguments as execution coerces them (so literals,
 * variables and defaults that mean the same thing share). Selections differ
 * freely under one source. Null when the arguments do not coerce (execution
 * reports that) or the root field carries directives: such an operation keeps
 * a source of its own.
 */
export function sourceKey(input: {
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly operationName: string | null | undefined;
  readonly variables: Readonly<Record<string, unknown>> | null | undefined;
  readonly scope: AccessScope;
}): string | null {
  const operation = getOperationAST(input.document, input.operationName);
  const root = operation?.selectionSet.selections[0] as FieldNode | undefined;
  if (!operation || root?.kind !== Kind.FIELD || (root.directives?.length ?? 0) > 0) return null;
  const field = input.schema.getSubscriptionType()?.getFields()[root.name.value];
  if (!field) return null;
  const coerced = getVariableValues(input.schema, operation.variableDefinitions ?? [], input.variables ?? {});
  if (coerced.errors) return null;
  try {
    const args = getArgumentValues(field, root, coerced.coerced);
    return [scopeKey(input.scope), root.name.value, JSON.stringify(args)].join('\u0000');
  } catch (error) {
    if (error instanceof GraphQLError) return null;
    throw error;
  }
}
