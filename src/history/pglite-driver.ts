import { AsyncLocalStorage } from 'node:async_hooks';
import { Worker } from 'node:worker_threads';
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

/** How the worker's thread was put below the event loop once open (src/history/pglite-worker.mjs). */
export interface PgliteScheduling {
  /** `idle`: SCHED_IDLE (Linux, via chrt, in memory only); `nice`: 10 nice levels only (a dataDir, or no chrt); `unchanged`: not Linux. */
  readonly policy: 'idle' | 'nice' | 'unchanged';
  /** The thread's id (Linux). */
  readonly tid?: string;
  /** Why SCHED_IDLE was not set. */
  readonly reason?: string;
}

export interface PgliteOptions {
  /** Told once, when the database is open, how its thread was scheduled (for a debug line). */
  readonly onScheduled?: (scheduling: PgliteScheduling) => void;
  /**
   * Abandons the database: the worker is terminated at once (opening or not) and every
   * pending or later query rejects. For in-memory PGlite at shutdown, where nothing is
   * lost and waiting for the WASM to finish compiling would only delay the exit.
   */
  readonly signal?: AbortSignal;
}

/** A PostgreSQL error from the worker, with its fields (code, detail, …) as PGlite gave them. */
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

/** The main thread's side of src/history/pglite-worker.mjs: requests by id, one connection. */
class PgliteWorker {
  readonly thread: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Set once the worker is gone: every later request rejects with it. */
  private dead: Error | null = null;
  private closing = false;
  readonly opened: Promise<void>;
  scheduling: PgliteScheduling = { policy: 'unchanged' };

  constructor(dataDir: string | undefined) {
    this.thread = new Worker(new URL('./pglite-worker.mjs', import.meta.url), { workerData: { dataDir } });
    this.opened = new Promise<void>((resolve, reject) => {
      const onOpen = (message: { opened?: true; scheduling?: PgliteScheduling; openError?: WorkerError }) => {
        if (message.openError) return reject(databaseError(message.openError));
        if (message.scheduling) this.scheduling = message.scheduling;
        resolve();
      };
      this.thread.once('message', onOpen);
      // Before the first message, a crash rejects the opening.
      this.openFailed = reject;
    }).then(() => {
      this.openFailed = null;
      this.thread.on('message', (reply: Reply) => this.answer(reply));
      this.refCount();
    });
    this.thread.on('error', (error) => this.lost(new Error(`PGlite worker crashed: ${error.message}`)));
    this.thread.on('exit', (code) => this.lost(new Error(`PGlite worker exited (code ${code})${this.closing ? ' while the history was closing' : ''}`)));
  }

  private openFailed: ((error: Error) => void) | null = null;

  request(op: Op, sql = '', params: readonly unknown[] = []): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.refCount();
      this.thread.postMessage({ id, op, sql, params });
    });
  }

  /** Closes PGlite (flushing a dataDir), then ends the thread. */
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

  /** Ends the thread now (nothing is flushed): for an abandoned in-memory database. */
  async terminate(): Promise<void> {
    this.closing = true;
    this.lost(new Error('PGlite worker terminated: the history database was abandoned (the gateway is closing)'));
    await this.thread.terminate();
  }

  private answer(reply: Reply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    this.refCount();
    if (reply.error) waiting.reject(databaseError(reply.error));
    else waiting.resolve(reply);
  }

  /** The worker is gone: everything waiting on it fails with an error naming PGlite. */
  private lost(error: Error): void {
    if (this.dead) return;
    this.dead = error;
    this.openFailed?.(error);
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }

  /** Referenced only while it opens or answers: an idle database never keeps the process alive. */
  private refCount(): void {
    if (this.pending.size > 0 || this.openFailed) this.thread.ref();
    else this.thread.unref();
  }
}

/** Each driver's thread, for fault injection in tests (terminating it is a crash as the driver sees it). */
const workers = new WeakMap<SqlDriver, Worker>();

export function pgliteWorkerOf(driver: SqlDriver): Worker | undefined {
  return workers.get(driver);
}

/**
 * Embedded PostgreSQL (WASM): stored in `dataDir`, or in memory when none is given. It runs
 * in a worker thread (src/history/pglite-worker.mjs), so compiling it and running its SQL
 * never block the event loop. One connection: a transaction holds it from BEGIN to COMMIT,
 * and queries outside wait their turn. Inside `transaction(work)`, use the session given to
 * `work`: a query through the driver itself there would wait for the transaction to end
 * and fails at once instead.
 */
export async function openPgliteDriver(dataDir?: string, options: PgliteOptions = {}): Promise<SqlDriver> {
  const worker = new PgliteWorker(dataDir);
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
  workers.set(driver, worker.thread);
  return driver;
}
