import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.ts';
import { compileScope, EMPTY_SCOPE, type CompiledScope } from '../auth/scope.ts';
import type { GatewayConfig } from '../config/load-config.ts';
import type { Ingestor } from '../ingest/ingestor.ts';
import type { LiveState } from '../state/live-state.ts';
import { FollowUps, type FollowUpOptions } from './follow-up.ts';
import { MemoryIdempotencyStore, type IdempotencyStore } from './idempotency-store.ts';
import { RedisIdempotencyStore } from './redis-idempotency-store.ts';

/** How long an idempotency key's outcome is answered again. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
/** How long a claim holds while its action runs; a claimant that died loses it after this. */
export const IDEMPOTENCY_HOLD_MS = 30_000;

/** What the action resolvers share: one per gateway. */
export interface ActionServices {
  readonly audit: AuditLog;
  readonly idempotency: IdempotencyStore;
  readonly followUps: FollowUps;
  /** What an anonymous caller may do: open mode's `auth.anonymousActions` on every backend. */
  readonly anonymousScope: CompiledScope;
  /** `backends[<i>]` of a backend, for config messages. */
  readonly backendIndex: (name: string) => number;
  readonly now: () => Date;
  /** Deadline of one action's upstream requests. */
  readonly actionTimeoutMs: number;
  readonly idempotencyHoldMs: number;
  readonly idempotencyTtlMs: number;
  close(): Promise<void>;
}

/**
 * Builds the action services. The idempotency store follows the event store: Redis (shared by
 * every instance on it, under the events' prefix, as the webhook dedupe does) or this process.
 */
export function createActionServices(deps: {
  readonly config: GatewayConfig;
  readonly audit: AuditLog;
  readonly state: LiveState;
  readonly ingestor: Ingestor;
  readonly log: Logger;
  readonly now: () => Date;
  readonly followUp?: FollowUpOptions;
  readonly idempotency?: IdempotencyStore;
  readonly idempotencyHoldMs?: number;
}): ActionServices {
  const { config, log } = deps;
  let idempotency = deps.idempotency;
  if (!idempotency) {
    if (config.events.store === 'redis') {
      const redis = new Redis(config.events.redisUrl, { maxRetriesPerRequest: 2 });
      redis.on('error', (error: Error) => log.warn({ err: error.message }, 'action idempotency Redis error'));
      idempotency = new RedisIdempotencyStore(redis, `${config.events.streamPrefix}actions:`);
    } else {
      idempotency = new MemoryIdempotencyStore(() => deps.now().getTime());
    }
  }
  const followUps = new FollowUps(deps.state, deps.ingestor, log, { readTimeoutMs: config.backendTimeoutMs, ...deps.followUp });
  const anonymous = config.auth.mode === 'open' ? config.auth.anonymousActions : [];
  const names = config.backends.map((b) => b.name);
  const store = idempotency;
  return {
    audit: deps.audit,
    idempotency: store,
    followUps,
    anonymousScope: anonymous.length > 0 ? compileScope({ backends: ['*'], actions: anonymous }) : EMPTY_SCOPE,
    backendIndex: (name) => names.indexOf(name),
    now: deps.now,
    actionTimeoutMs: Math.max(config.backendTimeoutMs, 15_000),
    idempotencyHoldMs: deps.idempotencyHoldMs ?? IDEMPOTENCY_HOLD_MS,
    idempotencyTtlMs: IDEMPOTENCY_TTL_MS,
    async close() {
      followUps.stop();
      await store.close();
    },
  };
}
