import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { adapterFactories } from '../../src/adapters.ts';
import { useProviderSecrets } from '../../src/providers.ts';
import { UpstreamError } from '../../src/errors.ts';
import { MAX_UPSTREAM_TEXT, sanitizeUpstreamText } from '../../src/upstream-text.ts';

// Provider token shapes (ghp_, glpat-, ...) come with the registered providers.
beforeAll(() => useProviderSecrets(adapterFactories));

const alnum = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'), minLength: min, maxLength: max });
const lowerDigits = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'), minLength: min, maxLength: max });

/** A planted secret: the full text put into the upstream's answer, and the part that must never come back. */
interface Planted {
  readonly text: string;
  readonly secret: string;
}
const plant = (make: (secret: string) => string, secret: fc.Arbitrary<string>): fc.Arbitrary<Planted> =>
  secret.map((s) => ({ text: make(s), secret: s }));

const planted: fc.Arbitrary<Planted> = fc.oneof(
  plant((s) => `ghp_${s}`, alnum(36, 36)),
  plant((s) => `gho_${s}`, alnum(36, 36)),
  plant((s) => `github_pat_${s}`, alnum(40, 82)),
  plant((s) => `glpat-${s}`, alnum(20, 20)),
  plant((s) => `sy_k1_${s}`, alnum(24, 43)),
  plant((s) => `whsec_${s}`, alnum(24, 40)),
  plant((s) => `Bearer ${s}`, alnum(12, 60)),
  plant((s) => `authorization: Basic ${s}`, alnum(12, 60)),
  plant((s) => `https://deploy:${s}@git.internal.example/x.git`, alnum(8, 30)),
  plant((s) => `http://${s}@10.0.0.7:8080/`, alnum(8, 30)),
  plant((s) => `https://gitlab.example/api/v4/projects?private_token=${s}&x=1`, alnum(8, 30)),
  plant((s) => `?token=${s}`, alnum(8, 30)),
  plant((s) => `{"access_token":"${s}"}`, alnum(8, 30)),
  plant((s) => `key ${s}`, fc.stringMatching(/^[0-9a-f]{40}$/)),
  plant((s) => `blob ${s}`, lowerDigits(32, 64).filter((s) => /[0-9]/.test(s) && /[a-z]/.test(s))),
);

describe('sanitizeUpstreamText (issue 10 item 15)', () => {
  it('should never let a planted secret survive, whatever surrounds it', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), planted, fc.string({ maxLength: 200 }), (before, p, after) => {
        // The surroundings are arbitrary text, not a second copy of the secret.
        fc.pre(!before.includes(p.secret) && !after.includes(p.secret));
        const out = sanitizeUpstreamText(`${before}${p.text}${after}`);
        expect(out).not.toContain(p.secret);
        expect(out.length).toBeLessThanOrEqual(MAX_UPSTREAM_TEXT);
        expect(out).not.toMatch(/[\r\n]/);
      }),
      { numRuns: 2000 },
    );
  });

  it('should keep ordinary upstream text readable', () => {
    expect(sanitizeUpstreamText('GET /repos/octo-org/api/actions/runs/11000000368 answered 422: Validation Failed')).toBe(
      'GET /repos/octo-org/api/actions/runs/11000000368 answered 422: Validation Failed',
    );
  });

  it('should apply to every UpstreamError message, the one place they are built', () => {
    const e = new UpstreamError('gh', 'UPSTREAM_BAD_RESPONSE', 'GET /x answered 400: bad credentials ghp_abcdefghijklmnopqrstuvwxyz0123456789 for https://admin:hunter2pw@ci.internal/');
    expect(e.message).not.toContain('ghp_abcdefghijklmnopqrstuvwxyz0123456789');
    expect(e.message).not.toContain('hunter2pw');
    expect(e.message.startsWith('[gh] GET /x answered 400')).toBe(true);
  });
});
