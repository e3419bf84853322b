import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * The entry points a supervisor uses. `npm start` runs npm → (sh, replaced by `exec`) → node:
 * SIGTERM to npm's pid must reach the gateway and stop it, not leave it orphaned and serving.
 */
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(command, args, { env: { ...process.env, PORT: '0', SWITCHYARD_CONFIG: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exit };
}

async function waitFor(pattern: RegExp, output: () => string, exit: Promise<unknown>, ms: number): Promise<RegExpExecArray> {
  const deadline = Date.now() + ms;
  let exited = false;
  void exit.then(() => (exited = true));
  for (;;) {
    const match = pattern.exec(output());
    if (match) return match;
    if (exited || Date.now() > deadline) throw new Error(`no ${pattern} (${exited ? 'exited' : 'timed out'}):\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('entry points', () => {
  it('npm start: SIGTERM to npm stops the gateway gracefully, with a last log line, and frees the port', async () => {
    const npm = run('npm', ['start']);
    const [, url] = await waitFor(/DEMO MODE.*?Open (http:\/\/localhost:\d+\/graphql)/, npm.output, npm.exit, 30_000);
    const res = await fetch(url!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(res.status).toBe(200);

    npm.child.kill('SIGTERM');
    expect(await npm.exit).toBe(0);
    // npm returns only once its child has exited: the gateway logged its close and is gone.
    expect(npm.output()).toMatch(/"signal":"SIGTERM".*"msg":"Switchyard stopped"/);
    await expect(fetch(url!, { method: 'POST', body: '{}' })).rejects.toThrow();
  }, 60_000);

  it('switchyard serve: refuses to start without a config (no accidental demo mode), exit 2 and one line', async () => {
    const serve = run(process.execPath, ['bin/switchyard.mjs', 'serve']);
    expect(await serve.exit).toBe(2);
    expect(serve.output()).toContain('--config: expected a config file (or SWITCHYARD_CONFIG), received nothing');
    expect(serve.output()).not.toMatch(/DEMO MODE|\n\s+at /);
  }, 30_000);

  it('switchyard serve --config: a config problem exits 2 naming the key, with no stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-serve-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'server:\n  port: "not a port"\nbackends: []\n');
    const serve = run(process.execPath, ['bin/switchyard.mjs', 'serve', '--config', file]);
    expect(await serve.exit).toBe(2);
    expect(serve.output()).toMatch(/server\.port/);
    expect(serve.output()).not.toMatch(/\n\s+at /);
  }, 30_000);
});
