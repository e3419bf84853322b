import { createReadStream, promises as fsp } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { GENESIS_HASH, isHash, lineHashMatches, recordDigest, type RecordDigest } from './audit-record.ts';
import { headMacValid, headPathFor, parseHead } from './audit-log.ts';

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
 *  - a deleted head checkpoint: a non-empty log without `<log>.head` fails
 *    (pass `headFile: false` / `--no-head` to verify the chain alone).
 * With the audit key (`hmacKey`), every record's hash and the head are
 * HMAC-SHA256: a chain rebuilt after an edit, records appended after the head,
 * and a head rewritten to fit a truncated log fail too.
 * Without the key, someone who can write the files can rebuild the chain and
 * the head; and with or without it, a truncation back to an old head that was
 * saved and restored is not detectable from the host: ship the head (or
 * `--expect-seq/--expect-hash`) off the host to anchor it.
 */

export interface VerifyAnchor {
  /** The log must contain this seq (records after it are allowed: appended later)... */
  readonly lastSeq?: number;
  /** ... and the record there (or, without lastSeq, some record) must have this hash. */
  readonly lastHash?: string;
}

export interface VerifyOptions {
  readonly expect?: VerifyAnchor;
  /** The audit key the log was written with (config `audit.hmacKey`). */
  readonly hmacKey?: string | Uint8Array;
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
  const digest = recordDigest(options.hmacKey);
  let anchor: VerifyResult['anchor'];
  let headMissing = false;
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
        headMissing = true;
      }
      if (text !== undefined) {
        const head = parseHead(text);
        if (head === undefined) return fail(0, 0, `head checkpoint ${headPath} is malformed`, started);
        if (options.hmacKey !== undefined && !headMacValid(options.hmacKey, head)) {
          return fail(0, 0, `head checkpoint ${headPath} is not authenticated by the audit key (rewritten, or written without this key)`, started);
        }
        if (options.hmacKey === undefined && head.mac !== undefined) {
          return fail(0, 0, `the log is keyed (its head carries a MAC): verify it with the audit key (--key-env)`, started);
        }
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
      const p = checkLine(line, prevSeq, prevHash, digest);
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
  if (headMissing && lineNo > 0) {
    return fail(records, lineNo + 1, 'no head checkpoint for a non-empty log (deleted?); --no-head verifies the chain alone', started, anchor, prevSeq, prevHash);
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

const DEFAULT_DIGEST = recordDigest();

/** Returns the record's seq and hash, or a problem description. */
function checkLine(line: string, prevSeq: number, prevHash: string, digest: RecordDigest): { seq: number; hash: string } | string {
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
  const verdict = lineHashMatches(line, r, hash, digest);
  if (verdict === 'mismatch') return `hash mismatch at seq ${seq} (record edited${digest === DEFAULT_DIGEST ? '' : ', or written without this key'})`;
  if (verdict === 'not canonical') return `record seq ${seq} is not in canonical form (edited)`;
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
