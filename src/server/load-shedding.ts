import type { IncomingMessage, ServerResponse } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { ErrorCode, gatewayError } from '../errors.ts';

/** Where the event-loop lag comes from: each call gives the lag seen since the previous one, in ms. */
export interface EventLoopLagSource {
  sample(): number;
  stop?(): void;
}

export interface SheddingConfig {
  /** Past this event-loop lag (p99 over the last sample period) new subscriptions are refused. */
  readonly eventLoopLagMs: number;
  /** What refused clients are told to wait before retrying. */
  readonly retryAfterSeconds: number;
  /** How long the lag must stay over the bound before shedding starts: a burst (many clients connecting at once) is not overload. */
  readonly sustainedMs: number;
}

/** The process's own event-loop delay, from perf_hooks (p99 of the period, then reset). */
export function eventLoopLag(): EventLoopLagSource {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  return {
    sample() {
      const p99 = histogram.count > 0 ? histogram.percentile(99) / 1e6 : 0;
      histogram.reset();
      return p99;
    },
    stop: () => histogram.disable(),
  };
}

export interface LoadState {
  readonly overloaded: boolean;
  readonly eventLoopLagMs: number;
  readonly boundMs: number;
}

/**
 * Graceful shedding past the knee: while the event loop lags beyond the bound,
 * NEW subscriptions are refused (WebSocket: an `error` message OVERLOADED for
 * that operation; SSE: 503 with Retry-After) and readiness reports it, so a
 * balancer sends newcomers elsewhere; existing subscriptions go on. Shedding
 * starts once the lag has stayed over the bound for `sustainedMs`, and stops
 * once it is back under half the bound, so it neither reacts to a burst nor
 * flaps at the edge.
 */
export class LoadShedder {
  private state: LoadState;
  private readonly timer: NodeJS.Timeout;
  /** Consecutive samples over the bound. */
  private over = 0;
  private readonly samplesToShed: number;

  constructor(
    private readonly config: SheddingConfig,
    private readonly source: EventLoopLagSource,
    private readonly log: Pick<Logger, 'warn' | 'info'>,
    sampleEveryMs = 250,
  ) {
    this.state = { overloaded: false, eventLoopLagMs: 0, boundMs: config.eventLoopLagMs };
    this.samplesToShed = Math.max(1, Math.ceil(config.sustainedMs / sampleEveryMs));
    this.timer = setInterval(() => this.sample(), sampleEveryMs);
    this.timer.unref();
  }

  get current(): LoadState {
    return this.state;
  }

  get overloaded(): boolean {
    return this.state.overloaded;
  }

  /** The error a refused WebSocket subscription gets, or null when it may start. */
  refuseSubscription(): GraphQLError | null {
    if (!this.state.overloaded) return null;
    return gatewayError(ErrorCode.Overloaded, `The gateway is overloaded (event-loop lag ${Math.round(this.state.eventLoopLagMs)} ms); new subscriptions are refused. Retry in ${this.config.retryAfterSeconds} s, or on another instance.`, {
      extensions: { retryAfterSeconds: this.config.retryAfterSeconds },
    });
  }

  /** Answers 503 (and returns true) for a new SSE subscription while overloaded. */
  refuseStream(req: IncomingMessage, res: ServerResponse): boolean {
    if (!this.state.overloaded || !(req.headers.accept ?? '').includes('text/event-stream')) return false;
    const error = this.refuseSubscription()!;
    const body = JSON.stringify({ errors: [{ message: error.message, extensions: error.extensions }] });
    res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'retry-after': String(this.config.retryAfterSeconds) });
    res.end(body);
    return true;
  }

  stop(): void {
    clearInterval(this.timer);
    this.source.stop?.();
  }

  private sample(): void {
    const lag = this.source.sample();
    const bound = this.config.eventLoopLagMs;
    this.over = lag > bound ? this.over + 1 : 0;
    const overloaded = this.state.overloaded ? lag >= bound / 2 : this.over >= this.samplesToShed;
    if (overloaded !== this.state.overloaded) {
      if (overloaded) this.log.warn({ eventLoopLagMs: Math.round(lag), boundMs: bound }, 'overloaded: refusing new subscriptions');
      else this.log.info({ eventLoopLagMs: Math.round(lag), boundMs: bound }, 'load back to normal: accepting new subscriptions');
    }
    this.state = { overloaded, eventLoopLagMs: lag, boundMs: bound };
  }
}
