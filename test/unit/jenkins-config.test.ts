import { describe, expect, it } from 'vitest';
import { jenkinsConfigSchema, isIncluded } from '../../adapters/jenkins/config.ts';

const base = { url: 'https://ci.example.com/jenkins/', user: 'bot', apiToken: { env: 'JENKINS_TOKEN' } };

function issues(input: unknown): string[] {
  const r = jenkinsConfigSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('jenkins config', () => {
  it('fills defaults and trims the URL', () => {
    expect(jenkinsConfigSchema.parse(base)).toEqual({
      ...base,
      url: 'https://ci.example.com/jenkins',
      folderDepth: 5,
      pollIntervalSeconds: 15,
      idlePollIntervalSeconds: 60,
      requestsPerMinute: 120,
      requestTimeoutMs: 10_000,
      actionFollowMs: 2_000,
    });
    expect(jenkinsConfigSchema.parse({ ...base, pollIntervalSeconds: 120 }).idlePollIntervalSeconds).toBe(120);
  });

  it.each([
    [{ ...base, url: 'https://bot:tok@ci.example.com' }, /credentials do not belong/],
    [{ ...base, url: 'ftp://ci' }, /http\(s\)/],
    [{ ...base, apiToken: 'plain-token' }, /apiToken/],
    [{ ...base, user: '' }, /user/],
    [{ ...base, pollIntervalSeconds: 0 }, /pollIntervalSeconds/],
    [{ ...base, pollIntervalSeconds: 30, idlePollIntervalSeconds: 10 }, /idlePollIntervalSeconds: must be at least/],
    [{ ...base, jobs: ['a//b'] }, /jobs.0: expected a Jenkins full name/],
    [{ ...base, token: { env: 'X' } }, /Unrecognized key/],
    [{ ...base, notifySecret: { env: 'not a name' } }, /notifySecret/],
  ])('rejects %j', (input, expected) => {
    expect(issues(input).join('\n')).toMatch(expected);
  });

  it('never echoes a secret value in an error', () => {
    const msg = issues({ ...base, apiToken: { value: 's3cr3t', extra: 1 } }).join('\n');
    expect(msg).not.toContain('s3cr3t');
  });

  it('includes jobs under configured roots only', () => {
    expect(isIncluded(undefined, 'x/y')).toBe(true);
    expect(isIncluded(['team-a'], 'team-a/lint')).toBe(true);
    expect(isIncluded(['team-a'], 'team-ab/lint')).toBe(false);
  });
});
