import { useRateLimiter } from '@envelop/rate-limiter';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLSchema } from 'graphql';
import { getDirectiveExtensions, mapSchema, MapperKind } from '@graphql-tools/utils';
import { isObjectType, Kind, type ConstArgumentNode, type ConstDirectiveNode } from 'graphql';
import type { Store , InMemoryStore} from '@envelop/rate-limiter';
import { ErrorCode, gatewayError } from '../errors.ts';

export interface RateLimitOverrides {
  readonly [typeDotField: string]: { readonly max: number; readonly window: string };
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** "30s", "1m", "2h": the window forms the config accepts (a subset of the limiter's). */
export function windowToMs(window: string): number {
  const m = /^(\d+)\s*(ms|s|m|h)$/.exec(window.trim());
  if (!m) throw new Error(`rate-limit window ${JSON.stringify(window)}: expected a duration like 30s, 1m or 1h`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/**
 * Names of the fields whose `@rateLimit` costs one per list item (`arrayLengthField`):
 * the only ones whose stores record more than the one call reserved.
 */
export function perItemCostFields(schema: GraphQLSchema): ReadonlySet<string> {
  const names = new Set<string>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (getDirectiveExtensions<{ rateLimit: { arrayLengthField?: string } }>(field, schema).rateLimit?.[0]?.arrayLengthField) names.add(field.name);
    }
  }
  return names;
}

/** Longest window declared in the schema or config: how long stores keep call times. */
export function longestWindowMs(schema: GraphQLSchema, overrides: RateLimitOverrides): number {
  let longest = 60_000;
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const directive = getDirectiveExtensions<{ rateLimit: { window?: string } }>(field, schema).rateLimit?.[0];
      if (directive?.window) longest = Math.max(longest, windowToMs(directive.window));
    }
  }
  for (const o of Object.values(overrides)) longest = Math.max(longest, windowToMs(o.window));
  return longest;
}

/**
 * Applies operator overrides to the schema's @rateLimit directives (one source
 * of truth for the limiter: the schema), e.g. `Query.pipelines: { max: 10, window: "1m" }`.
 */
export function applyRateLimitOverrides(schema: GraphQLSchema, overrides: RateLimitOverrides): GraphQLSchema {
  if (Object.keys(overrides).length === 0) return schema;
  const unknown = new Set(Object.keys(overrides));
  const result = mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (config, fieldName, typeName) => {
      const override = overrides[`${typeName}.${fieldName}`];
      if (!override || !config.astNode) return config;
      unknown.delete(`${typeName}.${fieldName}`);
      const directive: ConstDirectiveNode & { arguments: ConstArgumentNode[] } = {
        kind: Kind.DIRECTIVE,
        name: { kind: Kind.NAME, value: 'rateLimit' },
        arguments: [
          { kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'max' }, value: { kind: Kind.INT, value: String(override.max) } },
          { kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'window' }, value: { kind: Kind.STRING, value: override.window } },
        ],
      };
      const existing = (config.astNode.directives ?? []).find((d) => d.name.value === 'rateLimit');
      // Keep what the override does not set (e.g. `arrayLengthField: "ids"`: nodes costs one per id).
      const kept = (existing?.arguments ?? []).filter((a) => a.name.value !== 'max' && a.name.value !== 'window');
      directive.arguments.push(...kept);
      const others = (config.astNode.directives ?? []).filter((d) => d.name.value !== 'rateLimit');
      return { ...config, astNode: { ...config.astNode, directives: [...others, directive] } };
    },
  });
  if (unknown.size > 0) throw new Error(`rateLimit.fields: no such field ${[...unknown].join(', ')}`);
  return result;
}

/** The rate limiter, keyed by the caller's identity, answering with code RATE_LIMITED. */
export function useRateLimits(options: { store: Store | InMemoryStore; identify: (context: unknown) => string }): Plugin {
  return useRateLimiter({
    identifyFn: (context) => options.identify(context),
    store: options.store,
    transformError: (message) => gatewayError(ErrorCode.RateLimited, message, { extensions: { http: { status: 429 } } }),
  }) as Plugin;
}
