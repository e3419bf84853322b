import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.ts';
import type { BackendRegistry } from '../backend-registry.ts';
import type { GatewayConfig } from '../config/load-config.ts';
import { RedisDeliveryDedupe } from '../ingest/delivery-dedupe.ts';
import type { Ingestor } from '../ingest/ingestor.ts';
import { createWebhookRoute, WEBHOOK_PATH_PREFIX } from '../ingest/webhook-route.ts';
import type { BodySlots } from './body-slots.ts';
import type { GatewayRoute } from './gateway-plugin.ts';
import type { WebhookObserver } from '../metrics/gateway-metrics.ts';
import type { GatewayTracing } from '../tracing/gateway-tracing.ts';

export interface WebhookIngress extends GatewayRoute {
  /** Writes pending rejection summaries and lets go of the shared dedupe store; before the audit log closes. */
  close(): void;
}

/** `/webhooks/<backend>`: verified deliveries into the ingestor, each body under the shared body-slot cap. */
export function createWebhookIngress(deps: {
  readonly config: GatewayConfig;
  readonly registry: BackendRegistry;
  readonly ingestor: Ingestor;
  readonly log: Logger;
  readonly audit: AuditLog;
  readonly now: () => Date;
  readonly bodySlots: BodySlots;
  readonly metrics?: WebhookObserver | null;
  readonly tracing?: GatewayTracing | null;
}): WebhookIngress {
  const { config, log } = deps;
  // With the Redis event bus, delivery ids are shared too: a retry to another instance stays a duplicate.
  const dedupeRedis = config.events.store === 'redis' ? new Redis(config.events.redisUrl, { maxRetriesPerRequest: 2 }) : null;
  dedupeRedis?.on('error', (error: Error) => log.warn({ err: error.message }, 'webhook dedupe Redis error'));
  const route = createWebhookRoute({
    registry: deps.registry, ingestor: deps.ingestor, log, audit: deps.audit, bodyLimitBytes: config.server.bodyLimitBytes, now: deps.now,
    rejectionSummaryMs: config.audit.rejectionSummarySeconds * 1000,
    metrics: deps.metrics ?? null,
    tracing: deps.tracing ?? null,
    ...(dedupeRedis ? { dedupe: new RedisDeliveryDedupe(dedupeRedis, { doneTtlMs: 72 * 3600_000 }, `${config.events.streamPrefix}deliveries:`) } : {}),
  });
  return {
    handles: (pathname) => pathname.startsWith(WEBHOOK_PATH_PREFIX),
    handle(req, res, url) {
      if (!deps.bodySlots.tryTake(req, res)) return deps.bodySlots.refuse(res);
      return route(req, res, url);
    },
    close() {
      dedupeRedis?.disconnect();
      route.close();
    },
  };
}
