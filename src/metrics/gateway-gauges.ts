import { Gauge, type Registry } from 'prom-client';
import type { BackendRegistry } from '../backend-registry.ts';
import type { HistoryStatus } from '../history/history-service.ts';

const CIRCUIT_STATES = ['CLOSED', 'OPEN', 'HALF_OPEN'] as const;

/** What the transports hold open now (src/server/*). */
export interface TransportCounts {
  readonly webSocketConnections: number;
  readonly sseStreams: number;
  /** Live subscriptions on every transport (a multiplexed group counts each member). */
  readonly subscriptions: number;
  readonly multiplexed: { readonly groups: number; readonly members: number };
}

export interface GaugeSources {
  readonly backends: BackendRegistry;
  readonly transports: () => TransportCounts;
  readonly history: () => Promise<HistoryStatus>;
  readonly now: () => number;
}

/**
 * Gauges read at scrape time from what the gateway already tracks (no second
 * book-keeping to drift): circuit state, rate-limit window and wait per
 * backend; connections and subscriptions per transport; the history's backlog.
 */
export function registerGatewayGauges(registry: Registry, sources: GaugeSources): void {
  const { backends } = sources;
  new Gauge({
    name: 'switchyard_upstream_circuit_state', help: 'Circuit breaker state per backend (1 for the current state)', labelNames: ['backend', 'state'], registers: [registry],
    collect() {
      for (const b of backends.all()) {
        const current = b.policy.circuit();
        for (const state of CIRCUIT_STATES) this.set({ backend: b.name, state }, state === current ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'switchyard_upstream_rate_limit_remaining', help: 'Requests left in the backend\'s rate-limit window, as it last reported (absent when it reports none)',
    labelNames: ['backend'], registers: [registry],
    collect() {
      this.reset();
      for (const b of backends.all()) {
        const remaining = b.health.current.rateLimitRemaining;
        if (remaining !== null) this.set({ backend: b.name }, remaining);
      }
    },
  });
  new Gauge({
    name: 'switchyard_upstream_rate_limit_wait_seconds', help: 'Time left of the backend\'s rate-limit wait (0 when none)', labelNames: ['backend'], registers: [registry],
    collect() {
      const now = sources.now();
      for (const b of backends.all()) this.set({ backend: b.name }, Math.max(0, b.policy.blockedUntil() - now) / 1000);
    },
  });
  new Gauge({
    name: 'switchyard_connections', help: 'Open streaming connections by transport', labelNames: ['transport'], registers: [registry],
    collect() {
      const t = sources.transports();
      this.set({ transport: 'graphql-ws' }, t.webSocketConnections);
      this.set({ transport: 'sse' }, t.sseStreams);
    },
  });
  new Gauge({
    name: 'switchyard_subscriptions', help: 'Live subscriptions by transport', labelNames: ['transport'], registers: [registry],
    collect() {
      const t = sources.transports();
      // An SSE stream (distinct connections mode) carries exactly one subscription.
      this.set({ transport: 'sse' }, t.sseStreams);
      this.set({ transport: 'graphql-ws' }, Math.max(0, t.subscriptions - t.sseStreams));
    },
  });
  new Gauge({
    name: 'switchyard_multiplexed_subscriptions', help: 'Identical WebSocket subscriptions served by one bus listener: groups and their members', labelNames: ['kind'], registers: [registry],
    collect() {
      const { groups, members } = sources.transports().multiplexed;
      this.set({ kind: 'groups' }, groups);
      this.set({ kind: 'members' }, members);
    },
  });
  new Gauge({
    name: 'switchyard_history_backlog', help: 'Changes not yet in the history: buffered (in-process write-behind) or stream lag/pending (Redis consumer group)',
    labelNames: ['kind'], registers: [registry],
    async collect() {
      this.reset();
      const status = await sources.history();
      if (status.state === 'off') return;
      if (status.buffered !== undefined) this.set({ kind: 'buffered' }, status.buffered);
      if (typeof status.lag === 'number') this.set({ kind: 'stream_lag' }, status.lag);
      if (typeof status.pending === 'number') this.set({ kind: 'stream_pending' }, status.pending);
    },
  });
}
