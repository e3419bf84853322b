import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Starts src/main.ts with a config whose history.url is `{ env: SWITCHYARD_HISTORY_URL }`; resolves with its exit code and stderr. */
function startWithHistoryUrl(url: string | undefined): Promise<{ code: number | null; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-history-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(config, [
    'auth: { mode: open }',
    'audit: { file: null }',
    'history: { url: { env: SWITCHYARD_HISTORY_URL } }',
    'backends:',
    '  - { name: gh, provider: github, url: "http://127.0.0.1:9", repositories: [o/r], pollIntervalSeconds: 3600 }',
  ].join('\n'));
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0' };
  delete env['SWITCHYARD_HISTORY_URL'];
  if (url !== undefined) env['SWITCHYARD_HISTORY_URL'] = url;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--config', config], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

describe('a history database that cannot be used at start', () => {
  it.each([
    ['nothing listening', 'postgres://postgres:hunter2@127.0.0.1:9/test', /^history\.url: cannot use the PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:9\/test: .*ECONNREFUSED/],
    ['a database that does not exist', 'postgres://postgres@127.0.0.1:5432/switchyard_no_such_db', /^history\.url: cannot use the PostgreSQL at .*switchyard_no_such_db: database "switchyard_no_such_db" does not exist/],
    // Found with every other config problem, before anything starts.
    ['the variable unset', undefined, /^\S+: history\.url: expected the environment variable SWITCHYARD_HISTORY_URL to be set, received nothing \(it is not set\)$/],
  ])('%s: one line naming history.url, exit 2', async (_name, url, line) => {
    const { code, stderr } = await startWithHistoryUrl(url);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr.trim()).toMatch(line);
    expect(stderr).not.toContain('hunter2');
  }, 30_000);
});
