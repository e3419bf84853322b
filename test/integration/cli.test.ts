/**
 * Issue 18 "Done when", CLI: the real `switchyard` (node bin/switchyard.mjs) in a child process,
 * against a real gateway on loopback over the GitHub simulator (webhooks on, auth required, the
 * key given as SWITCHYARD_API_KEY). Every child is bounded in time and killed after the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { leafCommands } from '../../src/cli/command.ts';
import { rootCommand } from '../../src/cli/commands.ts';
import { freePort } from '../helpers/free-port.ts';
import { ghId } from '../helpers/github-actions-stack.ts';
import { startStack, waitFor, type Stack } from '../helpers/stack.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';

interface Run { code: number | null; stdout: string; stderr: string }
interface Started { child: ChildProcess; stdout: () => string; stderr: () => string; exit: Promise<Run> }

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});

function start(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Started {
  const child = spawn(process.execPath, ['bin/switchyard.mjs', ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, SWITCHYARD_PROFILES: '/nonexistent/profiles.yaml', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exit = new Promise<Run>((resolve) => child.once('close', (code) => {
    clearTimeout(timer);
    children.delete(child);
    resolve({ code, stdout, stderr });
  }));
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

/** At most `limit` children at once: the machine is shared. */
async function inBatches<T, R>(items: readonly T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += limit) results.push(...(await Promise.all(items.slice(i, i + limit).map(run))));
  return results;
}

/** `kind entity: SYMBOL STATUS ...` → [kind entity, STATUS] */
function transitions(stdout: string): [string, string][] {
  return stdout.trimEnd().split('\n').map((line) => {
    const m = /^((?:pipeline|job|step) .+?): \S+ ([A-Z_]+)\b/.exec(line);
    if (!m) throw new Error(`not a transition line: ${JSON.stringify(line)}`);
    return [m[1]!, m[2]!];
  });
}

describe('switchyard CLI against a live gateway', () => {
  let stack: Stack;
  let env: NodeJS.ProcessEnv;
  const pipelineId = (runId: number) => ghId('Pipeline', `octo-org/api/runs/${runId}`);

  beforeAll(async () => {
    const operator = await createApiKey('operator');
    stack = await startStack({
      sim: { repositories: ['api'], history: 0, writeToken: 'ghp_cli_write' },
      backend: { writeToken: { value: 'ghp_cli_write' } },
      config: { auth: { mode: 'required', apiKeys: [{ id: 'operator', hash: operator.hash, scopes: [{ backends: ['gh'], actions: ['cancel', 'retry'] }] }] } },
    });
    env = { SWITCHYARD_URL: stack.base, SWITCHYARD_API_KEY: operator.key };
  }, 60_000);
  afterAll(() => stack?.close());

  /** Starts `watch`, waits until its two subscriptions are in, then plays the run to its end. */
  async function watchRun(outcome: 'success' | 'failure', args: string[]): Promise<Run> {
    const { runId } = await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'build', labels: ['self-hosted'], steps: ['checkout', 'compile'], outcome }] });
    const before = stack.gateway.subscriptionCount;
    const watch = start(['watch', '--pipeline', pipelineId(runId), ...args], env);
    await waitFor(() => stack.gateway.subscriptionCount >= before + 2, 30_000, 'the watcher\'s subscriptions');
    await stack.sim.runUntilIdle();
    return watch.exit;
  }

  it('watch --exit-status: exit 0 for a pipeline that passes, one line per transition when piped', async () => {
    const run = await watchRun('success', ['--exit-status']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const seen = transitions(run.stdout);
    // One line per transition: an entity never shows the same status twice in a row.
    const last = new Map<string, string>();
    for (const [entity, status] of seen) {
      expect(last.get(entity), `${entity} repeated ${status}`).not.toBe(status);
      last.set(entity, status);
    }
    const pipeline = seen.filter(([e]) => e.startsWith('pipeline ')).map(([, s]) => s);
    expect(pipeline.at(-1)).toBe('SUCCESS');
    expect(seen.filter(([e]) => e === 'job build').map(([, s]) => s)).toContain('RUNNING');
    expect(last.get('job build')).toBe('SUCCESS');
    expect(last.get('step build › compile')).toBe('SUCCESS');
  }, 90_000);

  it('watch --exit-status: non-zero for a pipeline that fails; without --exit-status a finished pipeline exits 0', async () => {
    const run = await watchRun('failure', ['--exit-status']);
    expect(run.code).toBe(1);
    expect(transitions(run.stdout).filter(([e]) => e.startsWith('pipeline ')).at(-1)![1]).toBe('FAILURE');

    const failed = stack.sim.world.runs('api').find((r) => r.conclusion === 'failure')!;
    const again = await start(['watch', '--pipeline', pipelineId(failed.id)], env).exit;
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/\npipeline octo-org\/api #\d+.*: ✗ FAILURE[^\n]*\n$/); // a finished parent comes after its children
  }, 90_000);

  it('watch: a connection dropped while the pipeline finishes is reconnected, read again, and ends with the right status', async () => {
    const proxy = await startTcpProxy(Number(new URL(stack.base).port));
    try {
      const { runId } = await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'deploy', labels: ['self-hosted'], steps: ['push'], outcome: 'failure' }] });
      const before = stack.gateway.subscriptionCount;
      const watch = start(['watch', '--pipeline', pipelineId(runId), '--exit-status'], { ...env, SWITCHYARD_URL: `http://127.0.0.1:${proxy.port}` }, 40_000);
      await waitFor(() => stack.gateway.subscriptionCount >= before + 2, 30_000, 'the watcher\'s subscriptions');
      await waitFor(() => /pipeline .*: \S+ (QUEUED|PENDING|RUNNING)/.test(watch.stdout()), 30_000, 'the first tree');
      await proxy.cut();
      await waitFor(() => stack.gateway.subscriptionCount === before, 10_000, 'the dropped subscriptions to end');
      await stack.sim.runUntilIdle(); // every transition happens while the watcher is away
      await proxy.restore();
      const run = await watch.exit;
      expect(run.code).toBe(1);
      expect(transitions(run.stdout).filter(([e]) => e.startsWith('pipeline ')).at(-1)![1]).toBe('FAILURE');
    } finally {
      await proxy.close();
    }
  }, 90_000);

  it('watch --project --branch: waits for the first pipeline on a branch that has none yet, then follows it to its end', async () => {
    const before = stack.gateway.subscriptionCount;
    const watch = start(['watch', '--project', 'octo-org/api', '--branch', 'feature/cli', '--exit-status'], env);
    await waitFor(() => stack.gateway.subscriptionCount >= before + 1, 30_000, 'the waiting subscription');
    await waitFor(() => /waiting for one/.test(watch.stderr()), 30_000, 'the waiting notice');
    await stack.sim.triggerRun({ repo: 'api', branch: 'feature/cli', jobs: [{ name: 'lint', labels: ['self-hosted'] }] });
    await waitFor(() => stack.gateway.subscriptionCount >= before + 2, 30_000, 'the watcher\'s subscriptions');
    await stack.sim.runUntilIdle();
    const run = await watch.exit;
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('no pipeline matches yet in octo-org/api on feature/cli: waiting for one\n');
    expect(transitions(run.stdout).at(-1)).toEqual([expect.stringMatching(/^pipeline octo-org\/api #\d+ .*\(feature\/cli @ [0-9a-f]{7}\)$/), 'SUCCESS']);
  }, 90_000);

  it('pipelines --json and jobs --json print NDJSON with the API\'s fields; without --json an aligned table', async () => {
    for (const outcome of ['success', 'failure'] as const) await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'unit', labels: ['self-hosted'], outcome }] });
    await stack.sim.runUntilIdle();
    const pipelines = await start(['pipelines', '--json', '--project', 'octo-org/api', '--limit', '5'], env).exit;
    expect(pipelines.stderr).toBe('');
    expect(pipelines.code).toBe(0);
    const rows = pipelines.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.length).toBeGreaterThanOrEqual(2);
    for (const row of rows) expect(row).toMatchObject({ id: expect.any(String), status: expect.stringMatching(/^[A-Z_]+$/), project: { fullName: 'octo-org/api' }, backend: { name: 'gh' } });
    expect(rows.map((r) => r.status)).toEqual(expect.arrayContaining(['SUCCESS', 'FAILURE']));

    const passed = rows.find((r) => r.status === 'SUCCESS')!;
    const jobs = await start(['jobs', '--json', '--pipeline', String(passed.id)], env).exit;
    expect(jobs.code).toBe(0);
    const jobRows = jobs.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(jobRows.length).toBeGreaterThan(0);
    for (const job of jobRows) {
      expect(job).toMatchObject({ id: expect.any(String), name: expect.any(String), status: 'SUCCESS', pipeline: { id: passed.id }, project: { fullName: 'octo-org/api' } });
    }

    const table = await start(['pipelines', '--status', 'failure'], env).exit;
    expect(table.code).toBe(0);
    const [header, ...lines] = table.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^STATUS\s+PROJECT\s+NUMBER\s+NAME/);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^✗ FAILURE\s+octo-org\/api\s+#\d+/);
  }, 90_000);

  it('logs <job> prints the job\'s log; -f on a finished job prints it and ends', async () => {
    await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'logged', labels: ['self-hosted'] }] });
    await stack.sim.runUntilIdle();
    const jobs = await start(['jobs', '--json', '--status', 'SUCCESS', '--limit', '1'], env).exit;
    const job = JSON.parse(jobs.stdout.split('\n')[0]!) as { id: string };
    const log = await start(['logs', job.id], env).exit;
    expect(log.stderr).toBe('');
    expect(log.code).toBe(0);
    expect(log.stdout).toMatch(/##\[group\]/);
    expect(log.stdout).not.toContain('\u001b['); // piped: ANSI removed
    const followed = await start(['logs', job.id, '-f'], env).exit;
    expect(followed.code).toBe(0);
    expect(followed.stdout).toBe(log.stdout);
  }, 60_000);

  it('cancel: a running pipeline is cancelled (exit 0, the upstream call shown); a finished one is refused (exit 1, one line)', async () => {
    const { runId } = await stack.sim.triggerRun({ repo: 'api', jobs: [{ name: 'slow', labels: ['self-hosted'], steps: ['a', 'b', 'c'] }] });
    await stack.sim.step();
    const ok = await start(['cancel', pipelineId(runId)], env).exit;
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`cancelPipeline: ok\n  gh: POST /repos/octo-org/api/actions/runs/${runId}/cancel → 202\n`);
    await stack.sim.runUntilIdle();

    const refused = await start(['cancel', pipelineId(runId)], env).exit; // now CANCELED
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^switchyard: cancelPipeline refused: ALREADY_FINISHED: .+\n$/);
  }, 60_000);

  it('a profile file gives the URL and the key (apiKeyEnv); an unknown profile is a usage error', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'switchyard-profiles-')), 'profiles.yaml');
    writeFileSync(file, `default: local\nprofiles:\n  local: { url: "http://127.0.0.1:1" }\n  ci: { url: "${stack.base}", apiKeyEnv: CI_SWITCHYARD_KEY }\n`);
    const profileEnv = { SWITCHYARD_PROFILES: file, CI_SWITCHYARD_KEY: env.SWITCHYARD_API_KEY };
    const ok = await start(['runners', '--json', '--profile', 'ci'], profileEnv).exit;
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout.split('\n')[0]!)).toMatchObject({ backend: { name: 'gh' }, state: expect.any(String) });
    // SWITCHYARD_URL wins over the file's default profile, not over one named with --profile.
    const byEnv = await start(['runners', '--json'], { ...profileEnv, SWITCHYARD_URL: stack.base, SWITCHYARD_API_KEY: env.SWITCHYARD_API_KEY }).exit;
    expect(byEnv.code).toBe(0);
    const unknown = await start(['runners', '--profile', 'nope'], profileEnv).exit;
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^switchyard runners: no profile "nope" in .+ \(profiles: local, ci\)\n/);
  }, 60_000);

  it('gateway errors are one line and exit 1: a GraphQL error with its code, a 401, a refused connection', async () => {
    const stats = await start(['stats'], env).exit; // the history is off in this stack
    expect(stats.code).toBe(1);
    expect(stats.stderr).toMatch(/^switchyard: .+ \[ANALYTICS_UNAVAILABLE\].*\n$/);
    expect(stats.stdout).toBe('');

    const anonymous = await start(['pipelines'], { SWITCHYARD_URL: stack.base }).exit;
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/^switchyard: .+ \[UNAUTHENTICATED\] \(HTTP 401\)\n$/);

    const closed = await start(['runners'], { SWITCHYARD_URL: `http://127.0.0.1:${await freePort()}` }).exit;
    expect(closed.code).toBe(1);
    expect(closed.stderr).toMatch(/^switchyard: cannot reach the gateway at http:\/\/127\.0\.0\.1:\d+\/graphql: connection refused.*\n$/);
  }, 60_000);
});

describe('switchyard help and usage', () => {
  const commands = leafCommands(rootCommand).map(({ path }) => path);

  it('covers every command of the table', () => {
    expect(commands.map((p) => p.join(' '))).toEqual(expect.arrayContaining(['watch', 'pipelines', 'jobs', 'runners', 'pools', 'stats', 'logs', 'cancel', 'retry', 'trigger', 'approve', 'audit verify', 'keys create', 'config check', 'serve', 'start']));
  });

  it('--help on every command and subcommand exits 0 with usage, options and an example on stdout', async () => {
    const runs = await inBatches(commands, 4, (path) => start([...path, '--help'], {}, 30_000).exit.then((run) => ({ path, run })));
    for (const { path, run } of runs) {
      const name = `switchyard ${path.join(' ')}`;
      expect(run.code, name).toBe(0);
      expect(run.stdout, name).toMatch(new RegExp(`^Usage: ${name}\\b`));
      expect(run.stdout, name).toMatch(/\nOptions:\n(.|\n)*-h, --help(.|\n)*\nExample:\n {2}switchyard /);
      expect(run.stderr, name).toBe('');
    }
  }, 120_000);

  it('an unknown option exits 2 with one clear line on every command; `switchyard` alone prints help', async () => {
    const runs = await inBatches([[], ...commands], 4, (path) => start([...path, ...(path.length ? ['--no-such-option'] : [])], {}, 30_000).exit.then((run) => ({ path, run })));
    for (const { path, run } of runs) {
      const name = `switchyard ${path.join(' ')}`.trim();
      if (path.length === 0) {
        expect(run.code, name).toBe(0);
        expect(run.stdout).toMatch(/^Usage: switchyard <command>(.|\n)*\n {2}watch /);
        continue;
      }
      expect(run.code, name).toBe(2);
      expect(run.stderr, name).toBe(`${name}: Unknown option '--no-such-option'\nRun \`${name} --help\` for usage.\n`);
      expect(run.stdout, name).toBe('');
    }
  }, 120_000);
});
