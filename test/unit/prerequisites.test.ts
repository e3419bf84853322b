/**
 * The prerequisite check of `npm test` (test/setup/prerequisites.ts): a missing
 * Chromium stops the run at once with one line saying what to run, and a missing
 * Redis is started. The whole-run behaviour is checked on vitest itself: with
 * CHROMIUM_PATH pointing nowhere, `vitest run` prints that one line, runs no test
 * file and exits 1.
 */
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ensureChromium, ensurePostgres, ensureRedis, MissingPrerequisite, postgresAnswers, redisAnswers, type PrerequisiteOptions } from '../setup/prerequisites.ts';
import { freePort } from '../helpers/free-port.ts';

const said: string[] = [];
const noInstall: PrerequisiteOptions = { mayInstall: false, say: (line) => said.push(line) };

describe('prerequisites of npm test', () => {
  it('should name the apt-get command when Chromium is missing and cannot be installed', () => {
    expect(() => ensureChromium(noInstall, '/nonexistent/chromium')).toThrow(new MissingPrerequisite('Chromium is missing: run `sudo apt-get install -y chromium` (Debian) or set CHROMIUM_PATH'));
  });

  it('should never install to a CHROMIUM_PATH the user chose, and say to fix the variable', () => {
    expect(() => ensureChromium({ ...noInstall, mayInstall: true, chromiumPath: '/nonexistent/chromium' })).toThrow(/^Chromium is missing: CHROMIUM_PATH=\/nonexistent\/chromium is not an executable file/);
  });

  it('should start a Redis where none answers, and leave one that answers alone', async () => {
    const port = await freePort();
    expect(await redisAnswers(port)).toBe(false);
    await ensureRedis(noInstall, { port });
    try {
      expect(await redisAnswers(port)).toBe(true);
      expect(said.at(-1)).toMatch(`starting one: redis-server --daemonize yes --bind 127.0.0.1 --port ${port}`);
      const before = said.length;
      await ensureRedis(noInstall, { port });
      expect(said.length).toBe(before);
    } finally {
      const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      redis.on('error', () => {});
      await redis.connect();
      await redis.call('SHUTDOWN', 'NOSAVE').catch(() => {});
      redis.disconnect();
    }
  });

  it('should stop with one line when the Redis port is taken by something that is not Redis', async () => {
    const squatter = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const { port } = squatter.address() as { port: number };
    try {
      await expect(ensureRedis(noInstall, { port, waitMs: 500 })).rejects.toThrow(new MissingPrerequisite(`Redis is not answering on 127.0.0.1:${port} and could not be started: run \`redis-server --daemonize yes --bind 127.0.0.1 --port ${port} --save "" --appendonly no\` (is the port taken by something else?)`));
    } finally {
      squatter.close();
    }
  });

  it('should pass the PostgreSQL at 127.0.0.1:5432, and stop with one line where none answers', async () => {
    expect(await postgresAnswers(5432)).toBe(true);
    await ensurePostgres(noInstall);
    const port = await freePort();
    await expect(ensurePostgres({ ...noInstall, mayStartServices: true }, { port })).rejects.toThrow(new MissingPrerequisite(
      `PostgreSQL is not answering on 127.0.0.1:${port} (user postgres, trust auth, database test): run \`sudo apt-get install -y postgresql && sudo service postgresql start\`, then \`createdb -h 127.0.0.1 -U postgres test\``,
    ));
  });

  it('should stop the whole vitest run before any test file with one line when Chromium is missing', () => {
    const run = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', 'test/unit/ids.test.ts'], {
      env: { ...process.env, CHROMIUM_PATH: '/nonexistent/chromium', NO_COLOR: '1' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual(['Chromium is missing: CHROMIUM_PATH=/nonexistent/chromium is not an executable file; point CHROMIUM_PATH at a Chromium or unset it to use /usr/bin/chromium']);
    expect(run.stdout).not.toMatch(/Test Files|ids\.test\.ts/);
  });
});
