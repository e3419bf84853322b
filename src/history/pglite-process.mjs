// The PGlite process: one embedded PostgreSQL (WASM) in a child process of the gateway, so
// compiling it, running its SQL and collecting its garbage never block webhooks,
// subscriptions or shutdown, and all of it can run below the gateway's priority: a child
// process owns its V8 helper threads (GC, compilation), which a worker thread shares with
// the gateway at the gateway's priority (bench/README.md section 9).
// Plain JavaScript on purpose: it is forked with no loader and none of the gateway's flags.
// Protocol (src/history/pglite-driver.ts), over the IPC channel (advanced serialization):
// after opening it sends {opened: true, scheduling} or {openError}; then it answers
// {id, op: 'query'|'exec'|'close', sql, params} with {id, rows, affected} or {id, error},
// one request at a time in arrival order. It exits when the channel closes (the gateway is gone).
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { PGlite } from '@electric-sql/pglite';

/** PostgreSQL's error fields survive the trip, so callers can match on code and message. */
const ERROR_FIELDS = ['code', 'severity', 'detail', 'hint', 'position', 'where', 'schema', 'table', 'column', 'dataType', 'constraint', 'routine'];

function serializeError(error) {
  if (!(error instanceof Error)) return { message: String(error) };
  const out = { message: error.message, name: error.name };
  for (const field of ERROR_FIELDS) if (error[field] !== undefined) out[field] = error[field];
  return out;
}

// Once open, below the gateway: on a busy core the scheduler then runs the gateway's loop
// (webhooks, subscribers) first and the history's SQL in what is left (write-behind: it can
// wait, and a backlog is written in larger, cheaper batches). Opening (compiling the WASM,
// once) keeps the gateway's priority. Every thread of this process is lowered, its V8
// helpers included; threads started later inherit it.
// Nice alone is not enough (bench/README.md section 9): a niced thread that is running keeps
// the core until its slice ends, so the loop's wakeups wait behind the SQL. A SCHED_IDLE
// thread is preempted by any normal thread at its wakeup. Node has no call for it: chrt
// (util-linux) sets it. Best effort: without chrt, nice +10 stays.
// The price: on a saturated core a SCHED_IDLE process gets almost nothing (weight 3 against
// 1024), and an unprivileged one cannot leave SCHED_IDLE. So in memory only (the demo
// default): a dataDir keeps nice +10, as its close must flush to disk in a shutdown's time.
const NICER_BY = 10;
function runBelowTheGateway(dataDir) {
  if (process.platform !== 'linux') return { policy: 'unchanged', reason: `not Linux (${process.platform})` };
  // On Linux each thread has its own nice value: lower every one of them.
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      setPriority(Number(tid), Math.min(19, getPriority(Number(tid)) + NICER_BY));
    } catch {
      // Not allowed here (a sandbox), or the thread ended: it runs at the gateway's priority.
    }
  }
  const pid = String(process.pid);
  if (dataDir) return { policy: 'nice', pid, reason: 'a dataDir: its close must not wait for an idle core' };
  try {
    execFileSync('chrt', ['--idle', '--all-tasks', '-p', '0', pid], { stdio: 'ignore', timeout: 5000 });
    return { policy: 'idle', pid };
  } catch (error) {
    return { policy: 'nice', pid, reason: `chrt --idle failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

const send = (message) => process.send?.(message);
// The gateway is gone (or closed the channel): nothing can reach this database any more.
process.on('disconnect', () => process.exit(0));

let db;
try {
  const dataDir = process.argv[2] || undefined;
  db = await PGlite.create(dataDir);
  const scheduling = runBelowTheGateway(dataDir);
  send({ opened: true, scheduling });
} catch (error) {
  // Told, then gone: the open channel would otherwise keep this process alive.
  process.send?.({ openError: serializeError(error) }, () => process.disconnect());
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
    return { id, error: { message: `PGlite process: unknown op ${JSON.stringify(op)}` } };
  } catch (error) {
    return { id, error: serializeError(error) };
  }
}

if (db) process.on('message', async (request) => send(await answer(request)));
