/**
 * The opaque cursor of a log position: a base64url string holding the upstream byte offset.
 * Opaque so clients pass it back as is; validated so a hand-made one is refused clearly.
 */
import { badInput } from '../errors.ts';

const PREFIX = 'log1:';

export function encodeLogCursor(offset: number): string {
  return Buffer.from(`${PREFIX}${offset}`, 'utf8').toString('base64url');
}

/** The byte offset a cursor holds, or null when it is not one of ours. Pure. */
export function parseLogCursor(cursor: string): number | null {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(cursor)) return null;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^log1:(0|[1-9]\d{0,15})$/.exec(text);
  if (!match) return null;
  const offset = Number(match[1]);
  return Number.isSafeInteger(offset) ? offset : null;
}

/** The offset of an optional `after` argument; a malformed cursor is a BAD_USER_INPUT error. */
export function logOffsetOf(after: string | null | undefined): number | null {
  if (after === null || after === undefined) return null;
  const offset = parseLogCursor(after);
  if (offset === null) throw badInput('after is not a log cursor: pass the `cursor` of a LogChunk or JobLog as it was given');
  return offset;
}
