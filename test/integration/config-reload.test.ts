import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** SIGHUP to `switchyard serve`, as a supervisor's `reload` sends it: the log says what changed. */
const base = (extra: string) => `auth: { mode: open }
history: { enabled: false }
audit: { file: null }
metrics: { enabled: false }
${extra}backends:
  - name: gh
    provider: github
    url: http://127.0.0.1:9
    token: { env: SWITCHYARD_RELOAD_TOKEN }
    repositories: [octo-org/api]
`;

describe('config reload (SIGHUP)', () => {
  let child: ChildProcess | undefined;
  afterAll(() => child?.kill('SIGKILL'));

  it('applies the log level, limits and backends, names what needs a restart, and refuses a broken file without changing anything', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'switchyard-reload-')), 'config.yaml');
    writeFileSync(file, base('logLevel: info\n'));
    child = spawn(process.execPath, ['bin/switchyard.mjs', 'serve', '--config', file], {
      env: { PATH: process.env.PATH, PORT: '0', SWITCHYARD_RELOAD_TOKEN: 't' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const lines = () => output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string; applied?: string[]; restart?: string[] });
    const next = async (pattern: RegExp, after: number) => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const found = lines().slice(after).find((l) => pattern.test(l.msg));
        if (found) return found;
        if (Date.now() > deadline || child!.exitCode !== null) throw new Error(`no ${pattern}:\n${output}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const { url } = (await next(/^Switchyard ready/, 0)) as unknown as { url: string };
    const query = () => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    await query();
    expect(lines().some((l) => l.level === 20)).toBe(false);

    let seen = lines().length;
    writeFileSync(file, base(`logLevel: debug
server: { bodyLimitBytes: 2097152 }
limits: { maxDepth: 3, introspection: false }
`).replace('backends:\n', `backends:
  - name: gl
    provider: gitlab
    url: http://127.0.0.1:9
    token: { env: SWITCHYARD_RELOAD_TOKEN }
    projects: [platform/api]
`));
    child.kill('SIGHUP');
    const reloaded = await next(/^config reloaded/, seen);
    expect(reloaded.applied).toEqual(['backends.gl (added)', 'limits.maxDepth', 'logLevel']);
    expect(reloaded.restart).toEqual(['limits.introspection', 'server.bodyLimitBytes']);
    expect(reloaded.msg).toBe('config reloaded: applied backends.gl (added), limits.maxDepth, logLevel; needs a restart: limits.introspection, server.bodyLimitBytes');
    // The new depth limit is live: a query of depth 4 is refused.
    const deep = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ pipelines { nodes { jobs { nodes { name } } } } }"}' });
    expect(JSON.stringify(await deep.json())).toMatch(/depth/i);
    const listed = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ backends { name } }"}' });
    expect(((await listed.json()) as { data: { backends: { name: string }[] } }).data.backends.map((b) => b.name)).toEqual(['gh', 'gl']);
    // The new level is live: the same request now logs yoga's debug lines.
    const before = lines().length;
    expect((await query()).status).toBe(200);
    await next(/./, before);
    const deadline = Date.now() + 10_000;
    while (!lines().slice(before).some((l) => l.level === 20) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(lines().slice(before).some((l) => l.level === 20)).toBe(true);

    seen = lines().length;
    writeFileSync(file, base('logLevel: loud\n'));
    child.kill('SIGHUP');
    const refused = await next(/^config reload refused/, seen);
    expect(refused.level).toBe(50);
    expect(refused.msg).toContain('logLevel: expected one of');

    const exit = new Promise<number | null>((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  }, 90_000);
});
