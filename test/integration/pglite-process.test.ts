import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryService } from '../../src/history/history-service.ts';
import type { SqlDriver } from '../../src/history/history-store.ts';
import { openPgliteDriver, pgliteProcessOf, type PgliteScheduling } from '../../src/history/pglite-driver.ts';

const HEAVY = 'SELECT count(*)::int AS n FROM generate_series(1, 3000000)';

/** The longest the main event loop went without running a 10 ms interval, while `work` ran. */
async function longestStall<T>(work: () => Promise<T>): Promise<{ result: T; stallMs: number; durationMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 10);
  const started = performance.now();
  try {
    const result = await work();
    const durationMs = performance.now() - started;
    stallMs = Math.max(stallMs, performance.now() - last);
    return { result, stallMs, durationMs };
  } finally {
    clearInterval(ticker);
  }
}

/** Each thread of a process (this one by default): its nice value and scheduling policy (Linux: /proc/<pid>/task/<tid>/stat, fields 19 and 41). */
function threadScheduling(pid: number | 'self' = 'self'): Map<string, { nice: number; policy: number }> {
  const threads = new Map<string, { nice: number; policy: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.set(tid, { nice: Number(fields[16]), policy: Number(fields[38]) });
    } catch {
      // a thread that ended meanwhile
    }
  }
  return threads;
}

const SCHED_OTHER = 0;
const SCHED_IDLE = 5;
const HAS_CHRT = process.env.PATH?.split(':').some((dir) => existsSync(join(dir, 'chrt'))) ?? false;

describe('PGlite in a child process', () => {
  let driver: SqlDriver | null = null;
  afterEach(async () => {
    await driver?.close();
    driver = null;
  });

  // Relative, not absolute: the loop's longest stall is compared with the work's own
  // length in the same run. On the main thread the stall is the whole work.
  it('keeps the event loop turning while PGlite opens and while it runs a heavy query', async () => {
    const opening = await longestStall(() => openPgliteDriver());
    driver = opening.result;
    expect(opening.stallMs).toBeLessThan(opening.durationMs / 2);

    const heavy = await longestStall(() => driver!.query<{ n: number }>(HEAVY));
    expect(heavy.result.rows).toEqual([{ n: 3_000_000 }]);
    expect(heavy.stallMs).toBeLessThan(heavy.durationMs / 2);
  });

  // The live path first: on a shared core the scheduler runs the event loop before the history's
  // SQL, and before its garbage collection: every thread of the PGlite process, V8's helpers too.
  it.runIf(process.platform === 'linux' && HAS_CHRT)('runs at SCHED_IDLE once open, every thread of its process, told by pid; the gateway keeps its own', async () => {
    const before = threadScheduling();
    let told: PgliteScheduling | null = null;
    driver = await openPgliteDriver(undefined, { onScheduled: (scheduling) => (told = scheduling) });
    await driver.query('SELECT 1');
    const pid = pgliteProcessOf(driver)!.pid!;
    expect(told).toMatchObject({ policy: 'idle', pid: String(pid) });
    const child = threadScheduling(pid);
    expect(child.size).toBeGreaterThan(1);
    for (const [tid, { policy }] of child) expect({ tid, policy }).toEqual({ tid, policy: SCHED_IDLE });
    // The gateway's threads (the event loop's among them) keep their policy and priority.
    const after = threadScheduling();
    for (const [tid, was] of before) if (after.has(tid)) expect(after.get(tid)).toEqual(was);
  });

  it.runIf(process.platform === 'linux')('without chrt, every thread of its process is niced (10 above the gateway) and it says why it is not SCHED_IDLE', async () => {
    const before = threadScheduling();
    const processNice = before.get(String(process.pid))!.nice;
    let told: PgliteScheduling | null = null;
    const path = process.env.PATH;
    // A PATH without chrt, for the child only: it copies the environment when it is forked (synchronously).
    const empty = mkdtempSync(join(tmpdir(), 'no-chrt-'));
    process.env.PATH = empty;
    let opening: Promise<SqlDriver>;
    try {
      opening = openPgliteDriver(undefined, { onScheduled: (scheduling) => (told = scheduling) });
    } finally {
      process.env.PATH = path;
      rmSync(empty, { recursive: true });
    }
    driver = await opening;
    await driver.query('SELECT 1');
    const pid = pgliteProcessOf(driver)!.pid!;
    expect(told).toMatchObject({ policy: 'nice', pid: String(pid), reason: expect.stringMatching(/chrt --idle failed/) });
    for (const [tid, scheduling] of threadScheduling(pid)) expect({ tid, ...scheduling }).toEqual({ tid, nice: Math.min(19, processNice + 10), policy: SCHED_OTHER });
    const after = threadScheduling();
    for (const [tid, was] of before) if (after.has(tid)) expect(after.get(tid)).toEqual(was);
  });

  it('rejects in-flight and later queries with an error naming PGlite when its process dies', async () => {
    driver = await openPgliteDriver();
    const inFlight = driver.query(HEAVY);
    // Killed from outside, as the OOM killer would: the driver learns it from the exit.
    process.kill(pgliteProcessOf(driver)!.pid!, 'SIGKILL');
    await expect(inFlight).rejects.toThrow(/PGlite process exited \(SIGKILL\)/);
    await expect(driver.query('SELECT 1')).rejects.toThrow(/PGlite process exited/);
  });

  it('keeps PostgreSQL error fields, and one transaction at a time on the one connection', async () => {
    driver = await openPgliteDriver();
    await driver.exec('CREATE TABLE t (k int PRIMARY KEY)');
    await expect(driver.query('INSERT INTO t VALUES (1), (1)')).rejects.toMatchObject({ code: '23505', message: expect.stringContaining('duplicate key') });
    const d = driver;
    // A transaction that fails rolls back; a query issued meanwhile waits and sees none of it.
    let inside!: () => void;
    const entered = new Promise<void>((resolve) => (inside = resolve));
    const failing = d.transaction(async (tx) => {
      await tx.query('INSERT INTO t VALUES (2)');
      inside();
      await new Promise((resolve) => setImmediate(resolve));
      throw new Error('give up');
    });
    await entered;
    const outside = d.query<{ n: number }>('SELECT count(*)::int AS n FROM t');
    await expect(failing).rejects.toThrow('give up');
    expect((await outside).rows).toEqual([{ n: 0 }]);
    // Through the driver from inside work: an error at once, not a deadlock.
    await expect(d.transaction(() => d.query('SELECT 1'))).rejects.toThrow(/use the session|session given to work/);
    expect((await d.transaction(async (tx) => (await tx.query<{ one: number }>('SELECT 1 AS one')).rows))).toEqual([{ one: 1 }]);
  });

  // Opens PGlite twice and flushes a dataDir at nice +10: slow on a loaded machine, not a measure of anything.
  it('keeps the rows of a dataDir across close and reopen; a dataDir that is a file fails to open', { timeout: 90_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pglite-process-'));
    try {
      let told: PgliteScheduling | null = null;
      driver = await openPgliteDriver(join(dir, 'db'), { onScheduled: (scheduling) => (told = scheduling) });
      // Niced, never SCHED_IDLE: its close flushes to disk and must not wait for an idle core.
      if (process.platform === 'linux') expect(told).toMatchObject({ policy: 'nice', reason: expect.stringMatching(/dataDir/) });
      await driver.exec('CREATE TABLE kept (v text)');
      await driver.transaction(async (tx) => tx.query('INSERT INTO kept VALUES ($1)', ['after close']));
      await driver.close();
      driver = await openPgliteDriver(join(dir, 'db'));
      expect((await driver.query('SELECT v FROM kept')).rows).toEqual([{ v: 'after close' }]);
      writeFileSync(join(dir, 'a-file'), 'not a directory');
      await expect(openPgliteDriver(join(dir, 'a-file'))).rejects.toThrow();
    } finally {
      await driver?.close();
      driver = null;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('abandons an in-memory database still opening at once when asked', async () => {
    const abandon = new AbortController();
    const opening = openPgliteDriver(undefined, { signal: abandon.signal });
    abandon.abort();
    await expect(opening).rejects.toThrow(/PGlite process terminated/);
  });
});

describe('HistoryService over in-memory PGlite in a child process', () => {
  it('reports the history degraded naming PGlite when its process dies, and reads answer ANALYTICS_UNAVAILABLE', async () => {
    const service = new HistoryService({ enabled: true, retentionDays: 90 }, () => undefined, pino({ level: 'silent' }), () => new Date(), { probeMs: 60_000 });
    try {
      await service.start();
      await service.ready;
      // The store's driver is private to it: reached here only to kill its process, as a crash would.
      const driver = (service.store() as unknown as { driver: SqlDriver }).driver;
      await pgliteProcessOf(driver)!.kill();
      await expect(service.read((store) => store.query('SELECT 1'))).rejects.toMatchObject({
        extensions: { code: 'ANALYTICS_UNAVAILABLE' },
        message: expect.stringMatching(/PGlite process exited \(SIGKILL\)/),
      });
      expect(await service.status()).toMatchObject({ state: 'degraded', cause: expect.stringMatching(/PGlite process exited/) });
    } finally {
      await service.close();
    }
  });

  it('closes at once while in-memory PGlite is still opening, without logging it as unavailable', async () => {
    const service = new HistoryService({ enabled: true, retentionDays: 90 }, () => undefined, pino({ level: 'silent' }), () => new Date());
    await service.start();
    await service.close();
    await expect(service.ready).rejects.toThrow(/PGlite process terminated/);
    expect((await service.status()).state).toBe('closed');
  });
});
