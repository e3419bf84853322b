import { readdirSync, readFileSync } from 'node:fs';

/**
 * This process's file-descriptor figures, read from Linux /proc with
 * synchronous calls on the main thread: a read that finds no descriptor left
 * fails with EMFILE itself, and being synchronous it cannot race libuv's
 * accept-side EMFILE handling (which also runs on the main thread).
 */

/** The soft limit on open files, from the text of /proc/self/limits; null when unknown or unlimited. */
export function parseFdSoftLimit(limitsText: string): number | null {
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(limitsText);
  return match && match[1] !== 'unlimited' ? Number(match[1]) : null;
}

export type FdLimitReading = { readonly limit: number | null } | { readonly exhausted: NodeJS.ErrnoException };

const isExhaustion = (error: unknown): error is NodeJS.ErrnoException =>
  (error as NodeJS.ErrnoException | null)?.code === 'EMFILE' || (error as NodeJS.ErrnoException | null)?.code === 'ENFILE';

/** The current soft limit, or the EMFILE/ENFILE error when not even this read could open a descriptor. */
export function readFdLimit(): FdLimitReading {
  try {
    return { limit: parseFdSoftLimit(readFileSync('/proc/self/limits', 'utf8')) };
  } catch (error) {
    return isExhaustion(error) ? { exhausted: error } : { limit: null };
  }
}

/** Descriptors open now; null where /proc is not available. Costs about 3 µs per descriptor: call at start-up, not per request. */
export function countOpenFds(): number | null {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return null;
  }
}

export { isExhaustion as isFdExhaustion };
