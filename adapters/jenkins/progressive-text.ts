/**
 * Pure reading of one `logText/progressiveText?start=<offset>` answer (stapler `LargeText`):
 *
 * - `X-Text-Size` is where the next read starts: `start` plus the console file's bytes this
 *   answer covered. While the build runs Jenkins serves whole lines only (at most 10,000), so
 *   it may stop short of the end; the next read continues from there.
 * - `X-More-Data: true` while the log may still grow; absent once the build finished.
 * - A `start` past the end is taken as a rolled-over log: Jenkins reads from 0 and answers the
 *   whole log with `X-Text-Size` = its size, below `start`. The contract wants empty bytes there.
 * - On a real controller the body is the console file after Jenkins strips its hidden
 *   ConsoleNote annotations (Pipeline's `[Pipeline]` lines carry them) and turns lone LF into
 *   CRLF, so its length may differ from `X-Text-Size - start`. `X-Text-Size` is then the truth
 *   for the next offset (it counts file bytes), which `nextOffset` carries; see ADAPTERS.md §14
 *   and the report of issue 17 (LogRead has no such field yet).
 */
export interface ProgressiveRead {
  /** The body as Jenkins sent it, raw. */
  readonly bytes: Buffer;
  /** False while Jenkins says more may come (`X-More-Data: true`). */
  readonly complete: boolean;
  /** `X-Text-Size`: the offset of the next read. */
  readonly nextOffset: number;
  /** Whether the body is exactly the bytes between `offset` and `nextOffset` (true for an unannotated log). */
  readonly exact: boolean;
}

export class ProgressiveTextError extends Error {}

const DIGITS = /^[0-9]{1,15}$/;

export function readProgressiveText(offset: number, body: Buffer, textSize: string | null, moreData: string | null): ProgressiveRead {
  const size = textSize?.trim() ?? '';
  if (!DIGITS.test(size)) throw new ProgressiveTextError(`progressiveText answered without a valid X-Text-Size (${textSize === null ? 'absent' : 'malformed'})`);
  const nextOffset = Number(size);
  // Jenkins' own client (progressiveText.js) tests the header for "true"; any other value ends the log.
  const complete = moreData?.trim().toLowerCase() !== 'true';
  if (nextOffset < offset) {
    // Rolled over: `offset` was past the end and Jenkins answered from 0. Nothing lies past `offset`.
    return { bytes: Buffer.alloc(0), complete, nextOffset: offset, exact: true };
  }
  return { bytes: body, complete, nextOffset, exact: nextOffset - offset === body.length };
}
