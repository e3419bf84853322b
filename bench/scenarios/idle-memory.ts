/**
 * Scenario: memory per idle subscriber. Runs bench/idle-memory-process.ts (a
 * gateway with --expose-gc, in its own process) and returns what it measured.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface IdleMemoryRow {
  subscribers: number;
  /** Growth of the V8 heap after two full collections, per subscriber. */
  heapKbPerSub: number;
  /** Growth of the process RSS after the same collections, per subscriber. */
  rssKbPerSub: number;
  externalKbPerSub: number;
  connectSec: number;
}

const ENTRY = fileURLToPath(new URL('../idle-memory-process.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function runIdleMemory(sizes: readonly number[], timeoutMs: number): Promise<IdleMemoryRow[]> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', '--import', 'tsx', ENTRY, sizes.join(',')], { cwd: ROOT, timeout: timeoutMs, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`idle memory: ${error.message}\n${stderr}`));
      try {
        resolve((JSON.parse(stdout.trim().split('\n').at(-1)!) as { rows: IdleMemoryRow[] }).rows);
      } catch (parseError) {
        reject(new Error(`idle memory: unreadable output ${JSON.stringify(stdout)}: ${String(parseError)}`));
      }
    });
  });
}
