import { createHash, createHmac } from 'node:crypto';

/**
 * Audit record types and the hash chain that makes the log tamper-evident.
 *
 * Every line of the audit log is one record: the canonical JSON (sorted keys,
 * no whitespace) of an {@link AuditRecord}. `hash` is the SHA-256 (hex) of the
 * canonical JSON of the record *without* `hash`; `prevHash` is the previous
 * record's `hash` ({@link GENESIS_HASH} for seq 1). Editing, deleting,
 * inserting or reordering a record breaks the chain; see `verify.ts`.
 *
 * Records never contain credentials: identities carry ids and a fingerprint,
 * auth failures carry the credential *kind*, variables are redacted.
 */

/** `prevHash` of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

export type AuditTransport = 'http' | 'sse' | 'ws';

export interface AuditIdentity {
  /** `key:<id>`, `jwt:<sub>` or `anonymous`. */
  readonly id: string;
  readonly kind: 'api-key' | 'jwt' | 'anonymous';
  /** API key id or JWT subject. */
  readonly subject?: string;
  /** First 16 hex chars of SHA-256 of the credential (tells two tokens of one subject apart). */
  readonly fingerprint?: string;
}

export interface GraphqlAuditEntry {
  readonly kind: 'graphql';
  readonly identity: AuditIdentity;
  readonly operationType: 'query' | 'mutation' | 'subscription' | 'unknown';
  readonly operationName: string | null;
  /** SHA-256 (hex) of the GraphQL document text; see {@link operationHash}. */
  readonly operationHash: string;
  /** Variables after `redactSecrets` / `redactVariables`. */
  readonly variables: unknown;
  /** True when the variables were cut to the redactor's size/depth bounds. */
  readonly variablesTruncated?: boolean;
  readonly outcome: 'ok' | 'denied' | 'limited' | 'error';
  readonly errorCodes: readonly string[];
  readonly durationMs: number;
  readonly transport: AuditTransport;
}

export interface WebhookAuditEntry {
  readonly kind: 'webhook';
  readonly backend: string;
  readonly deliveryId: string | null;
  readonly verified: boolean;
  /** Why it was rejected / ignored (never the body or the signature). */
  readonly reason?: string;
  readonly effect: 'published' | 'duplicate' | 'ignored' | 'rejected' | 'pending';
  /** Number of entities (runs, jobs, ...) the delivery produced. */
  readonly entities: number;
  /** Who sent a rejected attempt. */
  readonly remoteAddress?: string | null;
}

/** Rejected webhook attempts counted after the first of their kind was written in full (see rejection-summary.ts). */
export interface WebhookRejectionsAuditEntry {
  readonly kind: 'webhook-rejections';
  readonly backend: string;
  readonly reason: string;
  readonly remoteAddress: string | null;
  readonly verified: boolean;
  /** Attempts counted between `from` and `to`, not written one by one. */
  readonly count: number;
  readonly from: string;
  readonly to: string;
}

export interface AuthFailureAuditEntry {
  readonly kind: 'auth-failure';
  readonly transport: AuditTransport;
  /** Internal reason / error code; never the credential. */
  readonly reason: string;
  readonly remoteAddress: string | null;
  /** What was presented: never the credential itself. */
  readonly credentialKind: 'api-key' | 'jwt' | 'none' | 'unknown';
}

export interface ConfigLoadAuditEntry {
  readonly kind: 'config-load';
  /** Path of the config file, or `demo` / `env`. */
  readonly source: string;
  readonly backends: readonly string[];
  /** SHA-256 (hex) of the config file text. */
  readonly configSha256: string;
  readonly demo: boolean;
}

export interface SubscriptionEndAuditEntry {
  readonly kind: 'subscription-end';
  readonly id: string;
  /** e.g. `complete`, `client-closed`, `credential-expired`, `credential-revoked`, `error`. */
  readonly reason: string;
  readonly identity?: AuditIdentity;
}

/** Written by the gateway when it opens a log that disagrees with its head checkpoint (truncated, head deleted or rewritten). */
export interface AuditIntegrityAuditEntry {
  readonly kind: 'audit-integrity';
  readonly problem: string;
  /** Last seq found in the file at start. */
  readonly fileSeq: number;
  /** seq of the head checkpoint, null when there was none. */
  readonly headSeq: number | null;
}

/** One action (issue 15), whatever its outcome: who asked what of which target, and what the backend answered. */
export interface ActionAuditEntry {
  readonly kind: 'action';
  readonly identity: AuditIdentity;
  /** The mutation: cancelPipeline, cancelJob, retryPipeline, retryJob, triggerPipeline, approve, reject. */
  readonly action: string;
  /** The target's global id as given, and its native id once decoded (null when it did not decode). */
  readonly target: { readonly id: string; readonly nativeId: string | null };
  readonly backend: string | null;
  /** Trigger or approval inputs after `redactSecrets`, and the action's options (force, failedOnly, ref, workflow, comment). */
  readonly inputs: unknown;
  readonly idempotencyKey: string | null;
  /** The upstream requests sent (a dry run: planned, without status). */
  readonly calls: readonly { readonly method: string; readonly path: string; readonly status?: number }[];
  readonly outcome: 'ok' | 'denied' | 'refused' | 'error' | 'dry-run' | 'replayed' | 'conflict';
  /** The payload's ActionErrorCode; null on success. */
  readonly errorCode: string | null;
  readonly transport: AuditTransport;
  readonly durationMs: number;
}

/** One read of the CCTray feed (`/cc.xml`): who read which projects, as a GraphQL read is audited. */
export interface FeedAuditEntry {
  readonly kind: 'feed';
  readonly identity: AuditIdentity;
  /** `/cc.xml` or `/cctray.xml`. */
  readonly path: string;
  /** The query string as received (filters only: credentials never travel in it), cut to 500 characters. */
  readonly query: string;
  /** 200, 304 (unchanged, by ETag) or 400 (a parameter refused). */
  readonly status: number;
  /** Projects in the feed; null when none was built (400). */
  readonly projects: number | null;
  readonly durationMs: number;
}

/** One read of a job's log (issue 17): who read which job's log and from where; never its content. */
export interface LogReadAuditEntry {
  readonly kind: 'log-read';
  readonly identity: AuditIdentity;
  readonly backend: string;
  /** The job's global id and native id. */
  readonly job: { readonly id: string; readonly nativeId: string };
  /** `Job.log` (query) or `jobLog` (subscription). */
  readonly operation: 'query' | 'subscription';
  /** Upstream byte offset the read starts at; null for a `tail` read (the last lines). */
  readonly startOffset: number | null;
  /** Lines asked for with `tail`, or null. */
  readonly tail: number | null;
  readonly transport: AuditTransport | null;
}

/** What callers pass to `AuditLog.append`: a record without `seq`, `at`, `prevHash`, `hash`. */
export type AuditEntry =
  | GraphqlAuditEntry
  | WebhookAuditEntry
  | WebhookRejectionsAuditEntry
  | AuthFailureAuditEntry
  | ConfigLoadAuditEntry
  | SubscriptionEndAuditEntry
  | AuditIntegrityAuditEntry
  | ActionAuditEntry
  | FeedAuditEntry
  | LogReadAuditEntry;

export type AuditKind = AuditEntry['kind'];

export const AUDIT_KINDS: readonly AuditKind[] = ['graphql', 'webhook', 'webhook-rejections', 'auth-failure', 'config-load', 'subscription-end', 'audit-integrity', 'action', 'feed', 'log-read'];

export interface AuditChainFields {
  /** 1, 2, 3, ... without gaps. */
  readonly seq: number;
  /** ISO-8601 instant of the append call. */
  readonly at: string;
  readonly prevHash: string;
  /** SHA-256 (hex) of the canonical JSON of this record without `hash`. */
  readonly hash: string;
}

/** One line of the audit log. Discriminated on `kind`. */
export type AuditRecord = AuditEntry & AuditChainFields;

export function sha256Hex(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * How a record's `hash` is computed from its canonical text: SHA-256, or with
 * an audit key HMAC-SHA256, so that rebuilding the chain after an edit needs
 * the key too.
 */
export type RecordDigest = (canonical: string) => string;

export function recordDigest(hmacKey?: string | Uint8Array): RecordDigest {
  if (hmacKey === undefined) return sha256Hex;
  return (canonical) => createHmac('sha256', hmacKey).update(canonical).digest('hex');
}

/**
 * Whether `line` (one log line) hashes to its own `hash`. Fast path: the hash
 * covers the exact canonical text, so hashing the line minus its
 * `,"hash":"<hash>"` member checks content and form at once.
 */
export function lineHashMatches(line: string, record: Record<string, unknown>, hash: string, digest: RecordDigest): 'ok' | 'mismatch' | 'not canonical' {
  const member = `,"hash":"${hash}"`;
  const at = line.indexOf(member);
  if (at > 0 && line.indexOf(member, at + member.length) === -1) {
    return digest(line.slice(0, at) + line.slice(at + member.length)) === hash ? 'ok' : 'mismatch';
  }
  const { full, withoutHash } = canonicalRecordParts(record);
  if (digest(withoutHash) !== hash) return 'mismatch';
  return full === line ? 'ok' : 'not canonical';
}

/** `operationHash` of a GraphQL record: SHA-256 of the document text as received. */
export function operationHash(document: string): string {
  return sha256Hex(document);
}

const HEX64 = /^[0-9a-f]{64}$/;
export function isHash(v: unknown): v is string {
  return typeof v === 'string' && HEX64.test(v);
}

// ---------------------------------------------------------------------------
// Canonical JSON: the JSON.stringify value model (undefined/functions dropped
// from objects and turned into null in arrays, non-finite numbers -> null,
// toJSON honoured), object keys sorted by UTF-16 code units, no whitespace.
// parse(canonicalJson(x)) re-serialises to the same text, so a verifier that
// only has the line can recompute the hash.
// ---------------------------------------------------------------------------

export function canonicalJson(value: unknown): string {
  const out = serialize(value, 0);
  return out === undefined ? 'null' : out;
}

const MAX_CANONICAL_DEPTH = 256;

function serialize(value: unknown, depth: number): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    default:
      break;
  }
  if (value === null) return 'null';
  if (depth > MAX_CANONICAL_DEPTH) throw new TypeError('canonicalJson: value too deep (cycle?)');
  const obj = value as { toJSON?: unknown };
  if (typeof obj.toJSON === 'function') {
    return serialize((obj.toJSON as () => unknown).call(value), depth + 1);
  }
  if (Array.isArray(value)) {
    let s = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) s += ',';
      s += serialize(value[i], depth + 1) ?? 'null';
    }
    return s + ']';
  }
  const rec = value as Record<string, unknown>;
  const keys = Object.keys(rec).sort();
  let s = '{';
  let first = true;
  for (const k of keys) {
    const v = serialize(rec[k], depth + 1);
    if (v === undefined) continue;
    if (!first) s += ',';
    first = false;
    s += JSON.stringify(k) + ':' + v;
  }
  return s + '}';
}

/**
 * Canonical JSON of a top-level record, both with and without its `hash` key,
 * in one serialisation pass: `full` is the log line, `withoutHash` is hashed.
 */
export function canonicalRecordParts(record: Record<string, unknown>): { full: string; withoutHash: string } {
  const keys = Object.keys(record).sort();
  let full = '{';
  let withoutHash = '{';
  let firstFull = true;
  let firstWo = true;
  for (const k of keys) {
    const v = serialize(record[k], 1);
    if (v === undefined) continue;
    const member = JSON.stringify(k) + ':' + v;
    full += (firstFull ? '' : ',') + member;
    firstFull = false;
    if (k !== 'hash') {
      withoutHash += (firstWo ? '' : ',') + member;
      firstWo = false;
    }
  }
  return { full: full + '}', withoutHash: withoutHash + '}' };
}

/**
 * Turns an entry into the next record of a chain. Chain fields override any
 * same-named keys in the entry. Returns the record and its log line (no newline).
 */
export function sealRecord(
  entry: AuditEntry,
  seq: number,
  at: string,
  prevHash: string,
  digest: RecordDigest = sha256Hex,
): { record: AuditRecord; line: string } {
  const unsealed: Record<string, unknown> = { ...entry, seq, at, prevHash };
  delete unsealed['hash'];
  const keys = Object.keys(unsealed).sort();
  const members: string[] = [];
  let hashAt = -1;
  for (const k of keys) {
    const v = serialize(unsealed[k], 1);
    if (v === undefined) continue;
    if (hashAt < 0 && k > 'hash') hashAt = members.length;
    members.push(JSON.stringify(k) + ':' + v);
  }
  if (hashAt < 0) hashAt = members.length;
  const hash = digest('{' + members.join(',') + '}');
  members.splice(hashAt, 0, `"hash":"${hash}"`);
  const record = { ...unsealed, hash } as unknown as AuditRecord;
  return { record, line: '{' + members.join(',') + '}' };
}
