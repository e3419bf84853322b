// The PGlite worker: one embedded PostgreSQL (WASM) off the gateway's main thread, so
// compiling it and running its SQL never block webhooks, subscriptions or shutdown.
// Plain JavaScript on purpose: it must start the same under tsx, vitest and node,
// and a Worker is not given a TypeScript loader everywhere.
// Protocol (src/history/pglite-driver.ts): after opening it posts {opened: true, scheduling} or
// {openError}; then it answers {id, op: 'query'|'exec'|'close', sql, params} with
// {id, rows, affected} or {id, error}, one request at a time in arrival order.
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

/** PostgreSQL's error fields survive the trip, so callers can match on code and message. */
const ERROR_FIELDS = ['code', 'severity', 'detail', 'hint', 'position', 'where', 'schema', 'table', 'column', 'dataType', 'constraint', 'routine'];

function serializeError(error) {
  if (!(error instanceof Error)) return { message: String(error) };
  const out = { message: error.message, name: error.name };
  for (const field of ERROR_FIELDS) if (error[field] !== undefined) out[field] = error[field];
  return out;
}

// Once open, below the event loop: on a busy core the scheduler then runs the gateway's loop
// (webhooks, subscribers) first and the history's SQL in what is left (write-behind: it can
// wait, and a backlog is written in larger, cheaper batches). Opening (compiling the WASM,
// once) keeps the gateway's priority. Linux only: there a thread has its own nice value and
// policy; elsewhere this would lower the whole process.
// Nice alone is not enough (bench/README.md section 9): a niced thread that is running keeps
// the core until its slice ends, so the loop's wakeups wait behind the SQL. A SCHED_IDLE
// thread is preempted by any normal thread at its wakeup. Node has no call for it: chrt
// (util-linux) sets it on this thread's id. Best effort: without chrt, nice +10 stays.
// The price: on a saturated core a SCHED_IDLE thread gets almost nothing (weight 3 against
// 1024), and an unprivileged thread cannot leave SCHED_IDLE. So in memory only (the demo
// default): a dataDir keeps nice +10, as its close must flush to disk in a shutdown's time.
const NICER_BY = 10;
function runBelowTheEventLoop(dataDir) {
  if (process.platform !== 'linux') return { policy: 'unchanged', reason: `not Linux (${process.platform})` };
  try {
    setPriority(Math.min(19, getPriority() + NICER_BY));
  } catch {
    // Not allowed here (a sandbox): the worker runs at the gateway's priority.
  }
  let tid = '';
  try {
    // "<pid>/task/<tid>": read from this thread, so it names this thread.
    tid = readlinkSync('/proc/thread-self').split('/').pop();
    if (dataDir) return { policy: 'nice', tid, reason: 'a dataDir: its close must not wait for an idle core' };
    execFileSync('chrt', ['--idle', '-p', '0', tid], { stdio: 'ignore', timeout: 5000 });
    return { policy: 'idle', tid };
  } catch (error) {
    return { policy: 'nice', tid, reason: `chrt --idle failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

let db;
try {
  db = await PGlite.create(workerData.dataDir);
  const scheduling = runBelowTheEventLoop(workerData.dataDir);
  parentPort.postMessage({ opened: true, scheduling });
} catch (error) {
  parentPort.postMessage({ openError: serializeError(error) });
}

async function answer({ id, op, sql, params }) {
  try {
    if (op === 'query') {
      const result = await db.query(sql, params ?? []);
      return { id, rows: result.rows, affected: result.affectedRows ?? 0 };
    }
    if (op === 'exec') {
      await db.exec(sql);
      return { id, rows: [], affected: 0 };
    }
    if (op === 'close') {
      if (!db.closed) await db.close();
      return { id, rows: [], affected: 0 };
    }
    return { id, error: { message: `PGlite worker: unknown op ${JSON.stringify(op)}` } };
  } catch (error) {
    return { id, error: serializeError(error) };
  }
}

if (db) parentPort.on('message', async (request) => parentPort.postMessage(await answer(request)));
