import crypto from 'node:crypto';
import { API_KEY_ID, type ApiKeyEntry } from './auth-config.ts';
import { HashingBusyError, HashingGate } from './hashing-gate.ts';
import { Lru } from './lru.ts';
import { compileScope, type CompiledScope, type ScopeGrant } from './scope.ts';
import { authError, type AuthError, type Identity } from './types.ts';

/**
 * API keys: `sy_<id>_<secret>`, the secret being 32 random bytes in base64url
 * (43 characters). The id is public and lets the verifier find the one
 * configured hash to check without scanning all of them.
 *
 * Hashing: scrypt (N=2^14, r=8, p=1: 16 MiB, ~30-50 ms) with a random 16-byte
 * salt. With 256-bit secrets a plain SHA-256 would already resist offline
 * guessing, but scrypt keeps a leaked config harmless even for a hand-made
 * weaker key, needs no server pepper to manage, and is what a reviewer
 * expects. Its cost is paid once per key and process: successful
 * verifications are cached in memory (LRU keyed by SHA-256 of the presented
 * key, and bound to the configured hash, so re-hashing or revoking a key in
 * a reloaded config takes effect immediately). Unknown ids are checked
 * against a dummy hash so a miss takes as long as a wrong secret, and the
 * final comparison uses crypto.timingSafeEqual.
 *
 * Failures are cheap to repeat for an attacker and costly for us, so: a
 * bounded negative cache remembers recently failed keys (bound, like the
 * positive one, to the hash they were checked against), so a repeated bogus
 * key costs no scrypt; and a HashingGate caps concurrent scrypt work. The
 * per-address failure limit lives in failure-limiter.ts.
 */

export const API_KEY_PREFIX = 'sy_';
const SECRET_BYTES = 32;
const SECRET_RE = /^[A-Za-z0-9_-]{43}$/;
const MAX_KEY_LENGTH = 200;

interface ScryptParams {
  readonly ln: number;
  readonly r: number;
  readonly p: number;
}

export const DEFAULT_SCRYPT: ScryptParams = { ln: 14, r: 8, p: 1 };
const KEY_LEN = 32;

interface ParsedHash {
  readonly params: ScryptParams;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function parseHash(text: string): ParsedHash | null {
  const parts = text.split('$');
  if (parts[0] !== 'scrypt') return null;
  let params = DEFAULT_SCRYPT;
  let rest: string[];
  if (parts.length === 4) {
    const m = /^ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})$/.exec(parts[1]!);
    if (!m) return null;
    params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
    rest = parts.slice(2);
  } else if (parts.length === 3) {
    rest = parts.slice(1);
  } else {
    return null;
  }
  // Bounds keep a hostile config from making every request allocate gigabytes.
  if (params.ln < 10 || params.ln > 20 || params.r < 1 || params.r > 32 || params.p < 1 || params.p > 16) return null;
  const salt = Buffer.from(rest[0]!, 'base64');
  const hash = Buffer.from(rest[1]!, 'base64');
  if (salt.length < 8 || hash.length < 16) return null;
  return { params, salt, hash };
}

/** scrypt computations of this process (tests check that cached answers cost none). */
export const scryptCounter = { runs: 0 };

function scrypt(secret: string, salt: Buffer, params: ScryptParams, keyLen: number): Promise<Buffer> {
  const N = 2 ** params.ln;
  scryptCounter.runs++;
  return new Promise((resolve, reject) => {
    crypto.scrypt(secret, salt, keyLen, { N, r: params.r, p: params.p, maxmem: 256 * N * params.r + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashApiKey(key: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = crypto.randomBytes(16);
  const hash = await scrypt(key, salt, params, KEY_LEN);
  return `scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** A new key for `id`: the key (show once) and the hash (for the config). */
export async function createApiKey(id: string, options: { params?: ScryptParams } = {}): Promise<{ key: string; hash: string }> {
  if (!API_KEY_ID.test(id)) throw new Error('key id: expected lower-case letters, digits and dashes (at most 63)');
  const key = `${API_KEY_PREFIX}${id}_${crypto.randomBytes(SECRET_BYTES).toString('base64url')}`;
  return { key, hash: await hashApiKey(key, options.params) };
}

/** `sy_<id>_<secret>` → its parts, or null when it is not shaped like a key. */
export function parseApiKey(presented: string): { id: string; secret: string } | null {
  if (typeof presented !== 'string' || presented.length > MAX_KEY_LENGTH || !presented.startsWith(API_KEY_PREFIX)) return null;
  const body = presented.slice(API_KEY_PREFIX.length);
  const sep = body.indexOf('_');
  if (sep <= 0) return null;
  const id = body.slice(0, sep);
  const secret = body.slice(sep + 1);
  if (!API_KEY_ID.test(id) || !SECRET_RE.test(secret)) return null;
  return { id, secret };
}

export function looksLikeApiKey(value: string): boolean {
  return typeof value === 'string' && value.startsWith(API_KEY_PREFIX);
}

export function fingerprint(credential: string): string {
  return crypto.createHash('sha256').update(credential).digest('hex').slice(0, 16);
}

/** Anything with the fields verification needs (the parsed config entry fits). */
export type ConfiguredApiKey = Pick<ApiKeyEntry, 'id' | 'hash'> & {
  readonly scopes: ScopeGrant | readonly ScopeGrant[];
  readonly revoked?: boolean | undefined;
  readonly expiresAt?: string | undefined;
};

export interface ApiKeyVerifierOptions {
  /** Verified keys kept in memory (default 1000). */
  readonly cacheSize?: number;
  /** Recently failed keys kept in memory, so repeating one costs no scrypt (default 10,000). */
  readonly failedCacheSize?: number;
  /** Caps concurrent scrypt work (default: 1 at a time, 32 waiting). */
  readonly gate?: HashingGate;
  /**
   * Current configured hash of a key id, re-read by `Identity.isRevoked` so
   * live connections notice a revocation in a reloaded config. Default: the
   * list passed to verify() (no reload).
   */
  readonly currentKeys?: () => readonly ConfiguredApiKey[];
}

export interface ApiKeyVerifier {
  verify(presented: string, configuredKeys: readonly ConfiguredApiKey[], now?: Date): Promise<Identity | AuthError>;
  /** Verifications that skipped scrypt thanks to the caches, and those that ran it (for tests and metrics). */
  readonly stats: { hits: number; failedHits: number; misses: number };
  clearCache(): void;
}

const DUMMY_HASH: ParsedHash = { params: DEFAULT_SCRYPT, salt: Buffer.alloc(16, 7), hash: Buffer.alloc(KEY_LEN, 0) };

function revokedOrExpired(entry: ConfiguredApiKey, now: Date): AuthError | null {
  if (entry.revoked === true) return authError('KEY_REVOKED', `API key "${entry.id}" is revoked`);
  if (entry.expiresAt !== undefined) {
    const t = Date.parse(entry.expiresAt);
    if (!Number.isFinite(t) || t <= now.getTime()) return authError('KEY_EXPIRED', `API key "${entry.id}" expired at ${entry.expiresAt}`);
  }
  return null;
}

export function createApiKeyVerifier(options: ApiKeyVerifierOptions = {}): ApiKeyVerifier {
  /** sha256(presented key) → the configured hash string it was verified against. */
  const cache = new Lru<string>(options.cacheSize ?? 1000);
  /** sha256(presented key) → the configured hash (or '' for an unknown id) it failed against. */
  const failed = new Lru<string>(options.failedCacheSize ?? 10_000);
  const gate = options.gate ?? new HashingGate(1, 32);
  const scopes = new WeakMap<object, CompiledScope>();
  const stats = { hits: 0, failedHits: 0, misses: 0 };

  const scopeOf = (entry: ConfiguredApiKey): CompiledScope => {
    const key = entry.scopes as object;
    let s = scopes.get(key);
    if (!s) {
      s = compileScope(entry.scopes);
      scopes.set(key, s);
    }
    return s;
  };

  const verify = async (presented: string, configuredKeys: readonly ConfiguredApiKey[], now: Date = new Date()): Promise<Identity | AuthError> => {
    const parsed = parseApiKey(presented);
    if (!parsed) return authError('MALFORMED_CREDENTIALS', 'not shaped like sy_<id>_<43 base64url chars>');
    const entry = configuredKeys.find((k) => k.id === parsed.id);
    const digest = crypto.createHash('sha256').update(presented).digest('base64url');

    const checkedAgainst = entry?.hash ?? '';
    let ok: boolean;
    if (entry && cache.get(digest) === entry.hash) {
      stats.hits++;
      ok = true;
    } else if (failed.get(digest) === checkedAgainst) {
      stats.failedHits++;
      ok = false;
    } else {
      const target = (entry && parseHash(entry.hash)) || DUMMY_HASH;
      let computed: Buffer;
      try {
        computed = await gate.run(() => {
          stats.misses++;
          return scrypt(presented, target.salt, target.params, target.hash.length);
        });
      } catch (error) {
        if (error instanceof HashingBusyError) return authError('AUTH_BUSY', 'key verification queue full');
        computed = Buffer.alloc(target.hash.length);
      }
      // Always run the constant-time comparison, even for an unknown id.
      const equal = crypto.timingSafeEqual(computed, target.hash);
      ok = equal && entry !== undefined && target !== DUMMY_HASH;
      if (ok) cache.set(digest, entry!.hash);
      else failed.set(digest, checkedAgainst);
    }

    if (!entry) return authError('INVALID_CREDENTIALS', `unknown API key id "${parsed.id}"`);
    if (!ok) return authError('INVALID_CREDENTIALS', `wrong secret for API key "${parsed.id}"`);
    const bad = revokedOrExpired(entry, now);
    if (bad) return bad;

    const verified = { hash: entry.hash, scopeKey: scopeOf(entry).key, expiresAt: entry.expiresAt };
    const keyId = entry.id;
    const current = options.currentKeys;
    // A live stream keeps the grant it was opened with, so any change to that grant ends it (the client
    // reconnects under the new one): revocation, removal, re-hashing, narrowed or widened scopes, a new expiry.
    const isRevoked = (): boolean => {
      const list = current ? current() : configuredKeys;
      const e = list.find((k) => k.id === keyId);
      return !e || e.hash !== verified.hash || e.revoked === true || e.expiresAt !== verified.expiresAt || scopeOf(e).key !== verified.scopeKey;
    };
    return Object.freeze({
      id: `key:${entry.id}`,
      kind: 'api-key' as const,
      subject: entry.id,
      expiresAt: entry.expiresAt !== undefined ? new Date(entry.expiresAt) : null,
      scope: scopeOf(entry),
      fingerprint: fingerprint(presented),
      isRevoked,
    });
  };

  return {
    verify,
    stats,
    clearCache: () => {
      cache.clear();
      failed.clear();
    },
  };
}

const defaultVerifier = createApiKeyVerifier();

/**
 * Verifies a presented key against the configured keys. Unknown, wrong,
 * revoked and expired keys give different internal codes but one public
 * message ("Invalid credentials").
 */
export function verifyApiKey(presented: string, configuredKeys: readonly ConfiguredApiKey[], now: Date = new Date()): Promise<Identity | AuthError> {
  return defaultVerifier.verify(presented, configuredKeys, now);
}
