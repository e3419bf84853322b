/**
 * examples/ cannot rot: each example runs as a child process (`node --import tsx`)
 * against a real gateway: demo mode (all three providers) for the dashboard, a
 * gateway over a GitHub simulator for the watcher and the waiter, whose failures and
 * successes the test drives. Every child is bounded by a timeout.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterFactories } from '../../src/adapters.ts';
import { startDemo, type Demo } from '../../src/demo/start-demo.ts';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Child {
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** The exit code (null if killed at the timeout). */
  readonly exit: Promise<number | null>;
}

/** One example in its own Node process, killed if it outlives `timeoutMs`. */
function runExample(file: string, args: readonly string[], url: string, timeoutMs = 30_000): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', `examples/${file}`, ...args], {
    cwd: ROOT,
    env: { ...process.env, SWITCHYARD_URL: url, SWITCHYARD_API_KEY: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    clearTimeout(timer);
    resolve(code);
  }));
  return { stdout: () => out, stderr: () => err, exit };
}

describe('examples/ against a running gateway', () => {
  let demo: Demo;
  let stack: Stack;

  beforeAll(async () => {
    [demo, stack] = await Promise.all([
      startDemo({ factories: adapterFactories, port: 0, host: '127.0.0.1', logLevel: 'silent', seed: 15 }),
      startStack({ sim: { repositories: ['api'], history: 1, runners: [{ name: 'solo', labels: ['self-hosted', 'linux'], scope: 'org' }] } }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled([demo?.close(), stack?.close()]);
  });

  it('dashboard: prints the projects of every provider, as a table and as JSON', async () => {
    const table = runExample('dashboard.ts', [], `http://127.0.0.1:${demo.port}`);
    expect(await table.exit, table.stderr()).toBe(0);
    expect(table.stdout()).toMatch(/^PROJECTS \(\d+\)/m);
    for (const provider of ['GITHUB', 'GITLAB', 'JENKINS', 'BUILDKITE']) expect(table.stdout()).toMatch(new RegExp(`^${provider}\\s+\\S+`, 'm'));
    expect(table.stdout()).toContain('RUNNER POOLS');

    const json = runExample('dashboard.ts', ['--json'], `http://127.0.0.1:${demo.port}/graphql`);
    expect(await json.exit, json.stderr()).toBe(0);
    const data = JSON.parse(json.stdout()) as { projects: { nodes: { backend: { provider: string } }[] }; runnerPools: unknown[] };
    expect(new Set(data.projects.nodes.map((p) => p.backend.provider))).toEqual(new Set(['GITHUB', 'GITLAB', 'JENKINS', 'BUILDKITE']));
  }, 60_000);

  it('failed-jobs watcher: prints the failed job (and not the passing one before it), then stops at --max', async () => {
    const watcher = runExample('failed-jobs-watcher.ts', ['--max=1'], stack.base);
    await waitFor(() => stack.gateway.subscriptionCount === 1, 15_000, 'the watcher\'s subscription');
    // A passing job first: the failing one after it is the sentinel that proves the first was not printed.
    await stack.sim.triggerRun({ repo: 'api', workflow: 'CI', jobs: [{ name: 'lint', labels: ['self-hosted'], outcome: 'success' }] });
    await stack.sim.runUntilIdle();
    await stack.sim.triggerRun({ repo: 'api', workflow: 'CI', jobs: [{ name: 'unit-tests', labels: ['self-hosted'], outcome: 'failure' }] });
    await stack.sim.runUntilIdle();
    expect(await watcher.exit, watcher.stderr()).toBe(0);
    const lines = watcher.stdout().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.split('\t')).toEqual(['octo-org/api', expect.stringContaining('CI'), 'unit-tests', 'FAILURE', expect.stringMatching(/^http/)]);
  }, 60_000);

  for (const [outcome, exitCode] of [['success', 0], ['failure', 1]] as const) {
    it(`wait-for-pipeline: exits ${exitCode} when the pipeline it waits for ends in ${outcome}, and at once for one already finished`, async () => {
      const branch = `wait-${outcome}`;
      await stack.sim.triggerRun({ repo: 'api', branch, jobs: [{ name: 'build', labels: ['self-hosted'], outcome }] });
      const waiter = runExample('wait-for-pipeline.ts', [`--project=octo-org/api`, `--branch=${branch}`], stack.base);
      await waitFor(() => waiter.stderr().includes('waiting for'), 15_000, 'the waiter to start waiting');
      await waitFor(() => stack.gateway.subscriptionCount === 1, 15_000, 'the waiter\'s subscription');
      await stack.sim.runUntilIdle();
      expect(await waiter.exit, waiter.stderr()).toBe(exitCode);
      expect(waiter.stdout()).toContain(`: ${outcome === 'success' ? 'SUCCESS' : 'FAILURE'}`);

      // Finished before the waiter started: the initial query sees it.
      const late = runExample('wait-for-pipeline.ts', [`--project=octo-org/api`, `--branch=${branch}`], stack.base);
      expect(await late.exit, late.stderr()).toBe(exitCode);
      expect(late.stderr()).not.toContain('waiting for');
    }, 60_000);
  }

  it('wait-for-pipeline: exits 2 on a usage error', async () => {
    const waiter = runExample('wait-for-pipeline.ts', [], stack.base);
    expect(await waiter.exit).toBe(2);
    expect(waiter.stderr()).toContain('usage: wait-for-pipeline.ts');
  });
});
