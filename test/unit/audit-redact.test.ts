import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { adapterFactories } from '../../src/adapters.ts';
import { useProviderSecrets } from '../../src/providers.ts';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { canonicalJson } from '../../src/audit/audit-record.ts';
import { toGlobalId } from '../../src/ids.ts';
import { REDACTED, containsSecret, redactSecrets, redactString, redactVariables } from '../../src/audit/redact.ts';

// Provider token shapes (ghp_, glpat-, ...) come with the registered providers.
beforeAll(() => useProviderSecrets(adapterFactories));

const b64url = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('');
const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'.split('');
const hex = '0123456789abcdef'.split('');
const chars = (alphabet: string[], min: number, max: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...alphabet), { minLength: min, maxLength: max }).map((a) => a.join(''));
const b64 = (s: string): string => Buffer.from(s).toString('base64url');

/** Secrets in every known shape, realistic lengths. */
const secretArb: fc.Arbitrary<string> = fc.oneof(
  // JWT (also alg=none with an empty signature)
  fc.tuple(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue()), chars(b64url, 0, 86)).map(
    ([h, p, sig]) => `${b64(JSON.stringify({ alg: 'RS256', h }))}.${b64(JSON.stringify({ sub: 'alice', ...p }))}.${sig}`,
  ),
  fc.tuple(fc.constantFrom('ghp', 'gho', 'ghu', 'ghs', 'ghr'), chars(alnum, 36, 36)).map(([p, s]) => `${p}_${s}`),
  chars([...alnum, '_'], 60, 82).map((s) => `github_pat_${s}`),
  chars([...alnum, '-', '_'], 20, 20).map((s) => `glpat-${s}`),
  fc.tuple(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,30}$/), chars(b64url, 43, 43)).map(([id, s]) => `sy_${id}_${s}`),
  chars([...alnum, '+', '/'], 24, 64).map((s) => `whsec_${s}`),
  chars(hex, 32, 128),
  // base64 blobs (random bytes: mixed case and digits)
  fc.uint8Array({ minLength: 32, maxLength: 96 }).map((b) => Buffer.from(b).toString('base64'))
    .filter((s) => /[0-9]/.test(s) && /[a-z]/.test(s) && /[A-Z]/.test(s)),
);

describe('redactSecrets: keys', () => {
  it('should replace whole values under sensitive keys, deep, whatever their type', () => {
    const input = {
      project: 'octo-org/hello-world',
      first: 20,
      filter: { status: ['FAILED'], apiKey: 'x', API_KEY: { nested: 1 }, 'api-key': 3, privateKey: [1, 2] },
      Authorization: 'Bearer x',
      list: [{ password: 'hunter2' }, { passwd: 'a' }, { clientSecret: null }, { sessionId: 'abc' }, { Cookie: 'c=1' }],
      accessToken: 42,
      credentials: { user: 'u' },
      private_key: 'k',
    };
    expect(redactSecrets(input)).toEqual({
      project: 'octo-org/hello-world',
      first: 20,
      filter: { status: ['FAILED'], apiKey: REDACTED, API_KEY: REDACTED, 'api-key': REDACTED, privateKey: REDACTED },
      Authorization: REDACTED,
      list: [{ password: REDACTED }, { passwd: REDACTED }, { clientSecret: REDACTED }, { sessionId: REDACTED }, { Cookie: REDACTED }],
      accessToken: REDACTED,
      credentials: REDACTED,
      private_key: REDACTED,
    });
  });

  it('should deep-copy and never mutate the input', () => {
    const input = { a: { b: [1, { token: 's' }] } };
    const snapshot = JSON.stringify(input);
    const out = redactSecrets(input) as typeof input;
    expect(JSON.stringify(input)).toBe(snapshot);
    expect(out).not.toBe(input);
    expect(out.a).not.toBe(input.a);
    expect(out.a.b).not.toBe(input.a.b);
  });

  it('should leave ordinary values alone', () => {
    const input = {
      project: 'group/sub-group/my-project', ref: 'refs/heads/main', status: 'FAILED', n: 1.5, ok: true, none: null,
      since: '2026-05-01T10:00:00Z', id: 'UnVuOmdpdGh1Yi1tYWluOjEyMzQ1',
      node: toGlobalId('Pipeline', 'github-main', 'octo-org/hello-world:9876543210'),
      ids: [toGlobalId('Job', 'gitlab', 'group/sub/project:123456789')], branch: 'feature/ABC-123-fix-login', url: 'https://ci.example.com/job/x',
    };
    expect(redactSecrets(input)).toEqual(input);
  });
});

describe('redactSecrets: string patterns', () => {
  it('should redact known token shapes inside strings', async () => {
    const { key } = await createApiKey('ci-bot');
    const cases: [string, string][] = [
      ['Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl', 'Bearer [redacted]'],
      ['token ghp_0123456789abcdefghijABCDEFGHIJ012345 here', 'token [redacted] here'],
      ['glpat-AbCdEfGhIjKlMnOpQrSt', REDACTED],
      [`key=${key}`, `key=${REDACTED}`],
      ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', REDACTED],
      ['sha 3f786850e387550fdab836ed7e6dc881de23001b', `sha ${REDACTED}`],
      ['blob aGVsbG8gd29ybGQgdGhpcyBpcyBhIHNlY3JldCBibG9i', `blob ${REDACTED}`],
      ['https://user:s3cr3t@git.example.com/x', `https://${REDACTED}@git.example.com/x`],
      ['Basic dXNlcjpwYXNzd29yZA==', REDACTED],
    ];
    for (const [input, want] of cases) expect(redactString(input), input).toBe(want);
    expect(redactSecrets({ q: [`x ${key} y`] })).toEqual({ q: [`x ${REDACTED} y`] });
  });

  it('should redact secret-looking object keys too', () => {
    const out = redactSecrets({ ghp_0123456789abcdefghijABCDEFGHIJ012345: 1 }) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual([`${REDACTED}#0`]);
  });
});

describe('redactSecrets: bounds', () => {
  it('should cut depth, items, strings and total size, and say so', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 50; i++) deep = { d: deep };
    const r = redactVariables({ deep, list: Array.from({ length: 500 }, (_, i) => i), s: 'a'.repeat(100_000) });
    expect(r.truncated).toBe(true);
    const text = canonicalJson(r.value);
    expect(text).toContain('[truncated: too deep]');
    expect(text).toContain('[truncated 400 items]');
    expect(text).toContain('[truncated 98976 chars]');
    expect(text.length).toBeLessThan(4_000);
    const wide = redactVariables(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, Array.from({ length: 90 }, () => 'x')])));
    expect(wide.truncated).toBe(true);
    expect(canonicalJson(wide.value)).toContain('[truncated: too many values]');
    expect(redactVariables({ a: 1 }).truncated).toBe(false);
  });

  it('should survive cycles, odd values and __proto__ keys', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    expect(() => canonicalJson(redactSecrets(cyclic))).not.toThrow();
    const odd = redactSecrets({ f: () => 1, b: 10n, d: new Date(0), u: undefined, buf: Buffer.from('secret') }) as Record<string, unknown>;
    expect(odd).toEqual({ b: '10', d: '1970-01-01T00:00:00.000Z', buf: REDACTED });
    const proto = redactSecrets(JSON.parse('{"__proto__": {"polluted": true}}')) as Record<string, unknown>;
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
  });

  it('should not let a secret at the end of a huge string survive the cut', () => {
    const secret = 'ghp_0123456789abcdefghijABCDEFGHIJ012345';
    for (const at of [1000, 1020, 1024, 1500, 1530, 1560]) {
      const s = 'x'.repeat(at) + secret + 'y'.repeat(5000);
      const out = canonicalJson(redactSecrets({ s }));
      expect(out).not.toContain(secret);
      expect(out).not.toContain(secret.slice(0, 12)); // not even a useful prefix
    }
  });
});

describe('redactSecrets: property', () => {
  it('should never let a known secret pattern survive, wherever it is embedded (fast-check)', async () => {
    let runs = 0;
    const surroundings = fc.string({ maxLength: 30, unit: fc.constantFrom(' ', '=', ':', '"', ',', '/', 'a', 'Z', '9', '.', '-', '_', '\n', 'é') });
    fc.assert(
      fc.property(
        secretArb,
        surroundings,
        surroundings,
        fc.constantFrom('value', 'deep', 'array', 'key'),
        fc.string({ maxLength: 8 }).filter((k) => !/(token|secret|password|passwd|authorization|api[-_]?key|credential|private[-_]?key|cookie|session)/i.test(k)),
        (secret, before, after, where, key) => {
          runs++;
          const s = before + secret + after;
          const input = where === 'value' ? { [key]: s }
            : where === 'deep' ? { a: { b: { c: [1, { [key]: s }] } } }
              : where === 'array' ? { list: ['x', s, 'y'] }
                : { [s]: 1 };
          const out = canonicalJson(redactSecrets(input));
          expect(out).not.toContain(secret);
          expect(containsSecret(redactString(s))).toBe(false);
        },
      ),
      { numRuns: 3000 },
    );
    console.log(`redaction property: ${runs} embedded secrets, 0 survived`);
  });
});
