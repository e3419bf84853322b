/**
 * Logs that completed while their whole text fitted in the tail's ring, kept for a while after
 * the tail stopped: a watcher or `Job.log` that comes later is served from memory, so a log is
 * fetched once and served to everyone (a GitHub log, read once after completion, most of all).
 * Bounded in count and in time; the oldest goes first.
 */
import type { LogTail } from './log-tail.ts';
import type { JobLogModel } from './log-types.ts';

export class CompletedLogs {
  private readonly kept = new Map<string, { readonly tail: LogTail; readonly until: number }>();

  constructor(private readonly maxLogs: number, private readonly keepMs: number, private readonly now: () => number = Date.now) {}

  /** Keeps a stopped tail whose log completed and whose ring holds all of it. */
  keep(key: string, tail: LogTail): void {
    if (!tail.complete || tail.ring.start !== 0 || this.maxLogs <= 0) return;
    this.kept.delete(key);
    this.kept.set(key, { tail, until: this.now() + this.keepMs });
    for (const oldest of this.kept.keys()) {
      if (this.kept.size <= this.maxLogs) break;
      this.kept.delete(oldest);
    }
  }

  get(key: string): LogTail | null {
    const entry = this.kept.get(key);
    if (!entry) return null;
    if (entry.until <= this.now()) {
      this.kept.delete(key);
      return null;
    }
    return entry.tail;
  }

  clear(): void {
    this.kept.clear();
  }
}

const NEWLINE = '\n';

/**
 * `Job.log` from a completed log held in memory: all of it, what follows `after` (a chunk
 * boundary; null when it is not one), or the last `tail` lines. Offsets are upstream bytes:
 * a tail cut inside a chunk is placed by its text's bytes (exact unless redaction changed them).
 */
export function jobLogFromTail(tail: LogTail, options: { readonly tail: number | null; readonly after: number | null; readonly maxBytes: number }): JobLogModel | null {
  const from = options.after ?? 0;
  const first = tail.ring.next(from);
  if (first && first.offset !== from) return null;
  const chunks = [];
  for (let chunk = first; chunk; chunk = chunk.complete ? null : tail.ring.next(chunk.nextOffset)) chunks.push(chunk);
  const end = chunks.at(-1)?.nextOffset ?? from;
  let text = chunks.map((c) => c.text).join('');
  let offset = from;
  let truncated = false;
  const keepFrom = (index: number) => {
    if (index <= 0) return;
    offset = Math.min(end, offset + Buffer.byteLength(text.slice(0, index)));
    text = text.slice(index);
    truncated = true;
  };
  if (options.tail !== null) keepFrom(startOfLastLines(text, options.tail));
  while (Buffer.byteLength(text) > options.maxBytes) keepFrom(text.indexOf(NEWLINE) + 1 || text.length);
  return { offset, nextOffset: end, text, sections: chunks.flatMap((c) => c.sections).filter((s) => s.offset >= offset), complete: true, truncated };
}

/** Where the last `lines` lines of `text` start (a final newline ends the last line). */
function startOfLastLines(text: string, lines: number): number {
  if (lines <= 0) return text.length;
  let position = text.endsWith(NEWLINE) ? text.length - 1 : text.length;
  for (let i = 0; i < lines; i++) {
    const newline = text.lastIndexOf(NEWLINE, position - 1);
    if (newline < 0) return 0;
    position = newline;
  }
  return position + 1;
}
