import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { formatCursor, newEpoch, parseCursor } from './event-cursor.ts';
import type { Deliver, EventStore, EventStoreHooks, HistoryLimits, HistoryRead } from './event-store.ts';
import type { ChangeEvent, ChangeEventByType, EventType, WithCursor } from './event-types.ts';
import type { EntityModel } from '../model.ts';

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
 * Appends an event unless its stream already holds the entity at a newer
 * revision, or at the same revision with the same content. That makes
 * publishing idempotent: a command ioredis re-sends after a reconnect, a
 * webhook retried after an unknown outcome, or two instances reporting the
 * same change leave one entry.
 * KEYS: the stream, the entity's last published "revision|hash".
 * ARGV: MAXLEN, event JSON, revision "n,n,...", content hash, memory (ms).
 * Returns the new entry id, or false when nothing was appended.
 */
const APPEND_IF_NEWER = `
local function compare(a, b)
  local x, y = {}, {}
  for n in string.gmatch(a, '[^,]+') do x[#x + 1] = tonumber(n) end
  for n in string.gmatch(b, '[^,]+') do y[#y + 1] = tonumber(n) end
  for i = 1, math.max(#x, #y) do
    local d = (x[i] or 0) - (y[i] or 0)
    if d ~= 0 then return d end
  end
  return 0
end
local last = redis.call('GET', KEYS[2])
if last then
  local sep = string.find(last, '|', 1, true)
  local order = compare(ARGV[3], string.sub(last, 1, sep - 1))
  if order < 0 or (order == 0 and string.sub(last, sep + 1) == ARGV[4]) then return false end
end
-- Append first: a script is not rolled back, and a refused XADD must not leave the revision marked.
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[2])
redis.call('SET', KEYS[2], ARGV[3] .. '|' .. ARGV[4], 'PX', ARGV[5])
return id
`;

type AppendIfNewer = (stream: string, revisionKey: string, maxLen: string, json: string, revision: string, hash: string, ttlMs: string) => Promise<string | null>;

function entityOf(event: ChangeEvent): EntityModel {
  return event.type === 'Job' ? event.job : event.type === 'Pipeline' ? event.pipeline : event.runner;
}

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
  /** Set when the reader (re)connects: a Redis that lost its data has a new epoch. */
  private epochUnchecked = true;
  private readonly appendIfNewer: AppendIfNewer;
  private closed = false;
  private readonly loop: Promise<void>;

  constructor(
    private readonly deliver: Deliver,
    private readonly options: RedisEventStoreOptions,
  ) {
    this.now = options.now ?? Date.now;
    // Appends fail after a few reconnect attempts rather than wait: the webhook is answered
    // 503 and redelivered, where an unbounded wait would hold it past the sender's timeout.
    this.commands = new Redis(options.redisUrl, { maxRetriesPerRequest: 2 });
    this.commands.defineCommand('appendIfNewer', { numberOfKeys: 2, lua: APPEND_IF_NEWER });
    this.appendIfNewer = (this.commands as unknown as { appendIfNewer: AppendIfNewer }).appendIfNewer.bind(this.commands);
    // Blocking reads need their own connection, and must wait out reconnects rather than fail.
    this.reader = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    const onError = (error: Error) => options.log.warn({ err: error.message }, 'event bus Redis error');
    this.commands.on('error', onError);
    this.reader.on('error', onError);
    this.reader.on('ready', () => {
      this.epochUnchecked = true;
    });
    this.loop = this.run();
  }

  append(event: ChangeEvent): void {
    const { cursor: _ignored, ...plain } = event;
    const key = this.key(event.type);
    const entity = entityOf(event);
    const hash = createHash('sha1').update(JSON.stringify(entity)).digest('base64');
    const revisionKey = `${this.options.streamPrefix}rev:${event.type}:${entity.backend}:${entity.nativeId}`;
    // One connection, commands in call order: entries of one stream keep publication order.
    this.appendIfNewer(
      key, revisionKey, String(this.options.limits.maxEvents), JSON.stringify(plain),
      entity.revision.join(','), hash, String(this.options.limits.maxAgeSeconds * 1000),
    ).then(
      () => this.appended(event, null),
      (error: Error) => {
        this.options.log.error({ err: error.message, type: event.type }, 'event could not be published to Redis');
        this.appended(event, error);
      },
    );
    const now = this.now();
    if (now - this.lastTrim[event.type] >= 1000) {
      this.lastTrim[event.type] = now;
      this.commands
        .xtrim(key, 'MINID', '~', `${now - this.options.limits.maxAgeSeconds * 1000}-0`)
        .catch((error: Error) => this.options.log.warn({ err: error.message }, 'event history could not be trimmed'));
    }
  }

  async readAfter<K extends EventType>(type: K, cursor: string, limit: number): Promise<HistoryRead<WithCursor<ChangeEventByType[K]>>> {
    const parsed = parseCursor(cursor);
    if (!parsed) return { ok: false, reason: 'invalid', detail: 'not a cursor' };
    if (parsed.store !== 'r') return { ok: false, reason: 'lost', detail: 'the cursor is from a gateway without shared history' };
    if (parsed.epoch !== (await this.currentEpoch())) return { ok: false, reason: 'lost', detail: 'the shared history was reset since this cursor' };
    const id = `${parsed.position[0]}-${parsed.position[1]}`;
    // From the cursor's own entry (inclusive): trimming removes the oldest entries, so if it is
    // still there nothing after it is gone. Checked on every page: a long resume can be overtaken.
    const page: StreamEntries = await this.commands.xrange(this.key(type), id, '+', 'COUNT', limit + 1);
    if (page[0]?.[0] !== id) return { ok: false, reason: 'lost', detail: 'events after the cursor are no longer retained' };
    const events: WithCursor<ChangeEventByType[K]>[] = [];
    for (let i = 1; i < page.length; i++) {
      const [entryId, fields] = page[i]!;
      const event = this.decode(entryId, fields, parsed.epoch);
      if (event) events.push(event as WithCursor<ChangeEventByType[K]>);
    }
    // The next page starts at the last entry read, even one that did not decode.
    const next = page.length > limit ? formatCursor('r', parsed.epoch, page.at(-1)![0]) : null;
    return { ok: true, events, next };
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

  private appended(event: ChangeEvent, error: Error | null): void {
    try {
      this.options.hooks?.appended?.(event, error);
    } catch (hookError) {
      this.options.log.error({ err: (hookError as Error).message }, 'append outcome could not be reported');
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
        if (this.epochUnchecked) {
          // A reconnect happened under the XREAD (ioredis re-sent it): entries read now carry the current epoch.
          this.epochUnchecked = false;
          this.epoch = await this.currentEpoch();
        }
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
