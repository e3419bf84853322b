import { badInput } from '../errors.ts';

export interface Edge<T> {
  readonly cursor: string;
  readonly node: T;
}

export interface Connection<T> {
  readonly edges: readonly Edge<T>[];
  readonly nodes: readonly T[];
  readonly pageInfo: { readonly hasNextPage: boolean; readonly endCursor: string | null };
}

/** A position in a list ordered by (sortKey desc, id desc). Opaque to clients. */
export interface CursorPosition {
  readonly key: number | string;
  readonly id: string;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.key, position.id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined): CursorPosition | null {
  if (cursor === null || cursor === undefined) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && (typeof parsed[0] === 'number' || typeof parsed[0] === 'string') && typeof parsed[1] === 'string') {
      return { key: parsed[0], id: parsed[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw badInput(`Invalid cursor "${cursor.slice(0, 40)}": pass an endCursor or edge cursor from a previous page.`);
}

/** Validates `first`: 1..max. */
export function pageSize(first: number | null | undefined, fallback: number, max: number): number {
  const n = first ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > max) throw badInput(`first must be between 1 and ${max}, got ${String(first)}`);
  return n;
}

function compare(a: CursorPosition, b: CursorPosition, ascending: boolean): number {
  const sign = ascending ? 1 : -1;
  if (a.key !== b.key) return (a.key < b.key ? -1 : 1) * sign;
  if (a.id !== b.id) return (a.id < b.id ? -1 : 1) * sign;
  return 0;
}

/**
 * Sorts, skips up to and including `after`, and cuts a page. `position` gives
 * each item's place in the order; `ascending` false means newest first.
 */
export function paginate<T>(
  items: readonly T[],
  position: (item: T) => CursorPosition,
  options: { first: number; after: CursorPosition | null; ascending: boolean },
): Connection<T> {
  const positioned = items.map((node) => ({ node, pos: position(node) }));
  positioned.sort((x, y) => compare(x.pos, y.pos, options.ascending));
  const after = options.after;
  const start = after ? positioned.findIndex((p) => compare(p.pos, after, options.ascending) > 0) : 0;
  const rest = start < 0 ? [] : positioned.slice(start);
  const page = rest.slice(0, options.first);
  const edges = page.map((p) => ({ cursor: encodeCursor(p.pos), node: p.node }));
  return {
    edges,
    nodes: page.map((p) => p.node),
    pageInfo: { hasNextPage: rest.length > options.first, endCursor: edges.at(-1)?.cursor ?? null },
  };
}
