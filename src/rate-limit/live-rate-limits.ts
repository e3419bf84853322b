import type { GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { applyRateLimitOverrides, longestWindowMs, type RateLimitOverrides } from './use-rate-limits.ts';

/**
 * The schema whose @rateLimit directives the limiter reads (the config's
 * `rateLimit.fields` applied to the base schema), replaceable while the server
 * runs. The limiter reads the directives of each execution's schema, so new
 * operations meet the new max and window; operations already running keep the
 * schema they started with. The stores keep their call times: calls already
 * made count against the new limit within its window. (`base`: the schema
 * without overrides; the fields' other directive arguments stay as declared.)
 */
export function liveRateLimitSchema(base: GraphQLSchema, store: { maxWindowMs: number }) {
  let setSchema: ((schema: GraphQLSchema) => void) | null = null;
  return {
    /** Holds envelop's setSchema, the supported way for a plugin to replace the schema later. */
    plugin: {
      onPluginInit(payload) {
        setSchema = payload.setSchema;
      },
    } satisfies Plugin,
    /** Builds the new schema without applying it: an unknown field throws here, before any part of a reload is applied. */
    prepare(next: RateLimitOverrides): () => void {
      const nextSchema = applyRateLimitOverrides(base, next);
      const windowMs = longestWindowMs(nextSchema, next);
      return () => {
        store.maxWindowMs = windowMs;
        setSchema?.(nextSchema);
      };
    },
  };
}
