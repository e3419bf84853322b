import { describe, expect, it } from 'vitest';
import { gitlabConfigSchema, runnerScopeOf } from '../../adapters/gitlab/config.ts';

const issues = (input: unknown) => {
  const r = gitlabConfigSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('GitLab config', () => {
  it('should apply defaults', () => {
    const c = gitlabConfigSchema.parse({ projects: ['platform/backend', 42] });
    expect(c).toMatchObject({ url: 'https://gitlab.com/api/v4', projects: ['platform/backend', '42'], groups: [], pollIntervalSeconds: 30, bridges: true });
    expect(runnerScopeOf(c)).toBe('projects');
    expect(runnerScopeOf(gitlabConfigSchema.parse({ groups: ['platform'] }))).toBe('groups');
  });

  it('should accept a self-managed URL and strip the trailing slash', () => {
    expect(gitlabConfigSchema.parse({ url: 'https://git.example.com/api/v4/', groups: ['a/b'] }).url).toBe('https://git.example.com/api/v4');
  });

  it.each([
    [{}, 'projects: at least one of `projects` or `groups` is required'],
    [{ projects: ['justone'] }, 'projects.0'],
    [{ projects: ['a/b'], unknown: 1 }, 'Unrecognized key'],
    [{ projects: ['a/b'], url: 'https://user:pw@gitlab.com/api/v4' }, 'credentials do not belong'],
    [{ projects: ['a/b'], token: 'glpat-inline' }, 'token'],
    [{ projects: ['a/b'], webhookSigningToken: { value: 'whsec_x' } }, 'needs `webhookToken`'],
    [{ projects: ['a/b'], runners: { scope: 'groups' } }, '`groups` scope needs `groups`'],
    [{ projects: ['a/b'], runners: { scope: 'everything' } }, 'runners.scope'],
    [{ projects: ['a/b'], pollIntervalSeconds: 0 }, 'pollIntervalSeconds'],
  ])('should reject %j', (input, fragment) => {
    expect(issues(input).join('\n')).toContain(fragment);
  });

  it('should take secrets only as references', () => {
    expect(issues({ groups: ['g'], token: { env: 'GITLAB_TOKEN' }, webhookToken: { value: 'x' } })).toEqual([]);
  });
});
