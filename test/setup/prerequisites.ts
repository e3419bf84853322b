/**
 * What `npm test` needs outside node_modules, checked once before any test runs
 * (vitest globalSetup) and by .ci/run (check-prerequisites.ts): the same code
 * for both. What is missing is installed or started where that is permitted
 * (root with apt-get for packages; anyone for starting Redis); otherwise the run
 * stops at once with ONE line saying what to run. Nothing is skipped silently.
 *
 * Services the tests use (grep for 6379, redis-server, chromium, prlimit):
 * - Chromium for test/browser (playwright-core drives the system browser);
 * - the redis-server binary (test/helpers/private-redis.ts starts its own);
 * - a Redis on 127.0.0.1:6379 (events, rate-limit, dedupe and shared-state tests);
 * - prlimit (util-linux) for test/integration/fd-limit.test.ts, on Linux;
 * - PostgreSQL on 127.0.0.1:5432, user postgres with trust auth, database `test` (the history tests).
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';

export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';
export const REDIS_PORT = 6379;
export const POSTGRES_PORT = 5432;

export interface PrerequisiteOptions {
  /** `CHROMIUM_PATH`, else /usr/bin/chromium. A path the user chose is never installed to. */
  readonly chromiumPath?: string | undefined;
  /** apt-get may be used (root, apt-get present, SWITCHYARD_NO_INSTALL unset). */
  readonly mayInstall: boolean;
  /** `service postgresql start` may be tried (root, SWITCHYARD_NO_INSTALL unset). */
  readonly mayStartServices?: boolean;
  /** Progress lines (what is being installed or started). */
  readonly say: (line: string) => void;
}

/** One missing prerequisite: the single line to show, naming what to run. */
export class MissingPrerequisite extends Error {}

export function optionsFromEnvironment(env: NodeJS.ProcessEnv = process.env): PrerequisiteOptions {
  const isRoot = process.getuid?.() === 0;
  return {
    chromiumPath: env['CHROMIUM_PATH'] || undefined,
    mayInstall: isRoot && env['SWITCHYARD_NO_INSTALL'] !== '1' && onPath('apt-get'),
    mayStartServices: isRoot && env['SWITCHYARD_NO_INSTALL'] !== '1' && onPath('service'),
    say: (line) => console.info(`prerequisites: ${line}`),
  };
}

export function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `apt-get install -y <pkg>`; on failure once more after `apt-get update` (a fresh image has no package lists). */
function aptInstall(pkg: string, say: (line: string) => void): boolean {
  say(`installing ${pkg} with apt-get (once; this can take a minute)`);
  const install = () => spawnSync('apt-get', ['install', '-y', pkg], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  if (install()) return true;
  spawnSync('apt-get', ['update'], { stdio: 'ignore' });
  return install();
}

export function ensureChromium(options: PrerequisiteOptions, defaultPath = DEFAULT_CHROMIUM_PATH): string {
  const chosen = options.chromiumPath;
  const path = chosen ?? defaultPath;
  if (isExecutable(path)) return path;
  if (chosen !== undefined) {
    throw new MissingPrerequisite(`Chromium is missing: CHROMIUM_PATH=${chosen} is not an executable file; point CHROMIUM_PATH at a Chromium or unset it to use ${defaultPath}`);
  }
  if (options.mayInstall && aptInstall('chromium', options.say) && isExecutable(path)) return path;
  throw new MissingPrerequisite(`Chromium is missing: run \`sudo apt-get install -y chromium\` (Debian) or set CHROMIUM_PATH`);
}

export function ensureRedisServerBinary(options: PrerequisiteOptions): void {
  if (onPath('redis-server')) return;
  if (options.mayInstall && aptInstall('redis-server', options.say) && onPath('redis-server')) return;
  throw new MissingPrerequisite('redis-server is missing: run `sudo apt-get install -y redis-server` (Debian) or `brew install redis` (macOS)');
}

/** True when a Redis answers PING on 127.0.0.1:<port>. */
export async function redisAnswers(port: number): Promise<boolean> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000, commandTimeout: 1000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** A Redis on 6379, started the way .ci/run always did (no persistence, loopback only) when none answers. */
export async function ensureRedis(options: PrerequisiteOptions, { port = REDIS_PORT, waitMs = 5000 } = {}): Promise<void> {
  if (await redisAnswers(port)) return;
  const start = `redis-server --daemonize yes --bind 127.0.0.1 --port ${port} --save "" --appendonly no`;
  options.say(`no Redis on 127.0.0.1:${port}; starting one: ${start}`);
  const started = await new Promise<boolean>((resolve) => {
    const child = spawn('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
  // A daemonized server forks before it listens: wait for its PING (bounded).
  const deadline = Date.now() + waitMs;
  while (started && Date.now() < deadline) {
    if (await redisAnswers(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new MissingPrerequisite(`Redis is not answering on 127.0.0.1:${port} and could not be started: run \`${start}\` (is the port taken by something else?)`);
}

/** True when the PostgreSQL on 127.0.0.1:<port> lets user postgres into database `test` (trust auth). */
export async function postgresAnswers(port: number): Promise<boolean> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'test', connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The PostgreSQL of the history tests; as root, `service postgresql start` is tried once when none answers. */
export async function ensurePostgres(options: PrerequisiteOptions, { port = POSTGRES_PORT, waitMs = 15_000 } = {}): Promise<void> {
  if (await postgresAnswers(port)) return;
  if (options.mayStartServices && port === POSTGRES_PORT) {
    options.say(`no PostgreSQL on 127.0.0.1:${port}; starting it: service postgresql start`);
    spawnSync('service', ['postgresql', 'start'], { stdio: 'ignore' });
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      if (await postgresAnswers(port)) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new MissingPrerequisite(
    `PostgreSQL is not answering on 127.0.0.1:${port} (user postgres, trust auth, database test): run \`sudo apt-get install -y postgresql && sudo service postgresql start\`, then \`createdb -h 127.0.0.1 -U postgres test\``,
  );
}

export function ensurePrlimit(options: PrerequisiteOptions): void {
  if (process.platform !== 'linux' || onPath('prlimit')) return;
  if (options.mayInstall && aptInstall('util-linux', options.say) && onPath('prlimit')) return;
  throw new MissingPrerequisite('prlimit is missing: run `sudo apt-get install -y util-linux` (Debian)');
}

/** Every prerequisite in turn; throws the first MissingPrerequisite, so a run stops at the first thing missing. */
export async function ensurePrerequisites(options: PrerequisiteOptions): Promise<{ chromiumPath: string }> {
  const chromiumPath = ensureChromium(options);
  ensureRedisServerBinary(options);
  ensurePrlimit(options);
  await ensureRedis(options);
  await ensurePostgres(options);
  return { chromiumPath };
}
