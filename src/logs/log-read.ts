/**
 * `Job.log`: what a job's log holds now, read once upstream: all of it, its last `tail` lines,
 * or what follows an offset; whole lines only (a running log's partial last line waits), and at
 * most `maxBytes` (the newest: earlier text is cut and `truncated` set).
 */
import type { LogRead } from '../adapter-contract.ts';
import { LogChunker, type ChunkerOptions } from './log-chunker.ts';
import type { JobLogModel } from './log-types.ts';

const NEWLINE = 0x0a;

/** Where the last `lines` lines of `bytes[0, end)` start. Pure. */
export function startOfLastLines(bytes: Uint8Array, end: number, lines: number): number {
  if (lines <= 0) return end;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  let position = end > 0 && buf[end - 1] === NEWLINE ? end - 1 : end;
  for (let i = 1; i <= lines; i++) {
    const newline = position > 0 ? buf.lastIndexOf(NEWLINE, position - 1) : -1;
    if (newline < 0) return 0;
    if (i === lines) return newline + 1;
    position = newline;
  }
  return 0;
}

/** The first line start at or after `from` (> 0) in `bytes[0, end)`; inside one overlong line, a character boundary. */
function lineStartFrom(bytes: Buffer, from: number, end: number): number {
  const newline = bytes.indexOf(NEWLINE, from - 1);
  if (newline >= 0 && newline + 1 <= end) return newline + 1;
  let start = from;
  while (start < end && (bytes[start]! & 0xc0) === 0x80) start++;
  return start;
}

export interface LogReadRequest {
  /** The upstream offset the read started at. */
  readonly from: number;
  readonly tail: number | null;
  readonly maxBytes: number;
  /** The job finished (its status): the read holds the whole log. */
  readonly finished: boolean;
}

export function jobLogOf(read: LogRead, request: LogReadRequest, options: ChunkerOptions): JobLogModel {
  const bytes = Buffer.from(read.bytes.buffer, read.bytes.byteOffset, read.bytes.length);
  const complete = read.complete || request.finished;
  const end = complete ? bytes.length : bytes.lastIndexOf(NEWLINE) + 1;
  let start = request.tail === null ? 0 : startOfLastLines(bytes, end, request.tail);
  if (end - start > request.maxBytes) start = lineStartFrom(bytes, end - request.maxBytes, end);
  const chunker = new LogChunker(request.from + start, { ...options, maxChunkBytes: Number.MAX_SAFE_INTEGER });
  const chunks = [...chunker.push(bytes.subarray(start, end)), ...(complete ? chunker.finish() : chunker.flush())];
  return {
    offset: request.from + start,
    // Offsets that do not count bytes (Jenkins X-Text-Size): only a read used to its end has a known next offset.
    nextOffset: read.nextOffset !== undefined && end === bytes.length ? read.nextOffset : request.from + end,
    text: chunks.map((c) => c.text).join(''),
    sections: chunks.flatMap((c) => c.sections),
    complete,
    truncated: start > 0,
  };
}
