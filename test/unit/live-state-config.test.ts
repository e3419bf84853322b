/** `liveStateMaxEntries`: the live state's bound, default 200,000; errors name the key, the expectation and the value. */
import { describe, expect, it } from 'vitest';
import { adapterFactories } from '../../src/adapters.ts';
import { validateConfig } from '../../src/config/load-config.ts';
import { ConfigError } from '../../src/errors.ts';

const gh = { name: 'gh', provider: 'github', token: { env: 'GITHUB_TOKEN' }, repositories: ['octo-org/api'] };
const config = (liveStateMaxEntries?: unknown) => validateConfig({ auth: { mode: 'open' }, backends: [gh], ...(liveStateMaxEntries === undefined ? {} : { liveStateMaxEntries }) }, adapterFactories, 'switchyard.yaml');

function issues(value: unknown): string {
  try {
    config(value);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('liveStateMaxEntries', () => {
  it('should default to 200,000 and take a larger bound', () => {
    expect(config().liveStateMaxEntries).toBe(200_000);
    expect(config(600_000).liveStateMaxEntries).toBe(600_000);
  });

  it('should name the key, what was expected and what was received', () => {
    expect(issues('lots')).toMatch(/liveStateMaxEntries: expected number, received string "lots"/);
    expect(issues(10)).toMatch(/liveStateMaxEntries: .*1000.*received number 10/);
  });
});
