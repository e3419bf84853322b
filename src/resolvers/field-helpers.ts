import type { GraphQLResolveInfo } from 'graphql';
import type { BackendEntry } from '../backend-registry.ts';
import type { GatewayContext } from '../context.ts';
import { toBackendGraphQLError } from '../errors.ts';

export function backendOf(ctx: GatewayContext, name: string): BackendEntry {
  const backend = ctx.registry.get(name);
  if (!backend) throw new Error(`entity refers to unknown backend ${name}`);
  return backend;
}

/** Seconds between two ISO times; `to` defaults to now for things still going on. */
export function secondsBetween(from: string | null, to: string | null, now: Date, ongoing: boolean): number | null {
  if (!from) return null;
  const end = to ? Date.parse(to) : ongoing ? now.getTime() : null;
  if (end === null) return null;
  return Math.max(0, (end - Date.parse(from)) / 1000);
}

/**
 * Loads a related entity; an upstream failure becomes a field error that names
 * the backend (never the masked "Unexpected error").
 */
export async function loadRelated<T>(backend: BackendEntry, load: () => Promise<T>, _info: GraphQLResolveInfo): Promise<T> {
  try {
    return await load();
  } catch (error) {
    throw toBackendGraphQLError(backend.name, error);
  }
}
