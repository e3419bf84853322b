/** The configured chunk bus: in memory for one instance, Redis Streams when instances share events. */
import type { Logger } from 'pino';
import type { EventsConfig } from '../../events/create-event-store.ts';
import type { LogChunkBus } from '../log-types.ts';
import { DEFAULT_LOG_EXPIRE_MS } from './log-bus-expiry.ts';
import { MemoryLogChunkBus } from './memory-log-bus.ts';
import { RedisLogChunkBus } from './redis-log-bus.ts';

export interface LogBusOptions {
  readonly events: EventsConfig;
  /** Newest bytes of each job's chunks the bus keeps for followers joining late. */
  readonly retainBytes: number;
  /** A job's retained chunks are dropped this long after its last publish. Default 10 min. */
  readonly expireMs?: number;
  readonly log: Logger;
}

export function createLogChunkBus(options: LogBusOptions): LogChunkBus {
  const expireMs = options.expireMs ?? DEFAULT_LOG_EXPIRE_MS;
  if (options.events.store === 'redis') {
    return new RedisLogChunkBus({
      redisUrl: options.events.redisUrl,
      keyPrefix: `${options.events.streamPrefix}logs:`,
      retainBytes: options.retainBytes,
      expireMs,
      log: options.log,
    });
  }
  return new MemoryLogChunkBus(options.retainBytes, Date.now, expireMs);
}
