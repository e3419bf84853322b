import { describe, expect, it } from 'vitest';
import { authConfigSchema, scopeSchema } from '../../src/auth/auth-config.ts';
import { parseScopesClaim } from '../../src/auth/jwt.ts';
import { compileScope } from '../../src/auth/scope.ts';

/** `scopes[].actions` (issue 15): none by default, per backend and project pattern, in config and JWT grant objects. */
describe('scope grants with actions', () => {
  it('should allow no action by default, and each listed one only on its backends and projects', () => {
    expect(compileScope({ backends: ['*'] }).actionReach('cancel', 'gh')).toBe('none');
    const scope = compileScope([{ backends: ['*'] }, { backends: ['gh'], projects: ['octo/*'], actions: ['cancel', 'retry'] }, { backends: ['gl'], actions: ['*'] }]);
    expect(scope.allowsAction('cancel', 'gh', ['octo/api'])).toBe(true);
    expect(scope.allowsAction('cancel', 'gh', ['12345', 'OCTO/API'])).toBe(true);
    expect(scope.allowsAction('trigger', 'gh', ['octo/api'])).toBe(false);
    expect(scope.allowsAction('cancel', 'gh', ['other/api'])).toBe(false);
    expect(scope.allowsAction('cancel', 'jenkins', ['octo/api'])).toBe(false);
    expect(scope.allowsAction('approve', 'gl', ['any/thing'])).toBe(true);
    expect([scope.actionReach('cancel', 'gh'), scope.actionReach('approve', 'gh'), scope.actionReach('trigger', 'gl')]).toEqual(['some', 'none', 'all']);
    // Scopes that differ in actions are different scopes (subscriptions share work by key).
    expect(compileScope({ backends: ['*'], actions: ['cancel'] }).key).not.toBe(compileScope({ backends: ['*'] }).key);
  });

  it('should validate actions in config and JWT grant objects, and keep anonymousActions to open mode', () => {
    expect(scopeSchema.safeParse({ backends: ['gh'], actions: ['cancel', 'deploy'] }).error?.issues[0]?.path).toEqual([0, 'actions', 1]);
    expect(parseScopesClaim([{ backends: ['gh'], actions: ['retry'] }])).toEqual([{ backends: ['gh'], actions: ['retry'] }]);
    expect(authConfigSchema.parse({ mode: 'open' }).anonymousActions).toEqual([]);
    const refused = authConfigSchema.safeParse({ mode: 'required', apiKeys: [], anonymousActions: ['cancel'] });
    expect(refused.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['anonymousActions', expect.stringContaining('an empty list unless `mode: open`')]]);
  });
});
