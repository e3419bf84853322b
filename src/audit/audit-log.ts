import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { GENESIS_HASH, isHash, sealRecord, type AuditEntry, type AuditRecord } from './audit-record.ts';

/**
 * The audit log. `append` is synchronous and cheap (it only queues); records
 * are chained and written in call order by a single writer. Nothing here
 * throws into callers: I/O problems go to `onError`.
 */
export interface AuditLog {
  append(entry: AuditEntry): void;
  /** Resolves when everything appended so far is written (and the head checkpoint updated). */
  flush(): Promise<void>;
  /** Flushes, writes the head checkpoint and closes. Appends after close are dropped (onError). */
  close(): Promise<void>;
}

/** Contents of `<log>.head`: the latest seq and hash the writer had on disk. */
export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
  readonly at: string;
}

export function headPathFor(logPath: string): string {
  return `${logPath}.head`;
}

/** Parses a head checkpoint file; undefined when malformed. */
export function parseHead(text: string): AuditHead | undefined {
  try {
    const v = JSON.parse(text) as Partial<AuditHead> | null;
    if (v === null || typeof v !== 'object') return undefined;
    if (typeof v.seq !== 'number' || !Number.isSafeInteger(v.seq) || v.seq < 0 || !isHash(v.hash)) return undefined;
    return { seq: v.seq, hash: v.hash, at: typeof v.at === 'string' ? v.at : '' };
  } catch {
    return undefined;
  }
}

export interface FileAuditLogOptions {
  /** Clock for `at` (tests pin it). Default `() => new Date()`. */
  readonly now?: () => Date;
  /** fdatasync after every batch (and the head file before its rename). Default false. */
  readonly fsync?: boolean;
  /** Where I/O errors go. Default: written to stderr. */
  readonly onError?: (error: Error) => void;
  /** Update `<log>.head` after this many records ... (default 100) */
  readonly headEvery?: number;
  /** ... or this many ms after the last update, whichever comes first (default 1000). */
  readonly headIntervalMs?: number;
  /** Keep `<log>.head` at all (default true). */
  readonly head?: boolean;
  /** Records queued while the disk is slow before new ones are dropped (default 100,000). */
  readonly maxQueued?: number;
  /** Initial tail window when continuing an existing file (default 64 KiB; grows as needed). */
  readonly tailWindow?: number;
}

export interface FileAuditLog extends AuditLog {
  /** Resolves once the existing file was opened and the chain position is known. */
  readonly ready: Promise<void>;
  /** Last written seq and hash (0 / genesis before the first record). */
  position(): { seq: number; hash: string };
  /** Records dropped because of errors, close or a full queue. */
  dropped(): number;
}

interface Pending {
  readonly entry: AuditEntry;
  readonly at: string;
}

interface TailState {
  seq: number;
  hash: string;
  /** The file does not end with a newline (crash mid-write): start a fresh line. */
  partial: boolean;
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * Finds the chain position at the end of an existing log by reading only its
 * tail: a window of `window` bytes, doubled until it holds a complete record.
 */
export async function readTail(fh: FileHandle, window = 64 * 1024, onError?: (e: Error) => void): Promise<TailState> {
  const { size } = await fh.stat();
  if (size === 0) return { seq: 0, hash: GENESIS_HASH, partial: false };
  const last = Buffer.alloc(1);
  await fh.read(last, 0, 1, size - 1);
  const partial = last[0] !== 0x0a;
  let win = Math.max(1024, window);
  for (;;) {
    const start = Math.max(0, size - win);
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    const text = buf.toString('utf8');
    const lines = text.split('\n');
    // lines[0] may be cut by the window (unless the window starts the file);
    // the last element is '' (file ends with \n) or the partial line.
    const firstUsable = start === 0 ? 0 : 1;
    for (let i = lines.length - 2; i >= firstUsable; i--) {
      const line = lines[i]!;
      if (line.length === 0) continue;
      try {
        const rec = JSON.parse(line) as Partial<AuditRecord>;
        if (typeof rec.seq === 'number' && Number.isSafeInteger(rec.seq) && rec.seq > 0 && isHash(rec.hash)) {
          if (i !== lines.length - 2) {
            onError?.(new Error(`audit log: the last line is not a record; continuing the chain from seq ${rec.seq}`));
          }
          return { seq: rec.seq, hash: rec.hash, partial };
        }
      } catch {
        // not JSON: keep looking backwards
      }
    }
    if (start === 0) {
      onError?.(new Error('audit log: no valid record found in an existing non-empty file; starting a new chain'));
      return { seq: 0, hash: GENESIS_HASH, partial };
    }
    win *= 2;
  }
}

const defaultOnError = (e: Error): void => {
  process.stderr.write(`switchyard audit log error: ${e.message}\n`);
};

/**
 * Append-only JSON-lines audit log at `path`. Opens (creating) in append mode,
 * continues the hash chain from the file's last record, and maintains the
 * `<path>.head` checkpoint that `verifyAuditLog` uses to detect truncation.
 *
 * Entries are serialised when written, not when appended: do not mutate an
 * entry after passing it to `append`.
 * One writer per file: two processes appending to one log break the chain.
 */
export function createFileAuditLog(path: string, options: FileAuditLogOptions = {}): FileAuditLog {
  const now = options.now ?? (() => new Date());
  const onError = options.onError ?? defaultOnError;
  const headEvery = Math.max(1, options.headEvery ?? 100);
  const headIntervalMs = Math.max(1, options.headIntervalMs ?? 1000);
  const keepHead = options.head ?? true;
  const maxQueued = options.maxQueued ?? 100_000;
  const headPath = headPathFor(path);

  let fh: FileHandle | undefined;
  let seq = 0;
  let hash = GENESIS_HASH;
  let needNewline = false;
  let queue: Pending[] = [];
  let draining: Promise<void> | undefined;
  let closed = false;
  let failed = false; // could not open: drop everything
  let droppedCount = 0;
  let headSeq = -1;
  let sinceHead = 0;
  let lastHeadAt = Date.now();
  let headTimer: NodeJS.Timeout | undefined;

  const report = (e: unknown): void => {
    try {
      onError(toError(e));
    } catch {
      // an onError that throws must not break the writer
    }
  };

  async function resync(handle: FileHandle): Promise<void> {
    const t = await readTail(handle, options.tailWindow, report);
    seq = t.seq;
    hash = t.hash;
    needNewline = t.partial;
    if (t.partial) report(new Error('audit log: the file ends with a partial line (earlier crash?); it is kept, verify will flag it'));
  }

  const ready: Promise<void> = (async () => {
    try {
      const handle = await fsp.open(path, 'a+', 0o600);
      await resync(handle);
      fh = handle;
      headSeq = seq;
      if (keepHead) await checkExistingHead();
    } catch (e) {
      failed = true;
      report(e);
    }
  })();

  /**
   * A head checkpoint ahead of the file (or disagreeing with its last record)
   * means the log lost records while we were down. Overwriting the head would
   * hide that, so it is left alone (verify keeps failing) and reported.
   */
  let headFrozen = false;
  async function checkExistingHead(): Promise<void> {
    let text: string;
    try {
      text = await fsp.readFile(headPath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') report(e);
      return;
    }
    const head = parseHead(text);
    if (head === undefined) {
      headFrozen = true;
      report(new Error(`audit log: ${headPath} is unreadable; leaving it untouched for investigation`));
    } else if (head.seq > seq || (head.seq === seq && head.hash !== hash)) {
      headFrozen = true;
      report(new Error(
        `audit log: ${path} ends at seq ${seq} but its head checkpoint says seq ${head.seq}: the log was truncated or edited; ` +
        'the checkpoint is left untouched so that verify reports it',
      ));
    }
  }

  async function writeHead(): Promise<void> {
    if (!keepHead || headFrozen || fh === undefined || headSeq === seq) return;
    const head: AuditHead = { seq, hash, at: now().toISOString() };
    const tmp = `${headPath}.${process.pid}.tmp`;
    try {
      const h = await fsp.open(tmp, 'w', 0o600);
      try {
        await h.writeFile(JSON.stringify(head) + '\n');
        if (options.fsync) await h.datasync();
      } finally {
        await h.close();
      }
      await fsp.rename(tmp, headPath);
      headSeq = head.seq;
      sinceHead = 0;
      lastHeadAt = Date.now();
    } catch (e) {
      report(e);
    }
  }

  function scheduleHeadTimer(): void {
    if (!keepHead || headTimer !== undefined || closed) return;
    headTimer = setTimeout(() => {
      headTimer = undefined;
      if (headSeq !== seq) kick(true);
    }, headIntervalMs);
    headTimer.unref();
  }

  let headWanted = false;

  async function drain(): Promise<void> {
    await ready;
    while (queue.length > 0 || headWanted) {
      const batch = queue;
      queue = [];
      if (batch.length > 0) {
        if (failed || fh === undefined) {
          droppedCount += batch.length;
          continue;
        }
        const startSeq = seq;
        const startHash = hash;
        let text = needNewline ? '\n' : '';
        for (const p of batch) {
          try {
            const { record, line } = sealRecord(p.entry, seq + 1, p.at, hash);
            seq = record.seq;
            hash = record.hash;
            text += line + '\n';
          } catch (e) {
            droppedCount++;
            report(e); // unserialisable entry: skip it, keep the chain
          }
        }
        try {
          const buf = Buffer.from(text, 'utf8');
          let off = 0;
          while (off < buf.length) {
            const { bytesWritten } = await fh.write(buf, off, buf.length - off);
            off += bytesWritten;
          }
          if (options.fsync) await fh.datasync();
          needNewline = false;
          sinceHead += seq - startSeq;
        } catch (e) {
          report(e);
          droppedCount += seq - startSeq;
          seq = startSeq;
          hash = startHash;
          try {
            await resync(fh); // learn what actually reached the file
          } catch (e2) {
            report(e2);
          }
        }
      }
      if (headWanted || sinceHead >= headEvery || Date.now() - lastHeadAt >= headIntervalMs) {
        headWanted = false;
        await writeHead();
      } else {
        scheduleHeadTimer();
      }
    }
  }

  function kick(wantHead = false): Promise<void> {
    if (wantHead) headWanted = true;
    if (draining === undefined) {
      draining = drain()
        .catch(report)
        .finally(() => {
          draining = undefined;
          if (queue.length > 0 || headWanted) void kick();
        });
    }
    return draining;
  }

  async function settle(wantHead: boolean): Promise<void> {
    // Loop until the queue is empty: appends made while draining are picked up.
    do {
      await kick(wantHead);
      wantHead = false;
    } while (queue.length > 0 || draining !== undefined);
    if (keepHead && !headFrozen && headSeq !== seq && !failed) await kick(true);
  }

  return {
    ready,
    position: () => ({ seq, hash }),
    dropped: () => droppedCount,
    append(entry: AuditEntry): void {
      if (closed) {
        droppedCount++;
        report(new Error(`audit log: append after close (${entry.kind}) dropped`));
        return;
      }
      if (queue.length >= maxQueued) {
        droppedCount++;
        report(new Error(`audit log: queue full (${maxQueued}); ${entry.kind} record dropped`));
        return;
      }
      let at: string;
      try {
        at = now().toISOString();
      } catch (e) {
        report(e);
        at = new Date().toISOString();
      }
      queue.push({ entry, at });
      if (draining === undefined) void kick();
    },
    async flush(): Promise<void> {
      await settle(true);
    },
    async close(): Promise<void> {
      if (closed) {
        await draining;
        return;
      }
      await settle(true);
      closed = true;
      if (headTimer !== undefined) clearTimeout(headTimer);
      headTimer = undefined;
      await ready;
      if (fh !== undefined) {
        const h = fh;
        fh = undefined;
        try {
          await h.close();
        } catch (e) {
          report(e);
        }
      }
    },
  };
}

/** In-memory log for tests: same chain, records kept in an array. */
export interface MemoryAuditLog extends AuditLog {
  readonly records: AuditRecord[];
  readonly lines: string[];
  /** The log file text (lines joined, trailing newline). */
  text(): string;
  head(): AuditHead | undefined;
}

export function createMemoryAuditLog(options: { now?: () => Date } = {}): MemoryAuditLog {
  const now = options.now ?? (() => new Date());
  const records: AuditRecord[] = [];
  const lines: string[] = [];
  let prev = GENESIS_HASH;
  let closed = false;
  return {
    records,
    lines,
    text: () => (lines.length === 0 ? '' : lines.join('\n') + '\n'),
    head: () => {
      const last = records[records.length - 1];
      return last === undefined ? undefined : { seq: last.seq, hash: last.hash, at: last.at };
    },
    append(entry: AuditEntry): void {
      if (closed) return;
      const { record, line } = sealRecord(entry, records.length + 1, now().toISOString(), prev);
      prev = record.hash;
      records.push(record);
      lines.push(line);
    },
    flush: () => Promise.resolve(),
    close: () => {
      closed = true;
      return Promise.resolve();
    },
  };
}

/** Audit disabled. */
export function createNullAuditLog(): AuditLog {
  return {
    append: () => undefined,
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}
