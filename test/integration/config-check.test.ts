import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** `switchyard config check`, run as an operator would: the real CLI in a child process. */
function check(yaml: string, env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const file = join(mkdtempSync(join(tmpdir(), 'switchyard-check-')), 'config.yaml');
  writeFileSync(file, yaml);
  const result = spawnSync(process.execPath, ['bin/switchyard.mjs', 'config', 'check', file], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr.replaceAll(`${file}: `, '') };
}

const KEY = `  apiKeys:
    - id: ci
      hash: scrypt$ln=14,r=8,p=1$d-MXDe-Wek5irWKIIPRQXw$f0z-r1jAh2zdt22IRoGOMRPZk5PJ6aqardqfpJNw540
      scopes:
        backends: [gh]
`;

describe('switchyard config check', () => {
  it('reports five different mistakes as five lines, exit 2, with no cascade and no stack trace', () => {
    const { status, stdout, stderr } = check(`server:
  prot: 8080
history:
  retentionDays: 0
auth:
${KEY}backends:
  - name: gh
    provider: github
    token: { env: SWITCHYARD_CHECK_MISSING_TOKEN }
    repositories: [octo-org/api]
    pollIntervalSeconds: fast
  - name: gl
    provider: gitlabb
`);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toEqual([
      'server.prot: unknown key; did you mean "port"?',
      'history.retentionDays: expected >= 1, received number 0',
      expect.stringMatching(/^backends\[0\]\.pollIntervalSeconds: expected number, received string "fast"$/),
      expect.stringMatching(/^backends\[1\]\.provider: expected one of "github", "gitlab", "jenkins".*received "gitlabb"$/),
      'backends[0].token: expected the environment variable SWITCHYARD_CHECK_MISSING_TOKEN to be set, received nothing (it is not set)',
    ]);
    // The key's scope names "gh", whose options are wrong: the backend is still declared, so no "unknown backend" line.
    expect(stderr).not.toContain('unknown backend');
  });

  it('says ok with a one-line summary, exit 0, when everything is valid and every secret is set', () => {
    const { status, stdout, stderr } = check(`auth:
${KEY}history:
  url: { env: SWITCHYARD_CHECK_DB }
backends:
  - name: gh
    provider: github
    token: { env: SWITCHYARD_CHECK_TOKEN }
    repositories: [octo-org/api]
`, { SWITCHYARD_CHECK_TOKEN: 'ghp_x', SWITCHYARD_CHECK_DB: 'postgres://127.0.0.1/test' });
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toMatch(/: ok: 1 backend\(s\): gh \(github\); auth required, 1 API key\(s\); history on PostgreSQL; events memory\n$/);
    expect(stdout).not.toContain('ghp_x');
  });

  it('names an unreadable file or broken YAML in one line, exit 2', () => {
    const broken = check('backends: [\n');
    expect(broken.status).toBe(2);
    expect(broken.stderr).toMatch(/^not valid YAML: .+\n$/);
    const missing = spawnSync(process.execPath, ['bin/switchyard.mjs', 'config', 'check', '/nonexistent/switchyard.yaml'], { encoding: 'utf8' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe('/nonexistent/switchyard.yaml: cannot read the file: ENOENT\n');
  });
});
