import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { GENESIS_HASH, isHash, lineHashMatches, recordDigest, sealRecord, type AuditEntry, type AuditRecord } from './audit-record.ts';

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
  /** With an audit key: HMAC of seq and hash, so the head cannot be rewritten to fit a truncated log. */
  readonly mac?: string;
}

/** Shortest audit key accepted (config `audit.hmacKey`). */
export const MIN_AUDIT_KEY_LENGTH = 32;

/** Resolves config `audit.hmacKey` into the log's option; errors name the key. */
export function auditKeyOption(
  ref: { readonly env: string } | { readonly value: string } | undefined,
  resolve: (ref: { readonly env: string } | { readonly value: string }) => string | undefined,
): { hmacKey?: string } {
  if (ref === undefined) return {};
  const key = resolve(ref);
  const where = 'env' in ref ? `environment variable ${ref.env}` : 'value';
  if (key === undefined) throw new Error(`audit.hmacKey: ${where} is not set`);
  if (key.length < MIN_AUDIT_KEY_LENGTH) throw new Error(`audit.hmacKey: ${where} must be at least ${MIN_AUDIT_KEY_LENGTH} characters`);
  return { hmacKey: key };
}

/** The head's MAC under the audit key. */
export function headMac(hmacKey: string | Uint8Array, seq: number, hash: string): string {
  return createHmac('sha256', hmacKey).update(`switchyard-audit-head:${seq}:${hash}`).digest('hex');
}

/** Whether the head carries a valid MAC under the key (constant time). */
export function headMacValid(hmacKey: string | Uint8Array, head: AuditHead): boolean {
  if (head.mac === undefined) return false;
  const expected = Buffer.from(headMac(hmacKey, head.seq, head.hash), 'hex');
  const given = Buffer.from(head.mac, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
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
    if (v.mac !== undefined && !isHash(v.mac)) return undefined;
    return { seq: v.seq, hash: v.hash, at: typeof v.at === 'string' ? v.at : '', ...(v.mac !== undefined ? { mac: v.mac } : {}) };
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
  /**
   * Audit key: each record's hash and the head become HMAC-SHA256, so a chain
   * rebuilt after an edit, or a head rewritten to fit a truncated log, does not
   * verify without the key.
   */
  readonly hmacKey?: string | Uint8Array;
  /**
   * Told once at open when the log disagrees with its head (truncated, head
   * deleted, rewritten, or not written under this key). Default: `onError`.
   * The head is then left as found, so `audit verify` keeps failing, and an
   * `audit-integrity` record is appended.
   */
  readonly onIntegrityProblem?: (problem: string) => void;
}

export interface FileAuditLog extends AuditLog {
  /** Resolves once the existing file was opened and the chain position is known. */
  readonly ready: Promise<void>;
  /** Last written seq and hash (0 / genesis before the first record). */
  position(): { seq: number; hash: string };
  /** Records dropped because of errors, close or a full queue. */
  dropped(): number;
  /** What the check at open found (ok until `ready` resolves). */
  integrity(): { readonly ok: boolean; readonly problem?: string };
}

interface Pending {
  readonly entry: AuditEntry;
  readonly at: string;
}

interface TailState {
  seq: number;
  hash: string;
  /** The last record's line, to check it against the audit key. */
  line?: string;
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
          return { seq: rec.seq, hash: rec.hash, line, partial };
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
  const digest = recordDigest(options.hmacKey);
  let integrityProblem: string | undefined;

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
      const tail = await readTail(handle, options.tailWindow, report);
      seq = tail.seq;
      hash = tail.hash;
      needNewline = tail.partial;
      if (tail.partial) report(new Error('audit log: the file ends with a partial line (earlier crash?); it is kept, verify will flag it'));
      fh = handle;
      headSeq = seq;
      const problem = (keepHead ? await checkExistingHead() : undefined) ?? checkLastRecordKeyed(tail.line);
      if (problem !== undefined) raiseIntegrityAlarm(problem);
    } catch (e) {
      failed = true;
      report(e);
    }
  })();

  /**
   * The log must agree with its head: a head ahead of the file (or disagreeing
   * with its last record) means the log lost records while we were down; a
   * non-empty log without a head lost its head. Overwriting the head would hide
   * that, so it is left as found (verify keeps failing) and reported.
   */
  let headFrozen = false;
  let foundHeadSeq: number | null = null;
  async function checkExistingHead(): Promise<string | undefined> {
    let text: string;
    try {
      text = await fsp.readFile(headPath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return `${headPath} cannot be read: ${(e as Error).message}`;
      return seq > 0 ? `${path} has records up to seq ${seq} but no head checkpoint ${headPath} (deleted?)` : undefined;
    }
    const head = parseHead(text);
    if (head === undefined) return `${headPath} is malformed`;
    foundHeadSeq = head.seq;
    if (head.seq > seq || (head.seq === seq && head.hash !== hash)) {
      return `${path} ends at seq ${seq} but its head checkpoint says seq ${head.seq}: the log was truncated or edited`;
    }
    if (options.hmacKey !== undefined && !headMacValid(options.hmacKey, head)) {
      return `${headPath} is not authenticated by the audit key (rewritten, or written without this key)`;
    }
    return undefined;
  }

  function checkLastRecordKeyed(line: string | undefined): string | undefined {
    if (options.hmacKey === undefined || line === undefined) return undefined;
    const verdict = lineHashMatches(line, JSON.parse(line) as Record<string, unknown>, hash, digest);
    return verdict === 'ok' ? undefined : `the last record of ${path} (seq ${seq}) is not authenticated by the audit key (rebuilt, or written without this key)`;
  }

  function raiseIntegrityAlarm(problem: string): void {
    headFrozen = true;
    integrityProblem = problem;
    const message = `audit log integrity: ${problem}; the head checkpoint is left as found so that verify reports it`;
    try {
      if (options.onIntegrityProblem) options.onIntegrityProblem(message);
      else report(new Error(message));
    } catch {
      // a throwing handler must not stop the writer
    }
    queue.unshift({ entry: { kind: 'audit-integrity', problem, fileSeq: seq, headSeq: foundHeadSeq }, at: now().toISOString() });
  }

  async function writeHead(): Promise<void> {
    if (!keepHead || headFrozen || fh === undefined || headSeq === seq) return;
    const head: AuditHead = { seq, hash, at: now().toISOString(), ...(options.hmacKey !== undefined ? { mac: headMac(options.hmacKey, seq, hash) } : {}) };
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
            const { record, line } = sealRecord(p.entry, seq + 1, p.at, hash, digest);
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
    integrity: () => (integrityProblem === undefined ? { ok: true } : { ok: false, problem: integrityProblem }),
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

export function createMemoryAuditLog(options: { now?: () => Date; hmacKey?: string | Uint8Array } = {}): MemoryAuditLog {
  const now = options.now ?? (() => new Date());
  const digest = recordDigest(options.hmacKey);
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
      if (last === undefined) return undefined;
      return { seq: last.seq, hash: last.hash, at: last.at, ...(options.hmacKey !== undefined ? { mac: headMac(options.hmacKey, last.seq, last.hash) } : {}) };
    },
    append(entry: AuditEntry): void {
      if (closed) return;
      const { record, line } = sealRecord(entry, records.length + 1, now().toISOString(), prev, digest);
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
