import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ALL_SCOPE, EMPTY_SCOPE, compileScope, isRevokedOrExpired, matchProjectPattern, validateProjectPattern,
} from '../../src/auth/scope.ts';
import type { Identity } from '../../src/auth/types.ts';

const segment = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,8}$/);
const literalPath = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));
const wildcardTail = fc.array(fc.constantFrom('*', '**', 'x*', '*-svc', 'a*b'), { minLength: 1, maxLength: 3 }).map((s) => s.join('/'));
/** Names that are often close to the prefix, and arbitrary strings. */
const candidate = (prefix: string) =>
  fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.tuple(fc.constantFrom('', '/', '//', '-', 'x', '/../', '*'), fc.string({ maxLength: 30 })).map(([sep, tail]) => `${prefix}${sep}${tail}`),
    fc.array(fc.oneof(segment, fc.constantFrom('', '*', '**', '..')), { maxLength: 6 }).map((s) => [prefix, ...s].join('/')),
    fc.array(fc.oneof(segment, fc.string({ maxLength: 5 })), { maxLength: 6 }).map((s) => s.join('/')),
  );

describe('project patterns', () => {
  it('should match literal, * (one segment) and ** (any depth) as documented', () => {
    expect(matchProjectPattern('octo-org/api', 'octo-org/api')).toBe(true);
    expect(matchProjectPattern('octo-org/api', 'Octo-Org/API')).toBe(true); // case-insensitive by default
    expect(matchProjectPattern('octo-org/api', 'Octo-Org/API', { caseSensitive: true })).toBe(false);
    expect(matchProjectPattern('octo-org/api', 'octo-org/api2')).toBe(false);
    expect(matchProjectPattern('octo-org/*', 'octo-org/api')).toBe(true);
    expect(matchProjectPattern('octo-org/*', 'octo-org/a/b')).toBe(false);
    expect(matchProjectPattern('octo-org/*', 'octo-org')).toBe(false);
    expect(matchProjectPattern('octo-org/*', 'octo-org-evil/api')).toBe(false);
    expect(matchProjectPattern('team-a/**', 'team-a/x')).toBe(true);
    expect(matchProjectPattern('team-a/**', 'team-a/x/y/z')).toBe(true);
    expect(matchProjectPattern('team-a/**', 'team-a')).toBe(false);
    expect(matchProjectPattern('team-a/**', 'team-ab/x')).toBe(false);
    expect(matchProjectPattern('**/web', 'web')).toBe(true);
    expect(matchProjectPattern('**/web', 'shop/eu/web')).toBe(true);
    expect(matchProjectPattern('shop/**/web', 'shop/web')).toBe(true);
    expect(matchProjectPattern('shop/**/web', 'shop/a/b/web')).toBe(true);
    expect(matchProjectPattern('shop/**/web', 'shop/a/b/web2')).toBe(false);
    expect(matchProjectPattern('org/svc-*', 'org/svc-billing')).toBe(true);
    expect(matchProjectPattern('org/svc-*', 'org/svc-')).toBe(true);
    expect(matchProjectPattern('org/svc-*', 'org/lib-billing')).toBe(false);
    expect(matchProjectPattern('org/*-svc', 'org/a/b-svc')).toBe(false);
    expect(matchProjectPattern('**', 'anything/at/all')).toBe(true);
  });

  it('should treat regex metacharacters literally', () => {
    expect(matchProjectPattern('org/a.b', 'org/axb')).toBe(false);
    expect(matchProjectPattern('org/a.b', 'org/a.b')).toBe(true);
    expect(matchProjectPattern('org/(.*)', 'org/anything')).toBe(false);
    expect(matchProjectPattern('org/[a-z]+', 'org/abc')).toBe(false);
    expect(matchProjectPattern('org/a?', 'org/ab')).toBe(false);
    expect(matchProjectPattern('org/^$|x', 'org/^$|x')).toBe(true);
  });

  it('should reject malformed patterns', () => {
    for (const bad of ['', '/org', 'org/', 'org//x', 'org/a**', '***', 'org/\u0000', 'x'.repeat(300)]) {
      expect(validateProjectPattern(bad), bad).not.toBeNull();
      expect(matchProjectPattern(bad, 'org/x')).toBe(false);
    }
    expect(() => compileScope({ backends: ['gh'], projects: ['org//x'] })).toThrow(/invalid project pattern/);
  });

  it('property: a pattern never matches a name outside its literal prefix', () => {
    fc.assert(
      fc.property(literalPath, wildcardTail, fc.context(), (prefix, tail, ctx) => {
        const pattern = `${prefix}/${tail}`;
        fc.assert(
          fc.property(candidate(prefix), (name) => {
            if (matchProjectPattern(pattern, name)) {
              ctx.log(`${pattern} matched ${name}`);
              expect(name.toLowerCase().startsWith(`${prefix}/`)).toBe(true);
            }
          }),
          { numRuns: 50 },
        );
      }),
      { numRuns: 200 },
    );
  });

  it('property: a literal pattern matches exactly itself (ignoring case)', () => {
    fc.assert(
      fc.property(literalPath, fc.string({ maxLength: 40 }), (p, name) => {
        expect(matchProjectPattern(p, p)).toBe(true);
        expect(matchProjectPattern(p, name)).toBe(p === name.toLowerCase());
      }),
      { numRuns: 1000 },
    );
  });

  it('property: ** matches every name, and prefix/** every name below prefix', () => {
    fc.assert(
      fc.property(literalPath, fc.array(fc.string({ minLength: 1, maxLength: 10 }).filter((s) => !s.includes('/')), { minLength: 1, maxLength: 5 }), fc.string({ maxLength: 80 }), (prefix, below, any) => {
        expect(matchProjectPattern('**', any)).toBe(true);
        expect(matchProjectPattern(`${prefix}/**`, `${prefix}/${below.join('/')}`)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('property: matching never throws on arbitrary patterns and names', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.string({ maxLength: 200 }), (pattern, name) => {
        expect(typeof matchProjectPattern(pattern, name)).toBe('boolean');
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), fc.anything(), (name, junk) => {
        const scope = compileScope([{ backends: ['gh'], projects: ['o/*', '**/x', 'a/**'] }]);
        expect(typeof scope.allowsProject('gh', name)).toBe('boolean');
        expect(typeof scope.allowsProject(junk as string, junk as string)).toBe('boolean');
        expect(typeof scope.allowsEntity(junk as never)).toBe('boolean');
      }),
      { numRuns: 1000 },
    );
  });

  it('should stay fast on adversarial inputs (no backtracking blow-up)', () => {
    const pattern = Array.from({ length: 40 }, () => '**').join('/') + '/x';
    const name = Array.from({ length: 500 }, () => 'a').join('/');
    const glob = 'org/' + '*a'.repeat(60) + 'b';
    const t0 = performance.now();
    expect(matchProjectPattern(pattern.slice(0, 250), name)).toBe(false);
    expect(matchProjectPattern(glob, 'org/' + 'a'.repeat(900))).toBe(false);
    expect(performance.now() - t0).toBeLessThan(500);
  });
});

describe('compiled scopes', () => {
  const scope = compileScope([
    { backends: ['github-main'], projects: ['octo-org/*'] },
    { backends: ['jenkins'] },
    { backends: ['gitlab'], projects: ['team-a/**'], runners: true },
  ]);

  it('should allow backends named by any grant', () => {
    expect(scope.allowsBackend('github-main')).toBe(true);
    expect(scope.allowsBackend('jenkins')).toBe(true);
    expect(scope.allowsBackend('other')).toBe(false);
    expect(scope.unrestricted).toBe(false);
    expect(ALL_SCOPE.unrestricted).toBe(true);
    expect(ALL_SCOPE.allowsBackend('anything')).toBe(true);
    expect(EMPTY_SCOPE.allowsBackend('github-main')).toBe(false);
  });

  it('should filter projects, pipelines and jobs by their project', () => {
    const base = { backend: 'github-main' } as const;
    expect(scope.allowsEntity({ ...base, type: 'Project', nativeId: 'octo-org/api', fullName: 'Octo-Org/API' })).toBe(true);
    expect(scope.allowsEntity({ ...base, type: 'Project', nativeId: 'other/api', fullName: 'other/api' })).toBe(false);
    expect(scope.allowsEntity({ ...base, type: 'Pipeline', nativeId: 'octo-org/api/runs/1', projectNativeId: 'octo-org/api' })).toBe(true);
    expect(scope.allowsEntity({ ...base, type: 'Job', nativeId: 'other/api/jobs/1', projectNativeId: 'other/api' })).toBe(false);
    expect(scope.allowsEntity({ ...base, type: 'Job', nativeId: 'x' })).toBe(false); // project unknown
    expect(scope.allowsEntity({ backend: 'gitlab', type: 'Pipeline', nativeId: '9', projectNativeId: '42', projectFullName: 'team-a/sub/app' })).toBe(true);
    expect(scope.allowsEntity({ backend: 'jenkins', type: 'Job', nativeId: 'x#1/build', projectNativeId: 'x' })).toBe(true);
    expect(scope.allowsEntity({ backend: 'nope', type: 'Project', nativeId: 'octo-org/api', fullName: 'octo-org/api' })).toBe(false);
    expect(scope.allowsEntity({ backend: 'github-main', type: 'Backend', nativeId: 'github-main' })).toBe(true);
  });

  it('should hide runners from project-restricted grants unless runners: true', () => {
    expect(scope.allowsEntity({ backend: 'github-main', type: 'Runner', nativeId: '1' })).toBe(false);
    expect(scope.allowsEntity({ backend: 'jenkins', type: 'Runner', nativeId: 'agent-1' })).toBe(true);
    expect(scope.allowsEntity({ backend: 'gitlab', type: 'Runner', nativeId: '7' })).toBe(true);
    expect(compileScope({ backends: ['jenkins'], runners: false }).allowsRunners('jenkins')).toBe(false);
  });

  it('should expose patterns per backend for list filters', () => {
    expect(scope.projectPatterns('github-main')).toEqual(['octo-org/*']);
    expect(scope.projectPatterns('jenkins')).toBeNull();
    expect(scope.projectPatterns('nope')).toEqual([]);
    expect(scope.describe()).toBe('github-main:[octo-org/*] jenkins:* gitlab:[team-a/**]+runners');
  });
});

describe('isRevokedOrExpired', () => {
  const id = (over: Partial<Identity>): Identity => ({ id: 'x', kind: 'jwt', expiresAt: null, scope: ALL_SCOPE, ...over });
  it('should end identities at expiry or on revocation, failing closed', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(isRevokedOrExpired(id({}), now)).toBe(false);
    expect(isRevokedOrExpired(id({ expiresAt: new Date(now.getTime() + 1) }), now)).toBe(false);
    expect(isRevokedOrExpired(id({ expiresAt: now }), now)).toBe(true);
    expect(isRevokedOrExpired(id({ isRevoked: () => true }), now)).toBe(true);
    expect(isRevokedOrExpired(id({ isRevoked: () => { throw new Error('x'); } }), now)).toBe(true);
  });
});
