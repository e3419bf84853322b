import { getOperationAST, Kind, type DocumentNode, type ValueNode } from 'graphql';
import type { AccessScope } from '../context.ts';
import { FULL_ACCESS } from '../context.ts';

export interface MultiplexInput {
  readonly document: DocumentNode;
  /** The operation's text as received: equal texts execute equally. */
  readonly source: string;
  readonly operationName: string | null | undefined;
  readonly variables: Readonly<Record<string, unknown>> | null | undefined;
  readonly scope: AccessScope;
}

/**
 * The group key under which identical subscriptions share one execution, or
 * null when this operation must run on its own: it is not a subscription, or
 * it resumes from a cursor (`after`), whose replay is the subscriber's own.
 */
export function multiplexKey(input: MultiplexInput): string | null {
  const operation = getOperationAST(input.document, input.operationName);
  if (!operation || operation.operation !== 'subscription') return null;
  const defaults = new Map<string, ValueNode | undefined>(operation.variableDefinitions?.map((d) => [d.variable.name.value, d.defaultValue]) ?? []);
  for (const selection of operation.selectionSet.selections) {
    // Fragments at the root would need resolving to see their arguments: run those alone.
    if (selection.kind !== Kind.FIELD) return null;
    const after = selection.arguments?.find((a) => a.name.value === 'after');
    if (after && givesValue(after.value, input.variables, defaults)) return null;
  }
  return [scopeKey(input.scope), input.operationName ?? '', input.source, JSON.stringify(input.variables ?? null)].join('\u0000');
}

function givesValue(value: ValueNode, variables: MultiplexInput['variables'], defaults: Map<string, ValueNode | undefined>): boolean {
  if (value.kind === Kind.NULL) return false;
  if (value.kind !== Kind.VARIABLE) return true;
  const name = value.name.value;
  if (variables && name in variables) return variables[name] !== null && variables[name] !== undefined;
  const fallback = defaults.get(name);
  return fallback !== undefined && fallback.kind !== Kind.NULL;
}

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
