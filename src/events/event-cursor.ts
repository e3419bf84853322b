import { randomBytes } from 'node:crypto';

/**
 * Event cursors: opaque to clients, `<store>1.<epoch>.<position>`.
 * - memory: position is the bus's own sequence number; the epoch is random per process,
 *   so a cursor from a restarted (or another) process is recognised as lost history.
 * - redis: position is the Redis Stream entry id (`ms-seq`); the epoch lives in Redis and
 *   changes when Redis loses the streams.
 */
export type CursorStore = 'm' | 'r';

export interface ParsedCursor {
  readonly store: CursorStore;
  readonly epoch: string;
  /** [major, minor]: a sequence is [n, 0], a stream id is [ms, seq]. */
  readonly position: readonly [bigint, bigint];
  readonly raw: string;
}

const CURSOR = /^([mr])1\.([0-9a-f]{8,64})\.(\d{1,20})(?:-(\d{1,20}))?$/;

export function newEpoch(): string {
  return randomBytes(8).toString('hex');
}

export function formatCursor(store: CursorStore, epoch: string, position: string | number): string {
  return `${store}1.${epoch}.${position}`;
}

export function parseCursor(cursor: string): ParsedCursor | null {
  const m = CURSOR.exec(cursor);
  if (!m) return null;
  return { store: m[1] as CursorStore, epoch: m[2]!, position: [BigInt(m[3]!), BigInt(m[4] ?? '0')], raw: cursor };
}

/** Orders two cursors of the same store and epoch (callers check that first). */
export function comparePositions(a: ParsedCursor['position'], b: ParsedCursor['position']): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return 0;
}

/** -1/0/1 by position; cursors that do not parse sort first (they never suppress an event). */
export function compareCursors(a: string, b: string): number {
  const pa = parseCursor(a);
  const pb = parseCursor(b);
  if (!pa || !pb) return pa ? 1 : pb ? -1 : 0;
  return comparePositions(pa.position, pb.position);
}
