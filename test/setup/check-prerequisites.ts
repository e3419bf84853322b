/**
 * The prerequisite check of `npm test` as a command, for .ci/run:
 * `npx tsx test/setup/check-prerequisites.ts`. Installs or starts what it may,
 * prints what it found, or exits 1 with one line saying what to run.
 */
import { execFileSync } from 'node:child_process';
import { ensurePrerequisites, MissingPrerequisite, optionsFromEnvironment, POSTGRES_PORT, REDIS_PORT } from './prerequisites.ts';

try {
  const { chromiumPath } = await ensurePrerequisites(optionsFromEnvironment());
  console.info(`chromium: ${execFileSync(chromiumPath, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim()} (${chromiumPath})`);
  console.info(`redis: ${execFileSync('redis-server', ['--version']).toString().trim()}; PONG on 127.0.0.1:${REDIS_PORT}`);
  console.info(`postgresql: database test answers on 127.0.0.1:${POSTGRES_PORT}`);
} catch (error) {
  if (!(error instanceof MissingPrerequisite)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
