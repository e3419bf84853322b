import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { formatCursor, newEpoch, parseCursor } from './event-cursor.ts';
import type { Deliver, EventStore, EventStoreHooks, HistoryLimits, HistoryRead } from './event-store.ts';
import type { ChangeEvent, ChangeEventByType, EventType, WithCursor } from './event-types.ts';

export interface RedisEventStoreOptions {
  readonly redisUrl: string;
  /** Keys: `<prefix>Job`, `<prefix>Pipeline`, `<prefix>Runner` (streams) and `<prefix>epoch`. */
  readonly streamPrefix: string;
  readonly limits: HistoryLimits;
  readonly log: Pick<Logger, 'warn' | 'error'>;
  readonly now?: () => number;
  readonly hooks?: EventStoreHooks;
}

const TYPES: readonly EventType[] = ['Job', 'Pipeline', 'Runner'];
const PAGE = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type StreamEntries = [id: string, fields: string[]][];

/**
 * Events shared by every gateway instance through Redis Streams, one stream per
 * event type. publish = XADD (trimmed by count with MAXLEN ~ and by age with
 * MINID ~); each instance tails the streams with one XREAD BLOCK loop on a
 * dedicated connection and delivers to its local subscribers. The cursor is
 * the stream entry id under an epoch kept in Redis: when Redis loses the
 * streams it loses the epoch too, and old cursors are reported as lost history.
 */
export class RedisEventStore implements EventStore {
  private readonly commands: Redis;
  private readonly reader: Redis;
  private readonly now: () => number;
  private readonly lastTrim: Record<EventType, number> = { Job: 0, Pipeline: 0, Runner: 0 };
  private lastIds: Record<EventType, string> | null = null;
  private epoch: string | null = null;
  private closed = false;
  private readonly loop: Promise<void>;

  constructor(
    private readonly deliver: Deliver,
    private readonly options: RedisEventStoreOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.commands = new Redis(options.redisUrl, { maxRetriesPerRequest: 2 });
    // Blocking reads need their own connection, and must wait out reconnects rather than fail.
    this.reader = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    const onError = (error: Error) => options.log.warn({ err: error.message }, 'event bus Redis error');
    this.commands.on('error', onError);
    this.reader.on('error', onError);
    this.loop = this.run();
  }

  append(event: ChangeEvent): void {
    const { cursor: _ignored, ...plain } = event;
    const key = this.key(event.type);
    // One connection, commands in call order: entries of one stream keep publication order.
    this.commands
      .xadd(key, 'MAXLEN', '~', String(this.options.limits.maxEvents), '*', 'e', JSON.stringify(plain))
      .catch((error: Error) => this.options.log.error({ err: error.message, type: event.type }, 'event could not be published to Redis'));
    const now = this.now();
    if (now - this.lastTrim[event.type] >= 1000) {
      this.lastTrim[event.type] = now;
      this.commands
        .xtrim(key, 'MINID', '~', `${now - this.options.limits.maxAgeSeconds * 1000}-0`)
        .catch((error: Error) => this.options.log.warn({ err: error.message }, 'event history could not be trimmed'));
    }
  }

  async readAfter<K extends EventType>(type: K, cursor: string): Promise<HistoryRead<WithCursor<ChangeEventByType[K]>>> {
    const parsed = parseCursor(cursor);
    if (!parsed) return { ok: false, reason: 'invalid', detail: 'not a cursor' };
    if (parsed.store !== 'r') return { ok: false, reason: 'lost', detail: 'the cursor is from a gateway without shared history' };
    if (parsed.epoch !== (await this.currentEpoch())) return { ok: false, reason: 'lost', detail: 'the shared history was reset since this cursor' };
    const key = this.key(type);
    const id = `${parsed.position[0]}-${parsed.position[1]}`;
    // Trimming removes the oldest entries: if the cursor's own entry is still there, nothing after it is gone.
    let page: StreamEntries = await this.commands.xrange(key, id, '+', 'COUNT', PAGE);
    if (page[0]?.[0] !== id) return { ok: false, reason: 'lost', detail: 'events after the cursor are no longer retained' };
    const events: WithCursor<ChangeEventByType[K]>[] = [];
    let entries = page.slice(1);
    for (;;) {
      for (const [entryId, fields] of entries) {
        const event = this.decode(entryId, fields, parsed.epoch);
        if (event) events.push(event as WithCursor<ChangeEventByType[K]>);
      }
      if (page.length < PAGE) break;
      page = await this.commands.xrange(key, `(${page.at(-1)![0]}`, '+', 'COUNT', PAGE);
      entries = page;
    }
    return { ok: true, events };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.reader.disconnect();
    await this.loop;
    await this.commands.quit().catch(() => this.commands.disconnect());
  }

  private key(type: EventType): string {
    return `${this.options.streamPrefix}${type}`;
  }

  private async currentEpoch(): Promise<string> {
    const key = `${this.options.streamPrefix}epoch`;
    await this.commands.set(key, newEpoch(), 'NX');
    const epoch = await this.commands.get(key);
    if (!epoch) throw new Error('event epoch missing in Redis');
    return epoch;
  }

  private decode(id: string, fields: string[], epoch: string): WithCursor<ChangeEvent> | null {
    const at = fields.indexOf('e');
    if (at < 0 || at % 2 !== 0) return null;
    try {
      return { ...(JSON.parse(fields[at + 1]!) as ChangeEvent), cursor: formatCursor('r', epoch, id) } as WithCursor<ChangeEvent>;
    } catch {
      return null;
    }
  }

  /** Hands a stream event to the instance's own state first, so subscribers and queries agree. */
  private share(event: WithCursor<ChangeEvent>): void {
    try {
      this.options.hooks?.shared?.(event);
    } catch (error) {
      this.options.log.error({ err: (error as Error).message, type: event.type }, 'shared event could not be applied to the live state');
    }
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      try {
        if (!this.epoch) this.epoch = await this.currentEpoch();
        if (!this.lastIds) {
          // Start at the current end of each stream (concrete ids, so a reconnect resumes where it stopped).
          const ids = await Promise.all(TYPES.map(async (t) => (await this.commands.xrevrange(this.key(t), '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0'));
          this.lastIds = { Job: ids[0]!, Pipeline: ids[1]!, Runner: ids[2]! };
        }
        const lastIds = this.lastIds;
        const result = (await this.reader.xread('COUNT', PAGE, 'BLOCK', 5000, 'STREAMS', ...TYPES.map((t) => this.key(t)), ...TYPES.map((t) => lastIds[t]))) as
          | [key: string, entries: StreamEntries][]
          | null;
        if (!result) continue;
        for (const [key, entries] of result) {
          const type = TYPES.find((t) => this.key(t) === key);
          if (!type) continue;
          for (const [id, fields] of entries) {
            lastIds[type] = id;
            const event = this.decode(id, fields, this.epoch);
            if (!event) continue;
            this.share(event);
            this.deliver(event);
          }
        }
      } catch (error) {
        if (this.closed) break;
        this.options.log.warn({ err: (error as Error).message }, 'event bus Redis read failed; retrying');
        this.epoch = null;
        await sleep(500);
      }
    }
  }
}
