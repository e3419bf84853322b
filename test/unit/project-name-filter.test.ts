import fc from 'fast-check';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { matchProjectPattern } from '../../src/auth/scope.ts';
import { compileProjectNames } from '../../src/resolvers/project-name-filter.ts';

/** `projectNames` of JobFilter / PipelineFilter: the key-scope matcher, case-insensitive, on native id and full name. */
const segment = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,11}$/);
const name = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));
const randomCase = (text: string, flips: readonly boolean[]) => [...text].map((c, i) => (flips[i % flips.length] ? c.toUpperCase() : c)).join('');
const patternSegment = fc.oneof(segment, fc.constant('*'), segment.map((s) => `${s}*`), fc.constant('**'));
const pattern = fc.array(patternSegment, { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));

describe('compileProjectNames', () => {
  it('a full name matches itself in any case, by full name or by native id', () => {
    fc.assert(fc.property(name, fc.array(fc.boolean(), { minLength: 1 }), (n, flips) => {
      const matcher = compileProjectNames([randomCase(n, flips)], 'filter.projectNames')!;
      expect(matcher.matches('gl', '123', n)).toBe(true);
      expect(matcher.matches('gh', randomCase(n, [...flips].reverse()), null)).toBe(true);
      expect(matcher.matches('gl', '123', `${n}-other`)).toBe(false);
    }));
  });

  it('is exactly the scope matcher (any pattern matches the full name or the native id), case-insensitively', () => {
    fc.assert(fc.property(fc.array(pattern, { minLength: 1, maxLength: 3 }), name, name, (patterns, fullName, nativeId) => {
      const expected = patterns.some((p) => matchProjectPattern(p, fullName) || matchProjectPattern(p, nativeId));
      expect(compileProjectNames(patterns, 'filter.projectNames')!.matches('b', nativeId, fullName)).toBe(expected);
      expect(compileProjectNames(patterns.map((p) => p.toUpperCase()), 'f')!.matches('b', nativeId.toUpperCase(), fullName)).toBe(expected);
    }));
  });

  it('org/* is one level below org, org/** any depth below it, neither org itself', () => {
    fc.assert(fc.property(segment, fc.array(segment, { minLength: 0, maxLength: 3 }), (org, below) => {
      const full = [org, ...below].join('/');
      expect(compileProjectNames([`${org}/*`], 'f')!.matches('b', 'id', full)).toBe(below.length === 1);
      expect(compileProjectNames([`${org}/**`], 'f')!.matches('b', 'id', full)).toBe(below.length >= 1);
      expect(compileProjectNames(['**'], 'f')!.matches('b', 'id', full)).toBe(true);
    }));
  });

  it('an empty list matches nothing (as projects: []), absent matches everything; an invalid pattern is BAD_USER_INPUT naming the field', () => {
    fc.assert(fc.property(name, (n) => {
      expect(compileProjectNames([], 'f')!.matches('b', n, n)).toBe(false);
    }));
    expect(compileProjectNames(null, 'f')).toBeNull();
    for (const bad of ['', 'a//b', '/a', 'a/', 'a**', 'x'.repeat(300)]) {
      let error: unknown;
      try {
        compileProjectNames([bad], 'filter.projectNames');
      } catch (e) {
        error = e;
      }
      expect(error, bad).toBeInstanceOf(GraphQLError);
      expect((error as GraphQLError).message).toContain('filter.projectNames');
      expect((error as GraphQLError).extensions.code).toBe('BAD_USER_INPUT');
    }
  });
});
