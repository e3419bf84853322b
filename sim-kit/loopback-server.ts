/**
 * The HTTP server of a CI-system simulator: listens on 127.0.0.1 (port 0 for
 * an ephemeral one), keeps the request log and the injected fault (hand it to
 * the handler as its FaultScope), answers a 500 in the simulated API's dialect
 * when the handler throws, and on stop releases responses held open by a hang
 * fault and drops keep-alive connections so nothing keeps the process alive.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FaultScope, SimFault, SimRequestRecord } from './sim-faults.ts';

export interface LoopbackServerOptions {
  /** Default 0 (ephemeral); the bound port is known after start(). */
  readonly port?: number;
  readonly handler: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  /** The 500 answered when the handler throws. */
  readonly crashReply: (err: unknown) => { readonly contentType: string; readonly body: string };
}

export class LoopbackServer implements FaultScope {
  /** Every request (path with query) in arrival order; hung ones with status 0. */
  readonly requests: SimRequestRecord[] = [];
  /** Responses held open (hang faults); stop() destroys them. */
  readonly hung = new Set<http.ServerResponse>();
  private currentFault: SimFault | null = null;
  private readonly server: http.Server;
  private port: number;
  private started = false;

  constructor(private readonly options: LoopbackServerOptions) {
    this.port = options.port ?? 0;
    this.server = http.createServer((req, res) => {
      try {
        options.handler(req, res);
      } catch (err) {
        this.record({ method: req.method ?? 'GET', path: req.url ?? '/', status: 500 });
        const reply = options.crashReply(err);
        if (!res.headersSent) res.writeHead(500, { 'content-type': reply.contentType });
        res.end(reply.body);
      }
    });
    // Like the real services, idle connections outlive the client's idle timeout, so a reused one is never reset under it.
    this.server.keepAliveTimeout = 65_000;
  }

  readonly record = (r: SimRequestRecord): void => {
    this.requests.push(r);
  };

  readonly fault = (): SimFault | null => this.currentFault;

  setFault(fault: SimFault | null): void {
    this.currentFault = fault;
  }

  resetRequests(): void {
    this.requests.length = 0;
  }

  /** `http://127.0.0.1:PORT` (no trailing slash); the configured port until start() binds. */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Listens once (later calls do nothing); rejects if the port cannot be bound. */
  async start(): Promise<void> {
    if (this.started) return;
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as AddressInfo).port;
    this.started = true;
  }

  /** Destroys hung responses, then (if started) closes the server and every open connection. */
  async stop(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.hung.clear();
    if (!this.started) return;
    this.started = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // close() waits for keep-alive sockets; drop them so nothing keeps the process alive.
    this.server.closeAllConnections();
    await closed;
  }
}
