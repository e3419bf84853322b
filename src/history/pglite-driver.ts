import { AsyncLocalStorage } from 'node:async_hooks';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { SqlDriver, SqlSession } from './history-store.ts';

type Op = 'query' | 'exec' | 'close';

interface Reply {
  readonly id: number;
  readonly rows?: object[];
  readonly affected?: number;
  readonly error?: WorkerError;
}

interface WorkerError {
  readonly message: string;
  readonly code?: string;
  readonly [field: string]: unknown;
}

interface Pending {
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

/** How the PGlite process was put below the gateway once open (src/history/pglite-process.mjs). */
export interface PgliteScheduling {
  /** `idle`: SCHED_IDLE (Linux, via chrt, in memory only); `nice`: 10 nice levels only (a dataDir, or no chrt); `unchanged`: not Linux. */
  readonly policy: 'idle' | 'nice' | 'unchanged';
  /** The process id (Linux). */
  readonly pid?: string;
  /** Why SCHED_IDLE was not set. */
  readonly reason?: string;
}

export interface PgliteOptions {
  /** Told once, when the database is open, how its process was scheduled (for a debug line). */
  readonly onScheduled?: (scheduling: PgliteScheduling) => void;
  /**
   * Abandons the database: its process is killed at once (opening or not) and every
   * pending or later query rejects. For in-memory PGlite at shutdown, where nothing is
   * lost and waiting for the WASM to finish compiling would only delay the exit.
   */
  readonly signal?: AbortSignal;
}

/** A PostgreSQL error from the PGlite process, with its fields (code, detail, …) as PGlite gave them. */
function databaseError(fields: WorkerError): Error {
  const { message, ...rest } = fields;
  return Object.assign(new Error(message), rest);
}

/** One single-connection lock: a transaction holds it from BEGIN to COMMIT/ROLLBACK. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();

  async hold<T>(work: () => Promise<T>): Promise<T> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      return await work();
    } finally {
      release();
    }
  }
}

const PROCESS_SCRIPT = fileURLToPath(new URL('./pglite-process.mjs', import.meta.url));

/** The gateway's side of src/history/pglite-process.mjs: requests by id, one connection. */
class PgliteProcess {
  readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Set once the process is gone: every later request rejects with it. */
  private dead: Error | null = null;
  private closing = false;
  readonly opened: Promise<void>;
  scheduling: PgliteScheduling = { policy: 'unchanged' };

  constructor(dataDir: string | undefined) {
    this.child = fork(PROCESS_SCRIPT, dataDir ? [dataDir] : [], {
      // Plain JavaScript: no loader, and none of the gateway's flags (--cpu-prof, --inspect, heap limits).
      execArgv: [],
      // Structured clone, as between threads: Dates and typed arrays arrive as themselves.
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.opened = new Promise<void>((resolve, reject) => {
      const onOpen = (message: { opened?: true; scheduling?: PgliteScheduling; openError?: WorkerError }) => {
        if (message.openError) return reject(databaseError(message.openError));
        if (message.scheduling) this.scheduling = message.scheduling;
        resolve();
      };
      this.child.once('message', onOpen);
      // Before the first message, a crash rejects the opening.
      this.openFailed = reject;
    }).then(() => {
      this.openFailed = null;
      this.child.on('message', (reply: Reply) => this.answer(reply));
      this.refCount();
    });
    this.child.on('error', (error) => this.lost(new Error(`PGlite process failed: ${error.message}`)));
    this.child.on('exit', (code, signal) =>
      this.lost(new Error(`PGlite process exited (${signal ?? `code ${code}`})${this.closing ? ' while the history was closing' : ''}`)),
    );
  }

  private openFailed: ((error: Error) => void) | null = null;

  request(op: Op, sql = '', params: readonly unknown[] = []): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.refCount();
      this.child.send({ id, op, sql, params }, (error) => {
        if (error) this.lost(new Error(`PGlite process unreachable: ${error.message}`));
      });
    });
  }

  /** Closes PGlite (flushing a dataDir), then ends the process. */
  async close(): Promise<void> {
    if (this.dead) return;
    this.closing = true;
    try {
      await this.opened;
      await this.request('close');
    } finally {
      await this.terminate();
    }
  }

  /** Ends the process now (nothing is flushed): for an abandoned in-memory database. */
  async terminate(): Promise<void> {
    this.closing = true;
    this.lost(new Error('PGlite process terminated: the history database was abandoned (the gateway is closing)'));
    await this.kill();
  }

  /** SIGKILL, and wait for the exit: what the driver then sees is what a crash looks like. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGKILL');
    await exited;
  }

  private answer(reply: Reply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    this.refCount();
    if (reply.error) waiting.reject(databaseError(reply.error));
    else waiting.resolve(reply);
  }

  /** The process is gone: everything waiting on it fails with an error naming PGlite. */
  private lost(error: Error): void {
    if (this.dead) return;
    this.dead = error;
    this.openFailed?.(error);
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }

  /** Referenced only while it opens or answers: an idle database never keeps the gateway alive. */
  private refCount(): void {
    const channel = this.child.channel;
    if (this.pending.size > 0 || this.openFailed) {
      this.child.ref();
      channel?.ref();
    } else {
      this.child.unref();
      channel?.unref();
    }
  }
}

/** What tests and benches may reach of a driver's PGlite process: its id, and a crash. */
export interface PgliteProcessHandle {
  readonly pid: number | undefined;
  /** Kills the process at once (SIGKILL), as a crash would look to the driver. */
  kill(): Promise<void>;
}

/** Each driver's process, for fault injection in tests and CPU accounting in benches. */
const processes = new WeakMap<SqlDriver, PgliteProcessHandle>();

export function pgliteProcessOf(driver: SqlDriver): PgliteProcessHandle | undefined {
  return processes.get(driver);
}

/**
 * Embedded PostgreSQL (WASM): stored in `dataDir`, or in memory when none is given. It runs
 * in a child process (src/history/pglite-process.mjs), so compiling it, running its SQL and
 * collecting its garbage never block the event loop, and run below the gateway's priority. One connection: a transaction holds it from BEGIN to COMMIT,
 * and queries outside wait their turn. Inside `transaction(work)`, use the session given to
 * `work`: a query through the driver itself there would wait for the transaction to end
 * and fails at once instead.
 */
export async function openPgliteDriver(dataDir?: string, options: PgliteOptions = {}): Promise<SqlDriver> {
  const worker = new PgliteProcess(dataDir);
  const abandon = () => void worker.terminate();
  if (options.signal?.aborted) abandon();
  options.signal?.addEventListener('abort', abandon, { once: true });
  try {
    await worker.opened;
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  options.onScheduled?.(worker.scheduling);

  const mutex = new Mutex();
  const inTransaction = new AsyncLocalStorage<true>();
  const direct: SqlSession = {
    async query<T extends object>(sql: string, params: readonly unknown[] = []) {
      const reply = await worker.request('query', sql, params);
      return { rows: (reply.rows ?? []) as T[], affected: reply.affected ?? 0 };
    },
    async exec(sql: string) {
      await worker.request('exec', sql);
    },
  };
  const outside = <T>(work: () => Promise<T>): Promise<T> => {
    if (inTransaction.getStore()) {
      return Promise.reject(new Error('PGlite: inside transaction(work), query through the session given to work, not the driver (it would wait for the transaction to end)'));
    }
    return mutex.hold(work);
  };
  const driver: SqlDriver = {
    query<T extends object>(sql: string, params?: readonly unknown[]) {
      return outside(() => direct.query<T>(sql, params));
    },
    exec: (sql) => outside(() => direct.exec(sql)),
    transaction: (work) =>
      outside(() =>
        inTransaction.run(true, async () => {
          await direct.exec('BEGIN');
          try {
            const result = await work(direct);
            await direct.exec('COMMIT');
            return result;
          } catch (error) {
            await direct.exec('ROLLBACK').catch(() => {});
            throw error;
          }
        }),
      ),
    async close() {
      options.signal?.removeEventListener('abort', abandon);
      await worker.close();
    },
  };
  processes.set(driver, { pid: worker.child.pid, kill: () => worker.kill() });
  return driver;
}
