import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { adapterFactories } from '../../src/adapters.ts';
import { configPathFrom, loadConfigFile, validateConfig } from '../../src/config/load-config.ts';
import { ConfigError } from '../../src/errors.ts';

/** Validation messages for a config (auth opted out unless the test sets it). */
function issues(raw: Record<string, unknown>, { withAuth = true } = {}): string {
  try {
    validateConfig(withAuth ? { auth: { mode: 'open' }, ...raw } : raw, adapterFactories, 'switchyard.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

const gh = { name: 'gh', provider: 'github', token: { env: 'GITHUB_TOKEN' }, repositories: ['octo-org/api'] };
const open = { mode: 'open' };

describe('config validation', () => {
  it('should accept a minimal GitHub config and apply defaults', () => {
    const config = validateConfig({ auth: open, backends: [gh] }, adapterFactories);
    expect(config.server.port).toBe(4000);
    expect(config.backends[0]).toMatchObject({ name: 'gh', provider: 'github' });
  });

  it('should name the key, what was expected and what was received', () => {
    expect(issues({ backends: [gh] }, { withAuth: false })).toMatch(/auth: expected API keys \(create one with `npx switchyard keys create <id>`\) or a jwt section; or `mode: open`/);
    expect(issues({ backends: [{ ...gh, name: 'Bad Name' }] })).toMatch(/backends\[0\]\.name: expected lower-case letters.*received string "Bad Name"/);
    expect(issues({ backends: [] })).toMatch(/backends: expected at least 1 item\(s\), received an array of 0/);
    expect(issues({ backends: [{ ...gh, provider: 'circleci' }] })).toMatch(/backends\[0\]\.provider: expected one of "github", "gitlab", "jenkins", "buildkite" \(available in this build\), received "circleci"/);
    expect(issues({ server: { port: 'eighty' }, backends: [gh] })).toMatch(/server\.port: expected number, received string "eighty"/);
    expect(issues({ backends: [gh], extra: 1 })).toMatch(/switchyard\.yaml: extra: unknown key; expected one of "server", .*"backends"/);
    expect(issues({ backends: [gh], histroy: {} })).toMatch(/switchyard\.yaml: histroy: unknown key; did you mean "history"\?/);
    expect(issues({ backends: [gh], server: { prot: 4000 } })).toMatch(/switchyard\.yaml: server\.prot: unknown key; did you mean "port"\?/);
    expect(issues({ backends: [gh, gh] })).toMatch(/backends\[1\]\.name: expected a unique name, received "gh" a second time/);
  });

  it('should default the history to enabled embedded PGlite kept 90 days, and name its keys in errors', () => {
    expect(validateConfig({ auth: open, backends: [gh] }, adapterFactories).history).toEqual({
      enabled: true, retentionDays: 90, liveWindowHours: 24, rollupIntervalSeconds: 30,
      backfill: { enabled: true, days: 7, requestsPerMinute: 30, concurrency: 1, rateLimitReserve: 500, pageSize: 100, leaseSeconds: 30 },
    });
    expect(issues({ history: { liveWindowHours: 0 }, backends: [gh] })).toMatch(/history\.liveWindowHours: expected >= 1, received number 0/);
    expect(issues({ history: { backfill: { requestsPerMinute: 0 } }, backends: [gh] })).toMatch(/history\.backfill\.requestsPerMinute: expected > 0, received number 0/);
    expect(issues({ history: { backfill: { pageSize: 500 } }, backends: [gh] })).toMatch(/history\.backfill\.pageSize: expected <= 100, received number 500/);
    expect(issues({ history: { backfill: { leaseSeconds: 0.5 } }, backends: [gh] })).toMatch(/history\.backfill\.leaseSeconds: expected >= 1, received number 0.5/);
    expect(issues({ history: { retentionDays: 0 }, backends: [gh] })).toMatch(/history\.retentionDays: expected >= 1, received number 0/);
    expect(issues({ history: { rollupIntervalSeconds: 0 }, backends: [gh] })).toMatch(/history\.rollupIntervalSeconds: expected >= 1, received number 0/);
    expect(issues({ history: { url: 'postgres://x' }, backends: [gh] })).toMatch(/history\.url: expected .*received/);
    expect(issues({ history: { dataDir: '' }, backends: [gh] })).toMatch(/history\.dataDir: .*received/);
  });

  it('should validate adapter-specific keys with the backend path prefixed', () => {
    expect(issues({ backends: [{ ...gh, pollIntervalSeconds: 'soon' }] })).toMatch(/backends\[0\]\.pollIntervalSeconds: expected number, received string "soon"/);
    expect(issues({ backends: [{ ...gh, colour: 'blue' }] })).toMatch(/backends\[0\]\.colour: unknown key; expected one of "url", "token"/);
    expect(issues({ backends: [{ ...gh, pollIntervalSecond: 30 }] })).toMatch(/backends\[0\]\.pollIntervalSecond: unknown key; did you mean "pollIntervalSeconds"\?/);
  });

  it('should never print a secret it was given inline in the wrong shape', () => {
    const message = issues({ backends: [{ ...gh, token: 'ghp_supersecretvalue123' }] });
    expect(message).toMatch(/backends\[0\]\.token/);
    expect(message).not.toContain('ghp_supersecretvalue123');
  });

  it('should read YAML files and report YAML syntax errors with the file name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-'));
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'auth: { mode: open }\nbackends:\n  - name: gh\n    provider: github\n    token: { env: GITHUB_TOKEN }\n    repositories: [octo-org/api]\n');
    expect(loadConfigFile(good, adapterFactories, { GITHUB_TOKEN: 't' }).backends).toHaveLength(1);
    expect(() => loadConfigFile(good, adapterFactories, {})).toThrow(/backends\[0\]\.token: expected the environment variable GITHUB_TOKEN to be set, received nothing/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'backends: [\n');
    expect(() => loadConfigFile(bad, adapterFactories)).toThrow(/bad\.yaml.*not valid YAML/s);
    expect(() => loadConfigFile(join(dir, 'missing.yaml'), adapterFactories)).toThrow(/missing\.yaml.*ENOENT/s);
  });

  it('should take --config, --config=, then SWITCHYARD_CONFIG', () => {
    expect(configPathFrom(['--config', 'a.yaml'], {})).toBe('a.yaml');
    expect(configPathFrom(['--config=b.yaml'], { SWITCHYARD_CONFIG: 'c.yaml' })).toBe('b.yaml');
    expect(configPathFrom([], { SWITCHYARD_CONFIG: 'c.yaml' })).toBe('c.yaml');
    expect(configPathFrom([], {})).toBeUndefined();
  });
});
