/**
 * A graphql-ws client that keeps one logical `jobUpdated` subscription alive
 * across instance deaths and restarts: it remembers the cursor of the last
 * event it received, and whenever its stream ends (socket closed, error,
 * complete) it subscribes again with `after: lastCursor`, on whichever
 * instance `pickUrl` gives.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

const JOBS = 'subscription($after: String, $filter: JobFilter) { jobUpdated(after: $after, filter: $filter) { cursor job { name status } } }';

export interface ReceivedJobEvent {
  readonly cursor: string;
  readonly name: string;
  readonly status: string;
}

export interface JobFilter {
  readonly status?: readonly string[];
}

export class ResumingSubscriber {
  readonly received: ReceivedJobEvent[] = [];
  /** Error codes the server ended streams with (HISTORY_LOST would mean lost events). */
  readonly errorCodes: string[] = [];
  resubscriptions = 0;
  private lastCursor: string | null = null;
  private client: Client | null = null;
  private stopped = false;
  private attempt = 0;

  constructor(
    readonly label: string,
    readonly filter: JobFilter,
    private readonly pickUrl: (attempt: number) => string | null,
  ) {}

  start(): void {
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.dispose();
  }

  private connect(): void {
    if (this.stopped) return;
    const url = this.pickUrl(this.attempt++);
    if (!url) return this.retry();
    const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    this.client = client;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      void client.dispose();
      this.retry();
    };
    client.subscribe<{ jobUpdated: { cursor: string; job: { name: string; status: string } } }>(
      { query: JOBS, variables: { after: this.lastCursor, filter: this.filter } },
      {
        next: (value) => {
          if (value.errors) {
            for (const e of value.errors) this.errorCodes.push(String((e.extensions as { code?: string } | undefined)?.code ?? e.message));
            return end();
          }
          const event = value.data?.jobUpdated;
          if (!event) return;
          this.received.push({ cursor: event.cursor, name: event.job.name, status: event.job.status });
          this.lastCursor = event.cursor;
        },
        error: (error) => {
          const code = (error as { code?: unknown }).code;
          // A closed socket is expected here (the instance died or shut down); anything else is noted.
          if (Array.isArray(error)) for (const e of error as { extensions?: { code?: string }; message: string }[]) this.errorCodes.push(e.extensions?.code ?? e.message);
          else if (typeof code !== 'number') this.errorCodes.push(error instanceof Error ? error.message : String(error));
          end();
        },
        complete: end,
      },
    );
  }

  private retry(): void {
    if (this.stopped) return;
    this.resubscriptions++;
    setTimeout(() => this.connect(), 200).unref();
  }
}
