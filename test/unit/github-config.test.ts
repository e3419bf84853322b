import { describe, expect, it } from 'vitest';
import { githubConfigSchema, runnerScopesOf } from '../../adapters/github/config.ts';

const issuesOf = (input: unknown) => {
  const r = githubConfigSchema.safeParse(input);
  expect(r.success).toBe(false);
  return r.success ? [] : r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
};

describe('github config', () => {
  it('fills defaults', () => {
    const c = githubConfigSchema.parse({ repositories: ['octo-org/api'], token: { env: 'GITHUB_TOKEN' } });
    expect(c).toMatchObject({
      url: 'https://api.github.com', organizations: [], additionalWebhookSecrets: [], pollIntervalSeconds: 30, requestTimeoutMs: 10_000,
    });
    expect(runnerScopesOf(c)).toEqual({ organizations: [], repositories: [] });
  });

  it('accepts GHES and strips the trailing slash; runner scopes default to the orgs', () => {
    const c = githubConfigSchema.parse({ url: 'https://ghe.example.com/api/v3/', organizations: ['octo-org'] });
    expect(c.url).toBe('https://ghe.example.com/api/v3');
    expect(runnerScopesOf(c)).toEqual({ organizations: ['octo-org'], repositories: [] });
    const d = githubConfigSchema.parse({ organizations: ['octo-org'], runners: { repositories: ['octo-org/api'] } });
    expect(runnerScopesOf(d)).toEqual({ organizations: ['octo-org'], repositories: ['octo-org/api'] });
  });

  it('names the offending key', () => {
    expect(issuesOf({ repositories: ['not-a-repo'] })).toContainEqual({ path: 'repositories.0', message: 'expected "owner/repo"' });
    expect(issuesOf({})).toContainEqual(expect.objectContaining({ path: 'repositories' }));
    expect(issuesOf({ repositories: ['a/b'], pollIntervalSeconds: 1 })).toContainEqual(expect.objectContaining({ path: 'pollIntervalSeconds' }));
    expect(issuesOf({ repositories: ['a/b'], tokn: { env: 'X' } })).toContainEqual(expect.objectContaining({ message: expect.stringContaining('tokn') }));
    expect(issuesOf({ repositories: ['a/b'], token: 'ghp_plaintext' })).toContainEqual(expect.objectContaining({ path: 'token' }));
    expect(issuesOf({ repositories: ['a/b'], url: 'ftp://x' })).toContainEqual(expect.objectContaining({ path: 'url' }));
    expect(issuesOf({ repositories: ['a/b'], url: 'https://user:pw@ghe.example.com/api/v3' })).toContainEqual(expect.objectContaining({ path: 'url' }));
    expect(issuesOf({ repositories: ['a/b'], runners: { orgs: ['x'] } })).toContainEqual(expect.objectContaining({ path: 'runners' }));
    expect(issuesOf({ repositories: ['a/b'], additionalWebhookSecrets: [{ env: 'OLD' }] })).toContainEqual(expect.objectContaining({ path: 'additionalWebhookSecrets' }));
  });

  it('never echoes a secret value in issues', () => {
    const issues = issuesOf({ repositories: ['a/b'], token: { value: 'ghp_secret', extra: 1 } });
    expect(JSON.stringify(issues)).not.toContain('ghp_secret');
  });
});
