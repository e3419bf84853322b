/** /metrics for live logs: tails, watchers, upstream reads and bytes, chunks delivered. */
import { Counter, Gauge, Registry } from 'prom-client';

export class LogMetrics {
  private readonly tails: Gauge<'backend'>;
  private readonly watchers: Gauge<'backend'>;
  private readonly reads: Counter<'backend'>;
  private readonly bytes: Counter<'backend'>;
  private readonly chunks: Counter<'backend'>;

  /** Without a registry (metrics off) the figures are kept on a private one nobody scrapes. */
  constructor(registry: Registry = new Registry()) {
    const registers = [registry];
    this.tails = new Gauge({ name: 'switchyard_log_tails_active', help: 'Upstream log tails running on this instance (one per log source)', labelNames: ['backend'], registers });
    this.watchers = new Gauge({ name: 'switchyard_log_watchers', help: 'Local watchers of job logs (jobLog subscriptions)', labelNames: ['backend'], registers });
    this.reads = new Counter({ name: 'switchyard_log_upstream_reads_total', help: 'Upstream reads of job logs (tails, gaps and Job.log)', labelNames: ['backend'], registers });
    this.bytes = new Counter({ name: 'switchyard_log_bytes_read_total', help: 'Bytes of job logs read from upstream', labelNames: ['backend'], registers });
    this.chunks = new Counter({ name: 'switchyard_log_chunks_delivered_total', help: 'Log chunks delivered to watchers', labelNames: ['backend'], registers });
  }

  tailStarted(backend: string): void {
    this.tails.inc({ backend });
  }

  tailStopped(backend: string): void {
    this.tails.dec({ backend });
  }

  watcherJoined(backend: string): void {
    this.watchers.inc({ backend });
  }

  watcherLeft(backend: string): void {
    this.watchers.dec({ backend });
  }

  upstreamRead(backend: string): void {
    this.reads.inc({ backend });
  }

  bytesRead(backend: string, bytes: number): void {
    this.bytes.inc({ backend }, bytes);
  }

  delivered(backend: string): void {
    this.chunks.inc({ backend });
  }
}
