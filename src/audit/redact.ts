import { fromGlobalId } from '../ids.ts';

/**
 * Secret redaction for anything that goes into the audit log (GraphQL
 * variables in particular). Deep-copies; never mutates its input.
 *
 * - A value whose *key* looks sensitive (token, secret, password, api key,
 *   authorization, cookie, session, ...) is replaced whole by `[redacted]`,
 *   whatever its type.
 * - Inside every string (and object key), substrings that look like secrets are
 *   replaced by `[redacted]`: JWTs, each registered provider's token shapes
 *   (`AdapterFactory.secretPatterns`, e.g. GitHub `ghp_`, GitLab `glpat-`),
 *   Switchyard API keys (`sy_<id>_<secret>`),
 *   webhook secrets (`whsec_`), `Bearer`/`Basic` credentials, and long
 *   hex (>= 32) or base64 (>= 32, mixed case and digits) blobs.
 *   The blob rule is deliberately conservative: 40-hex commit SHAs are redacted too;
 *   Switchyard global ids (base64url of `Type:backend:nativeId`) are kept.
 * - Bounded: depth, items per array/object, total nodes and string length.
 *   What is cut is replaced by a `[truncated ...]` marker and reported.
 */

export const REDACTED = '[redacted]';

export const SENSITIVE_KEY =
  /(token|secret|password|passwd|authorization|api[-_]?key|credential|private[-_]?key|cookie|session)/i;

// JWT / JWS (header.payload.signature; the signature may be empty for alg=none); first, before any shorter token shape cuts into one.
const JWT = /eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;

/** Provider token shapes, registered with the providers (src/providers.ts); applied before the core's own. */
const providerPatterns = new Map<string, RegExp>();

/** Adds credential patterns (global regexes) to every later redaction; the same pattern twice is kept once. */
export function addSecretPatterns(patterns: readonly RegExp[]): void {
  for (const re of patterns) {
    if (!re.global) throw new Error(`secret pattern ${re} must be global (flag g)`);
    providerPatterns.set(`${re.source}/${re.flags}`, re);
  }
}

/** The core's own patterns (after JWTs and provider tokens). Each is global; matched substrings are replaced by `[redacted]`. Specific ones first. */
export const SECRET_PATTERNS: readonly RegExp[] = [
  // Switchyard API keys: sy_<id>_<secret>
  /sy_[a-z0-9-]+_[A-Za-z0-9_-]{10,}/g,
  // webhook signing secrets
  /whsec_[A-Za-z0-9+/=_-]{6,}/g,
  // HTTP credentials embedded in text
  /\b(?:Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{6,}/gi,
  // credentials in URLs: scheme://user:password@host
  /(?<=:\/\/)[^\s/@:]+:[^\s/@]+(?=@)/g,
];

const HEX_BLOB = /[0-9a-fA-F]{32,}/g;
const B64_BLOB = /[A-Za-z0-9+/_=-]{32,}/g;

function looksRandom(run: string): boolean {
  return /[0-9]/.test(run) && /[a-z]/.test(run) && /[A-Z]/.test(run);
}

/** Replaces every secret-looking substring of `text` by `[redacted]`. */
export function redactString(text: string): string {
  let s = text.replace(JWT, REDACTED);
  for (const re of providerPatterns.values()) s = s.replace(re, REDACTED);
  for (const re of SECRET_PATTERNS) s = s.replace(re, REDACTED);
  s = s.replace(HEX_BLOB, REDACTED);
  s = s.replace(B64_BLOB, (run) => (looksRandom(run) && fromGlobalId(run) === null ? REDACTED : run));
  return s;
}

/** True when {@link redactString} would change `text`. */
export function containsSecret(text: string): boolean {
  return redactString(text) !== text;
}

export interface RedactLimits {
  /** Nesting depth below which values are cut (default 8). */
  readonly maxDepth?: number;
  /** Items kept per array and keys kept per object (default 100). */
  readonly maxItems?: number;
  /** Total values visited before the rest is cut (default 2,000). */
  readonly maxNodes?: number;
  /** Strings are cut to this many characters (default 1,024). */
  readonly maxStringLength?: number;
}

export interface RedactResult {
  readonly value: unknown;
  /** Something was cut to the limits. */
  readonly truncated: boolean;
  /** How many values / substrings were replaced by `[redacted]`. */
  readonly redactions: number;
}

interface State {
  readonly maxDepth: number;
  readonly maxItems: number;
  readonly maxNodes: number;
  readonly maxStringLength: number;
  nodes: number;
  truncated: boolean;
  redactions: number;
}

/** Deep-copies `value` with secrets redacted; see the module comment. */
export function redactSecrets(value: unknown, limits: RedactLimits = {}): unknown {
  return redactVariables(value, limits).value;
}

/** Like {@link redactSecrets}, also saying whether anything was cut (for `variablesTruncated`). */
export function redactVariables(value: unknown, limits: RedactLimits = {}): RedactResult {
  const st: State = {
    maxDepth: limits.maxDepth ?? 8,
    maxItems: limits.maxItems ?? 100,
    maxNodes: limits.maxNodes ?? 2_000,
    maxStringLength: limits.maxStringLength ?? 1_024,
    nodes: 0,
    truncated: false,
    redactions: 0,
  };
  const out = walk(value, 0, st);
  return { value: out, truncated: st.truncated, redactions: st.redactions };
}

function redactText(text: string, st: State): string {
  // Bound the regex work on huge strings, then cut to the limit.
  const window = text.length > st.maxStringLength + 512 ? text.slice(0, st.maxStringLength + 512) : text;
  const r = redactString(window);
  if (r !== window) st.redactions++;
  if (text.length > st.maxStringLength) {
    st.truncated = true;
    return `${r.slice(0, st.maxStringLength)}[truncated ${text.length - st.maxStringLength} chars]`;
  }
  return r;
}

function walk(value: unknown, depth: number, st: State): unknown {
  if (++st.nodes > st.maxNodes) {
    st.truncated = true;
    return '[truncated: too many values]';
  }
  switch (typeof value) {
    case 'string':
      return redactText(value, st);
    case 'number':
    case 'boolean':
    case 'undefined':
      return value;
    case 'bigint':
      return redactText(value.toString(), st);
    case 'function':
    case 'symbol':
      return undefined;
    default:
      break;
  }
  if (value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    st.redactions++;
    return REDACTED; // binary payloads: never logged
  }
  if (depth >= st.maxDepth) {
    st.truncated = true;
    return '[truncated: too deep]';
  }
  if (Array.isArray(value)) {
    const n = Math.min(value.length, st.maxItems);
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) {
      const v = walk(value[i], depth + 1, st);
      out.push(v === undefined ? null : v);
    }
    if (value.length > n) {
      st.truncated = true;
      out.push(`[truncated ${value.length - n} items]`);
    }
    return out;
  }
  const rec = value as Record<string, unknown>;
  const keys = Object.keys(rec);
  const n = Math.min(keys.length, st.maxItems);
  const out: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    let safeKey = redactText(key, st);
    if (safeKey !== key) safeKey = `${safeKey}#${i}`; // keep redacted keys distinct
    if (SENSITIVE_KEY.test(key)) {
      st.redactions++;
      Object.defineProperty(out, safeKey, { value: REDACTED, enumerable: true, writable: true, configurable: true });
      continue;
    }
    const v = walk(rec[key], depth + 1, st);
    if (v === undefined) continue;
    if (safeKey === '__proto__') Object.defineProperty(out, safeKey, { value: v, enumerable: true, writable: true, configurable: true });
    else out[safeKey] = v;
  }
  if (keys.length > n) {
    st.truncated = true;
    out['[truncated]'] = `${keys.length - n} more keys`;
  }
  return out;
}
