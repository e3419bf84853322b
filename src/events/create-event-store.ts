import type { Logger } from 'pino';
import type { EventStoreFactory, EventStoreHooks } from './event-store.ts';
import { MemoryEventStore } from './memory-event-store.ts';
import { RedisEventStore } from './redis-event-store.ts';

export interface EventsConfig {
  readonly store: 'memory' | 'redis';
  readonly redisUrl: string;
  readonly streamPrefix: string;
  readonly historyMaxEvents: number;
  readonly historyMaxAgeSeconds: number;
}

/** The configured event store: embedded by default, Redis Streams when instances share events. */
export function eventStoreFactory(config: EventsConfig, log: Logger, hooks: EventStoreHooks = {}): EventStoreFactory {
  const limits = { maxEvents: config.historyMaxEvents, maxAgeSeconds: config.historyMaxAgeSeconds };
  if (config.store === 'redis') return (deliver) => new RedisEventStore(deliver, { redisUrl: config.redisUrl, streamPrefix: config.streamPrefix, limits, log, hooks });
  return (deliver) => new MemoryEventStore(deliver, limits, Date.now, hooks);
}
