import { createReadStream, promises as fsp } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { GENESIS_HASH, canonicalRecordParts, isHash, sha256Hex } from './audit-record.ts';
import { headPathFor, parseHead } from './audit-log.ts';

/**
 * Streaming verification of an audit log (one record per line, see
 * `audit-record.ts`). Detects:
 *  - an edited record (its hash no longer matches, or the line is not canonical),
 *  - an edited record whose own hash was recomputed (the next prevHash breaks),
 *  - deleted, inserted, duplicated and reordered records (seq / prevHash),
 *  - invalid JSON and malformed records,
 *  - truncation mid-line (partial last line, missing final newline),
 *  - truncation at a record boundary and edits of the last records, via an
 *    anchor: `expect` or the `<log>.head` checkpoint the writer maintains
 *    (used by default when verifying a path and the file exists).
 * Not detectable from the file alone: records appended after the anchor by
 * someone who recomputes the hashes (the chain is unkeyed) - ship the head
 * checkpoint off the host to anchor it.
 */

export interface VerifyAnchor {
  /** The log must contain this seq (records after it are allowed: appended later)... */
  readonly lastSeq?: number;
  /** ... and the record there (or, without lastSeq, some record) must have this hash. */
  readonly lastHash?: string;
}

export interface VerifyOptions {
  readonly expect?: VerifyAnchor;
  /**
   * Head checkpoint to use as the anchor when `expect` is not given. Default:
   * `<path>.head` if it exists (path input only). `false` disables.
   */
  readonly headFile?: string | false;
}

export interface VerifyResult {
  readonly ok: boolean;
  /** Records that verified before the first problem (all of them when ok). */
  readonly records: number;
  /** 1-based line of the first problem (lines + 1 when the log ends too early). */
  readonly firstBadLine?: number;
  readonly problem?: string;
  readonly recordsPerSecond: number;
  /** The anchor that was checked, if any. */
  readonly anchor?: VerifyAnchor & { readonly source: 'expect' | 'head' };
  /** seq and hash of the last good record. */
  readonly last?: { readonly seq: number; readonly hash: string };
}

export async function verifyAuditLog(input: string | Readable, options: VerifyOptions = {}): Promise<VerifyResult> {
  const started = performance.now();
  let anchor: VerifyResult['anchor'];
  let stream: Readable;
  if (typeof input === 'string') {
    if (options.expect !== undefined) {
      anchor = { ...options.expect, source: 'expect' };
    } else if (options.headFile !== false) {
      const headPath = options.headFile ?? headPathFor(input);
      let text: string | undefined;
      try {
        text = await fsp.readFile(headPath, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || options.headFile !== undefined) {
          return fail(0, 0, `cannot read head checkpoint ${headPath}: ${(e as Error).message}`, started);
        }
      }
      if (text !== undefined) {
        const head = parseHead(text);
        if (head === undefined) return fail(0, 0, `head checkpoint ${headPath} is malformed`, started);
        anchor = { lastSeq: head.seq, lastHash: head.hash, source: 'head' };
      }
    }
    stream = createReadStream(input, { highWaterMark: 1 << 20 });
  } else {
    if (options.expect !== undefined) anchor = { ...options.expect, source: 'expect' };
    stream = input;
  }

  // readline does not say whether the last line ended with '\n'; watch the bytes.
  let lastByte = -1;
  stream.on('data', (chunk: Buffer | string) => {
    if (chunk.length === 0) return;
    lastByte = typeof chunk === 'string' ? chunk.charCodeAt(chunk.length - 1) : chunk[chunk.length - 1]!;
  });
  let streamError: Error | undefined;
  stream.on('error', (e: Error) => {
    streamError = e;
  });

  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNo = 0;
  let records = 0;
  let prevHash = GENESIS_HASH;
  let prevSeq = 0;
  let anchorSeen = false;
  let problem: string | undefined;
  let badLine = 0;
  // Anchor without seq: find the hash anywhere.
  const anchorHashOnly = anchor !== undefined && anchor.lastSeq === undefined ? anchor.lastHash : undefined;

  try {
    for await (const line of rl) {
      lineNo++;
      const p = checkLine(line, prevSeq, prevHash);
      if (typeof p === 'string') {
        problem = p;
        badLine = lineNo;
        break;
      }
      if (anchor?.lastSeq !== undefined && p.seq === anchor.lastSeq) {
        anchorSeen = true;
        if (anchor.lastHash !== undefined && p.hash !== anchor.lastHash) {
          problem = `record seq ${p.seq} does not match the ${anchor.source === 'head' ? 'head checkpoint' : 'expected'} hash (edited and re-hashed?)`;
          badLine = lineNo;
          break;
        }
      } else if (anchorHashOnly !== undefined && p.hash === anchorHashOnly) {
        anchorSeen = true;
      }
      prevSeq = p.seq;
      prevHash = p.hash;
      records++;
    }
  } catch (e) {
    streamError ??= e as Error;
  } finally {
    rl.close();
    stream.destroy();
  }
  if (streamError !== undefined && problem === undefined) {
    return fail(records, lineNo + 1, `cannot read the log: ${streamError.message}`, started);
  }
  if (problem !== undefined) return fail(records, badLine, problem, started, anchor, prevSeq, prevHash);

  if (lineNo > 0 && lastByte !== 0x0a) {
    return fail(records - 1, lineNo, 'truncated: the last line has no final newline', started, anchor, prevSeq, prevHash);
  }
  if (anchor !== undefined && !anchorSeen && (anchor.lastSeq !== undefined ? anchor.lastSeq > 0 : anchor.lastHash !== undefined)) {
    const what = anchor.source === 'head' ? 'the head checkpoint' : 'the expected anchor';
    const detail = anchor.lastSeq !== undefined
      ? `the log ends at seq ${prevSeq} but ${what} says seq ${anchor.lastSeq}`
      : `no record has the hash of ${what}`;
    return fail(records, lineNo + 1, `truncated: ${detail}`, started, anchor, prevSeq, prevHash);
  }
  return {
    ok: true,
    records,
    recordsPerSecond: rate(records, started),
    ...(anchor !== undefined ? { anchor } : {}),
    ...(records > 0 ? { last: { seq: prevSeq, hash: prevHash } } : {}),
  };
}

/** Returns the record's seq and hash, or a problem description. */
function checkLine(line: string, prevSeq: number, prevHash: string): { seq: number; hash: string } | string {
  if (line.length === 0) return 'empty line';
  let rec: unknown;
  try {
    rec = JSON.parse(line);
  } catch {
    return 'invalid JSON (edited or truncated record)';
  }
  if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) return 'not a JSON object';
  const r = rec as Record<string, unknown>;
  const { seq, hash } = r;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return 'malformed record: bad seq';
  if (!isHash(hash)) return 'malformed record: bad hash';
  if (!isHash(r['prevHash'])) return 'malformed record: bad prevHash';
  if (typeof r['at'] !== 'string') return 'malformed record: bad at';
  if (typeof r['kind'] !== 'string') return 'malformed record: bad kind';
  // Fast path: the hash covers the exact canonical text, so hashing the line
  // minus its `,"hash":"<hash>"` member checks content and form at once (a line
  // that differs from what was hashed by even one byte cannot match, and the
  // member's text contains the hash, so no other member can stand in for it).
  const member = `,"hash":"${hash}"`;
  const at = line.indexOf(member);
  if (at > 0 && line.indexOf(member, at + member.length) === -1) {
    if (sha256Hex(line.slice(0, at) + line.slice(at + member.length)) !== hash) return `hash mismatch at seq ${seq} (record edited)`;
  } else {
    const { full, withoutHash } = canonicalRecordParts(r);
    if (sha256Hex(withoutHash) !== hash) return `hash mismatch at seq ${seq} (record edited)`;
    if (full !== line) return `record seq ${seq} is not in canonical form (edited)`;
  }
  if (seq !== prevSeq + 1) {
    return seq > prevSeq + 1
      ? `seq gap: expected ${prevSeq + 1}, found ${seq} (records deleted or reordered)`
      : `seq goes back: expected ${prevSeq + 1}, found ${seq} (records duplicated, inserted or reordered)`;
  }
  if (r['prevHash'] !== prevHash) {
    return `prevHash of seq ${seq} does not match the hash of ${prevSeq === 0 ? 'the chain start' : `seq ${prevSeq}`} (record replaced, inserted or edited and re-hashed)`;
  }
  return { seq, hash };
}

function rate(records: number, started: number): number {
  const s = (performance.now() - started) / 1000;
  return s > 0 ? Math.round(records / s) : 0;
}

function fail(
  records: number,
  line: number,
  problem: string,
  started: number,
  anchor?: VerifyResult['anchor'],
  lastSeq?: number,
  lastHash?: string,
): VerifyResult {
  return {
    ok: false,
    records: Math.max(0, records),
    firstBadLine: line,
    problem,
    recordsPerSecond: rate(records, started),
    ...(anchor !== undefined ? { anchor } : {}),
    ...(lastSeq !== undefined && lastHash !== undefined && lastSeq > 0 ? { last: { seq: lastSeq, hash: lastHash } } : {}),
  };
}
