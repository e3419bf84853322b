import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { countOpenFds, isFdExhaustion, readFdLimit } from './file-descriptors.ts';
import { throttledEvent } from './throttled-log.ts';

/** Descriptors kept free for what is not a client connection: upstream sockets, Redis, the audit file, logs. */
export const FD_RESERVE = 64;
const REPORT_INTERVAL_MS = 10_000;
const CHECK_INTERVAL_MS = 1000;

export interface ConnectionCapacityHealth {
  /** Client connections open now (HTTP, SSE, WebSocket). */
  readonly open: number;
  /** The cap in force: server.maxConnections, lowered to fit the descriptor limit. */
  readonly limit: number;
  /** Connections closed on accept because the cap was reached, since start. */
  readonly refused: number;
  readonly lastRefusedAt: string | null;
  readonly fileDescriptors: { readonly limit: number | null; readonly exhaustions: number; readonly lastExhaustedAt: string | null };
}

export interface ConnectionCapacity {
  health(): Promise<ConnectionCapacityHealth>;
  /** For the server's 'error' and 'clientError': true when the error was descriptor exhaustion (then it is logged here). */
  noteError(error: unknown): boolean;
  stop(): void;
}

/**
 * The shed at the file-descriptor limit. Past the limit, libuv accepts and
 * closes new connections itself and Node never hears of it (no event, no log),
 * and if its spare descriptor is ever lost, accept errors reach the server.
 * So connections are capped below the limit (Node closes the excess on accept
 * and emits 'drop', logged once per interval), the limit is re-read every
 * second (`prlimit` can change it at run time), and any EMFILE/ENFILE seen is
 * logged once per interval and answered by closing idle keep-alive connections.
 */
export function guardConnectionCapacity(server: Server, options: { readonly maxConnections: number; readonly log: Logger }): ConnectionCapacity {
  const { log } = options;
  const baseline = countOpenFds() ?? 0;
  let fdLimit: number | null = null;
  // Node's own count (no listener per socket: idle subscribers stay cheap).
  const openNow = () => new Promise<number>((resolve) => server.getConnections((_error, count) => resolve(count ?? 0)));

  const capFor = (limit: number | null) => (limit === null ? options.maxConnections : Math.max(1, Math.min(options.maxConnections, limit - baseline - FD_RESERVE)));

  const exhausted = throttledEvent((n) => {
    log.error({ occurrences: n, fdLimit }, 'file-descriptor limit reached (EMFILE): new connections are refused; closing idle connections. Raise `ulimit -n` or lower server.maxConnections');
  }, REPORT_INTERVAL_MS);
  const refused = throttledEvent((n) => {
    log.warn({ refused: n, limit: server.maxConnections }, 'connection limit reached: new connections are closed on accept (server.maxConnections, or the file-descriptor limit)');
  }, REPORT_INTERVAL_MS);

  const onExhaustion = () => {
    exhausted();
    // Frees descriptors at once, so accepting can resume for clients that are doing something.
    server.closeIdleConnections();
  };

  const check = () => {
    const reading = readFdLimit();
    if ('exhausted' in reading) return onExhaustion();
    if (reading.limit === fdLimit) return;
    const first = fdLimit === null;
    fdLimit = reading.limit;
    server.maxConnections = capFor(fdLimit);
    if (server.maxConnections < options.maxConnections) {
      log[first ? 'info' : 'warn']({ cap: server.maxConnections, fdLimit, fdsAtStart: baseline, reserve: FD_RESERVE }, `connection cap ${server.maxConnections}: server.maxConnections (${options.maxConnections}) lowered to fit the file-descriptor limit`);
    }
  };
  server.maxConnections = options.maxConnections;
  check();
  const timer = setInterval(check, CHECK_INTERVAL_MS);
  timer.unref();

  server.on('drop', () => refused());

  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    health: async () => ({
      open: await openNow(),
      limit: server.maxConnections,
      refused: refused.total,
      lastRefusedAt: iso(refused.lastAt),
      fileDescriptors: { limit: fdLimit, exhaustions: exhausted.total, lastExhaustedAt: iso(exhausted.lastAt) },
    }),
    noteError(error) {
      if (!isFdExhaustion(error)) return false;
      onExhaustion();
      return true;
    },
    stop: () => clearInterval(timer),
  };
}
