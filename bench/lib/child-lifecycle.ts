/**
 * The lifecycle every benchmark child shares (bench/gateway-process.ts,
 * bench/lib/ci-gateway-process.ts, bench/baseline/server.ts,
 * bench/baseline/query-server.ts), and the protocol bench/lib/gateway-child.ts
 * reads: once the child listens it prints one JSON line `{"port":N,"pid":N}` on
 * stdout; it exits (code 0) on SIGTERM/SIGINT or when its stdin closes (the
 * parent died), after closing its server, or regardless after 3 s.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BenchChildServer {
  /** Starts listening on 127.0.0.1; resolves with the port. */
  listen(): Promise<number>;
  /** Stops serving; the process exits once this settles. */
  close(): Promise<void>;
}

/** How long a shutdown may take before the process exits anyway. */
const FORCED_EXIT_MS = 3000;

/**
 * Installs the exit handlers, then listens and prints `{"port":N,"pid":N}`.
 * Resolves once that line is written.
 */
export async function serveBenchChild(server: BenchChildServer): Promise<void> {
  let closing = false;
  async function shutdown(code: number): Promise<void> {
    if (closing) return;
    closing = true;
    const force = setTimeout(() => process.exit(code), FORCED_EXIT_MS);
    force.unref();
    try {
      await server.close();
    } finally {
      process.exit(code);
    }
  }
  process.on('SIGTERM', () => void shutdown(0));
  process.on('SIGINT', () => void shutdown(0));
  // The parent holds our stdin open; when it goes away (even by SIGKILL), so do we.
  process.stdin.on('end', () => void shutdown(0));
  process.stdin.on('error', () => void shutdown(0));
  process.stdin.resume();

  const port = await server.listen();
  process.stdout.write(`${JSON.stringify({ port, pid: process.pid })}\n`);
}

/** Listens on an ephemeral port of 127.0.0.1; resolves with the port. */
export async function listenHttpServer(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as AddressInfo).port;
}

/** Drops every open connection and closes the server. */
export async function closeHttpServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
