/**
 * Gateway-side figures the soak needs and /proc cannot give: event-loop delay
 * (perf_hooks' histogram, 10 ms resolution) and V8 heap. The child prints one
 * `{"stats":{…}}` line per interval; `since` is the whole run, reset on SIGUSR2
 * so the parent can start it after warm-up.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface GatewayStats {
  /** Epoch ms when the line was written. */
  at: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** Event-loop delay over the last interval, ms. */
  interval: { p50: number; p99: number; max: number };
  /** Event-loop delay since start or since the last SIGUSR2, ms. */
  since: { p50: number; p99: number; max: number; count: number };
}

const ms = (ns: number) => Math.round(ns / 1e4) / 100;
const view = (h: IntervalHistogram) => ({ p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) });

export function reportGatewayStats(everyMs: number): void {
  const interval = monitorEventLoopDelay({ resolution: 10 });
  const since = monitorEventLoopDelay({ resolution: 10 });
  interval.enable();
  since.enable();
  process.on('SIGUSR2', () => since.reset());
  const timer = setInterval(() => {
    const mem = process.memoryUsage();
    const stats: GatewayStats = { at: Date.now(), rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, interval: view(interval), since: { ...view(since), count: since.count } };
    interval.reset();
    process.stdout.write(`${JSON.stringify({ stats })}\n`);
  }, everyMs);
  timer.unref();
}
