import type { EntityType } from './model.ts';

/**
 * Global IDs are base64url("<Type>:<backend>:<nativeId>"): opaque to clients,
 * stable across restarts, and decodable without a lookup. Backend names
 * cannot contain ':' (the config validates it); native ids may.
 */
export interface GlobalIdParts {
  readonly type: EntityType;
  readonly backend: string;
  readonly nativeId: string;
}

const TYPES: ReadonlySet<string> = new Set<EntityType>(['Backend', 'Project', 'Pipeline', 'Job', 'Runner']);

export function toGlobalId(type: EntityType, backend: string, nativeId: string): string {
  return Buffer.from(`${type}:${backend}:${nativeId}`, 'utf8').toString('base64url');
}

/** Returns null for anything that is not a well-formed global ID. */
export function fromGlobalId(id: string): GlobalIdParts | null {
  if (typeof id !== 'string' || id.length === 0 || id.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(id)) return null;
  const decoded = Buffer.from(id, 'base64url').toString('utf8');
  const first = decoded.indexOf(':');
  const second = first < 0 ? -1 : decoded.indexOf(':', first + 1);
  if (first <= 0 || second <= first + 1) return null;
  const type = decoded.slice(0, first);
  const backend = decoded.slice(first + 1, second);
  const nativeId = decoded.slice(second + 1);
  if (!TYPES.has(type) || nativeId.length === 0) return null;
  // Reject non-canonical encodings so one entity has exactly one ID.
  if (toGlobalId(type as EntityType, backend, nativeId) !== id) return null;
  return { type: type as EntityType, backend, nativeId };
}

export function entityGlobalId(entity: { readonly type: EntityType; readonly backend: string; readonly nativeId: string }): string {
  return toGlobalId(entity.type, entity.backend, entity.nativeId);
}
