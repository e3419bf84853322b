import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { ErrorCode, gatewayError } from '../errors.ts';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

function parseIso(value: unknown): string {
  if (typeof value !== 'string' || !ISO.test(value) || Number.isNaN(Date.parse(value))) {
    throw gatewayError(ErrorCode.BadUserInput, `DateTime must be an ISO-8601 timestamp such as 2026-11-24T15:00:00Z, got ${JSON.stringify(value)}`);
  }
  return new Date(value).toISOString();
}

/** ISO-8601 in UTC on output; strict ISO-8601 with offset on input. */
export const DateTimeScalar = new GraphQLScalarType({
  name: 'DateTime',
  serialize(value) {
    if (value instanceof Date) return value.toISOString();
    if (typeof value === 'string') return value;
    throw new GraphQLError(`DateTime cannot represent ${typeof value}`);
  },
  parseValue: parseIso,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw gatewayError(ErrorCode.BadUserInput, 'DateTime must be a string', { nodes: [ast] });
    return parseIso(ast.value);
  },
});
