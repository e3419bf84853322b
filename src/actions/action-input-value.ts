import { GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import type { ActionInputValue } from '../adapter-contract.ts';
import { badInput } from '../errors.ts';

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number') return `the number ${String(value)}`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** A string, a finite number or a boolean; anything else is refused naming what it got. */
export function parseActionInputValue(value: unknown): ActionInputValue {
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw badInput(`ActionInputValue: expected a string, a finite number or a boolean, received ${describe(value)}`);
}

function literal(node: ValueNode): ActionInputValue {
  switch (node.kind) {
    case Kind.STRING:
      return node.value;
    case Kind.BOOLEAN:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return parseActionInputValue(Number(node.value));
    default:
      throw badInput(`ActionInputValue: expected a string, a finite number or a boolean, received ${node.kind === Kind.NULL ? 'null' : node.kind === Kind.LIST ? 'a list' : node.kind === Kind.OBJECT ? 'an object' : `a ${node.kind.toLowerCase()}`}`);
  }
}

export const ActionInputValueScalar = new GraphQLScalarType<ActionInputValue, ActionInputValue>({
  name: 'ActionInputValue',
  description: 'A string, a finite number or a boolean.',
  serialize: parseActionInputValue,
  parseValue: parseActionInputValue,
  parseLiteral: literal,
});
