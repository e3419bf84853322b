/** What the log resolvers share, one per gateway: the tail service and the audit log. */
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.ts';
import type { BackendRegistry } from '../backend-registry.ts';
import type { EventsConfig } from '../events/create-event-store.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { Ingestor } from '../ingest/ingestor.ts';
import type { UpstreamBudget } from '../loaders/upstream-budget.ts';
import type { LiveState } from '../state/live-state.ts';
import type { Registry } from 'prom-client';
import { createLogChunkBus } from './bus/create-log-bus.ts';
import { liveJobTracker } from './live-job-tracker.ts';
import type { LogsConfig } from './log-config.ts';
import { LogMetrics } from './log-metrics.ts';
import { LogTails } from './log-tail-service.ts';

export interface LogServices {
  readonly tails: LogTails;
  readonly audit: AuditLog;
}

export function createLogServices(deps: {
  readonly config: LogsConfig;
  readonly events: EventsConfig;
  readonly registry: BackendRegistry;
  readonly state: LiveState;
  readonly bus: EventBus;
  readonly ingestor: Ingestor;
  readonly budget: UpstreamBudget;
  readonly timeoutMs: number;
  readonly audit: AuditLog;
  readonly metrics: Registry | null;
  readonly log: Logger;
}): LogServices {
  const tails = new LogTails({
    // Looked up at each use: a reload may replace a backend.
    backend: (name) => deps.registry.get(name),
    bus: createLogChunkBus({ events: deps.events, retainBytes: deps.config.ringBytes, log: deps.log }),
    config: deps.config,
    budget: deps.budget,
    timeoutMs: deps.timeoutMs,
    jobs: liveJobTracker({ state: deps.state, bus: deps.bus, registry: deps.registry, ingestor: deps.ingestor, timeoutMs: deps.timeoutMs }),
    metrics: new LogMetrics(deps.metrics ?? undefined),
    log: deps.log,
  });
  return { tails, audit: deps.audit };
}
