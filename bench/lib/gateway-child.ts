import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { GatewayStats } from './gateway-stats.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = fileURLToPath(new URL('../gateway-process.ts', import.meta.url));

/** Whether `taskset` is installed (pinning is skipped without it). */
export const HAS_TASKSET = ['/usr/bin/taskset', '/bin/taskset', '/usr/local/bin/taskset'].some((p) => existsSync(p));

export interface GatewayChild {
  readonly port: number;
  readonly pid: number;
  readonly base: string;
  /** Resident set size of the gateway process and its children (embedded PGlite), in bytes (VmRSS of /proc/<pid>/status). */
  rssBytes(): number | null;
  /** User + system CPU time of the gateway process and its children (embedded PGlite) so far, in ms (/proc/<pid>/stat). */
  cpuMs(): number | null;
  /** Null while running; how it ended (and the tail of its stderr) once it exited. */
  exited(): { code: number | null; signal: string | null; stderr: string } | null;
  /** Each `{"stats":…}` line the child printed (only with `statsEveryMs`), oldest first. */
  readonly stats: readonly GatewayStats[];
  /** Restarts the child's since-start event-loop histogram (SIGUSR2). */
  resetStats(): void;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();

/** Registers another child process (e.g. a fan-out client) so killAllChildren ends it too. */
export function trackChild(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** Kills every child still running (SIGKILL); for exit paths that cannot wait. */
export function killAllChildren(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
}

/** `pid` and every process below it (embedded PGlite runs in a child of the gateway). */
export function processTree(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const [child, parent] of parentOf) if (parent === tree[i]) tree.push(child);
  return tree;
}

/** Summed over the process tree; null when the root cannot be read. */
function overTree(pid: number, read: (pid: number) => number | null): number | null {
  const root = read(pid);
  if (root === null) return null;
  return processTree(pid).slice(1).reduce((sum, child) => sum + (read(child) ?? 0), root);
}

export function readRssBytes(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

const CLOCK_TICKS_PER_S = 100; // USER_HZ on Linux

export function readCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
    return ((utime + stime) * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return null;
  }
}

/**
 * Starts bench/gateway-process.ts as `node --import tsx` (one process, so the
 * pid we read /proc of is the gateway itself), pinned to `cpu` when taskset exists.
 */
export async function startGatewayChild(input: {
  simUrl: string;
  token: string;
  webhookSecret: string;
  config?: Record<string, unknown>;
  /** CPU (or taskset list, e.g. "0,1") the child is pinned to. */
  cpu?: number | string;
  startTimeoutMs?: number;
  /** Script to run instead of bench/gateway-process.ts (e.g. the baseline server); same stdout/stdin protocol. */
  entry?: string;
  /** Extra node flags placed before the script (e.g. `--cpu-prof`). */
  nodeFlags?: string[];
  /** Ask the child for a stats line at this interval (bench/lib/gateway-stats.ts). */
  statsEveryMs?: number;
}): Promise<GatewayChild> {
  const nodeArgs = [...(input.nodeFlags ?? []), '--import', 'tsx', input.entry ?? ENTRY];
  const pin = input.cpu !== undefined && HAS_TASKSET;
  const command = pin ? 'taskset' : process.execPath;
  const args = pin ? ['-c', String(input.cpu), process.execPath, ...nodeArgs] : nodeArgs;
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      BENCH_GATEWAY: JSON.stringify({ simUrl: input.simUrl, token: input.token, webhookSecret: input.webhookSecret, config: input.config, statsEveryMs: input.statsEveryMs }),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-8192);
  });
  let exitInfo: { code: number | null; signal: string | null } | null = null;
  let stopping = false;
  child.once('exit', (code, signal) => {
    exitInfo = { code, signal };
  });

  const ready = await new Promise<{ port: number; pid: number }>((resolve, reject) => {
    const timeoutMs = input.startTimeoutMs ?? 30_000;
    const timer = setTimeout(() => fail(new Error(`gateway child did not start within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
    const lines = createInterface({ input: child.stdout! });
    const fail = (error: Error) => {
      clearTimeout(timer);
      lines.close();
      child.kill('SIGKILL');
      reject(error);
    };
    lines.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as { port?: unknown; pid?: unknown };
        if (typeof parsed.port === 'number' && typeof parsed.pid === 'number') {
          clearTimeout(timer);
          lines.close();
          resolve({ port: parsed.port, pid: parsed.pid });
        }
      } catch {
        // not our line
      }
    });
    child.once('exit', (code, signal) => fail(new Error(`gateway child exited early (code ${code}, signal ${signal}); stderr: ${stderr}`)));
    child.once('error', (error) => fail(error));
  });
  // Keep draining stdout so the child never blocks on a full pipe, keeping its stats lines.
  const stats: GatewayStats[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{"stats"')) return;
    try {
      stats.push((JSON.parse(line) as { stats: GatewayStats }).stats);
    } catch {
      // a torn line is skipped
    }
  });

  return {
    port: ready.port,
    pid: ready.pid,
    base: `http://127.0.0.1:${ready.port}`,
    rssBytes: () => overTree(ready.pid, readRssBytes),
    cpuMs: () => overTree(ready.pid, readCpuMs),
    exited: () => (exitInfo && !stopping ? { ...exitInfo, stderr } : null),
    stats,
    resetStats: () => void child.kill('SIGUSR2'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      stopping = true;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
