import { describe, expect, it } from 'vitest';
import { adapterFactories } from '../../src/adapters.ts';
import { validateConfig } from '../../src/config/load-config.ts';

const issues = (entry: Record<string, unknown>) => {
  try {
    validateConfig({ auth: { mode: 'open' }, backends: [{ name: 'bk', provider: 'buildkite', organization: 'acme', token: { env: 'BK' }, ...entry }] }, adapterFactories);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
};

describe('Buildkite config', () => {
  it('should accept a minimal entry with the API default and derived idle interval', () => {
    expect(issues({})).toBe('');
  });

  it('should name the key, what was expected and what was received', () => {
    expect(issues({ organization: 'Acme Inc' })).toContain('backends[0].organization: expected an organization slug such as "acme", received string "Acme Inc"');
    expect(issues({ pipelines: ['Web'] })).toContain('backends[0].pipelines[0]: expected a pipeline slug such as "web", received string "Web"');
    expect(issues({ webhookSecret: { env: 'A' }, webhookToken: { env: 'B' } })).toContain('backends[0].webhookToken: expected only one of webhookSecret (signature mode) or webhookToken (token mode)');
    expect(issues({ url: 'https://user:pw@api.buildkite.com' })).toContain('backends[0].url: expected a URL without credentials (use `token`)');
    expect(issues({ pollIntervalSeconds: 30, idlePollIntervalSeconds: 5 })).toContain('backends[0].idlePollIntervalSeconds: expected at least pollIntervalSeconds (30)');
    expect(issues({ token: 'bkua_inline' })).toContain('backends[0].token');
    expect(issues({ extra: 1 })).toContain('backends[0].extra: unknown key');
  });
});
