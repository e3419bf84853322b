/**
 * Turns the raw bytes of one log, read in order, into chunks of whole lines: a trailing partial
 * line is held until its newline (or the end of the log); a chunk is cut at `maxChunkBytes` on a
 * line boundary, and a line longer than that on a UTF-8 character boundary (never inside one).
 * Each line is redacted and scanned for section markers before it leaves. Offsets are upstream
 * byte offsets, counted before redaction.
 */
import type { LogRead } from '../adapter-contract.ts';
import type { LogChunkModel, LogSectionModel } from './log-types.ts';
import type { LineRedactor } from './log-redaction.ts';
import { parseSectionLine, SectionStack } from './log-sections.ts';

const NEWLINE = 0x0a;
const EMPTY = Buffer.alloc(0);

export interface ChunkerOptions {
  readonly maxChunkBytes: number;
  readonly redact: LineRedactor;
}

/** Where to end a piece of `buf` starting at `start`: after the last newline within `max` bytes, else on a character boundary. */
export function cutPoint(buf: Uint8Array, start: number, max: number): number {
  const limit = start + max;
  if (limit >= buf.length) return buf.length;
  const newline = Buffer.from(buf.buffer, buf.byteOffset, buf.length).lastIndexOf(NEWLINE, limit - 1);
  if (newline >= start) return newline + 1;
  // A UTF-8 continuation byte (10xxxxxx) never starts a character: back up to a lead byte.
  let end = limit;
  while (end > start && (buf[end]! & 0xc0) === 0x80) end--;
  return end > start ? end : limit;
}

/** `buf.length`, or where the last character starts when `buf` ends inside it (the rest is still upstream). */
export function wholeCharactersEnd(buf: Uint8Array): number {
  let lead = buf.length - 1;
  while (lead >= 0 && buf.length - lead < 4 && (buf[lead]! & 0xc0) === 0x80) lead--;
  if (lead < 0) return buf.length;
  const byte = buf[lead]!;
  const size = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
  return lead + size > buf.length ? lead : buf.length;
}

export class LogChunker {
  private pending: Buffer = EMPTY;
  private pendingOffset: number;
  private readonly sections = new SectionStack();

  constructor(startOffset: number, private readonly options: ChunkerOptions) {
    this.pendingOffset = startOffset;
  }

  /** The upstream offset to read from next (after the held partial line). */
  get end(): number {
    return this.pendingOffset + this.pending.length;
  }

  /** Where the next chunk will start (before the held partial line). */
  get emitted(): number {
    return this.pendingOffset;
  }

  /** The chunks of whole lines that `bytes` (read at `end`) completes. */
  push(bytes: Uint8Array): LogChunkModel[] {
    if (bytes.length === 0) return [];
    const buf = this.pending.length === 0 ? Buffer.from(bytes) : Buffer.concat([this.pending, bytes]);
    const lineEnd = buf.lastIndexOf(NEWLINE) + 1;
    let whole = lineEnd;
    // A partial line as long as a chunk goes out cut (on a character boundary): memory stays bounded whatever the log.
    if (buf.length - lineEnd >= this.options.maxChunkBytes) {
      whole = buf.length - ((buf.length - lineEnd) % this.options.maxChunkBytes);
      whole = whole === buf.length ? wholeCharactersEnd(buf) : whole;
      while (whole > lineEnd && (buf[whole]! & 0xc0) === 0x80) whole--;
    }
    const chunks = this.cut(buf.subarray(0, whole), false);
    this.pending = whole === 0 ? buf : Buffer.from(buf.subarray(whole));
    this.pendingOffset += whole;
    return chunks;
  }

  /**
   * The chunks `read` (at `end`) completes. A read whose upstream offsets do not count its bytes
   * (`LogRead.nextOffset`: Jenkins) is never cut: one chunk ending at its `nextOffset`, so every
   * cursor is an offset the upstream knows. Such an upstream sends whole lines while it runs.
   */
  pushRead(read: Pick<LogRead, 'bytes' | 'nextOffset'>): LogChunkModel[] {
    if (read.nextOffset === undefined || read.nextOffset === this.end + read.bytes.length) return this.push(read.bytes);
    const buf = this.pending.length === 0 ? Buffer.from(read.bytes) : Buffer.concat([this.pending, read.bytes]);
    const start = this.pendingOffset;
    this.pending = EMPTY;
    this.pendingOffset = read.nextOffset;
    return buf.length === 0 ? [] : [{ ...this.chunk(buf, start, false), nextOffset: read.nextOffset }];
  }

  /** The end of the log: the held partial line (if any) and the `complete` mark, as the last chunk(s). */
  finish(): LogChunkModel[] {
    const chunks = this.cut(this.pending, true);
    this.pendingOffset += this.pending.length;
    this.pending = EMPTY;
    if (chunks.length === 0) return [this.chunk(EMPTY, this.pendingOffset, true)];
    return chunks;
  }

  /** What is held, as chunks that are not the end (a range read up to a known line boundary). */
  flush(): LogChunkModel[] {
    const chunks = this.cut(this.pending, false);
    this.pendingOffset += this.pending.length;
    this.pending = EMPTY;
    return chunks;
  }

  /** Cuts `buf` (at `pendingOffset`) into chunks; `last`: the final one is marked complete. */
  private cut(buf: Buffer, last: boolean): LogChunkModel[] {
    const chunks: LogChunkModel[] = [];
    let start = 0;
    while (start < buf.length) {
      const end = cutPoint(buf, start, this.options.maxChunkBytes);
      chunks.push(this.chunk(buf.subarray(start, end), this.pendingOffset + start, last && end === buf.length));
      start = end;
    }
    return chunks;
  }

  private chunk(raw: Buffer, offset: number, complete: boolean): LogChunkModel {
    const sections: LogSectionModel[] = [];
    const lines: string[] = [];
    let lineStart = 0;
    while (lineStart <= raw.length) {
      const newline = raw.indexOf(NEWLINE, lineStart);
      const lineEnd = newline < 0 ? raw.length : newline;
      if (newline < 0 && lineStart === raw.length) break;
      const line = raw.toString('utf8', lineStart, lineEnd);
      const section = parseSectionLine(line);
      if (section) sections.push({ ...this.sections.name(section), offset: offset + lineStart });
      lines.push(this.options.redact(line) + (newline < 0 ? '' : '\n'));
      lineStart = lineEnd + 1;
    }
    return { offset, nextOffset: offset + raw.length, text: lines.join(''), sections, complete };
  }
}
