/**
 * The chunk bus shared by every gateway instance on one Redis. Keys, under `keyPrefix`:
 * - `claim:<job>`     string, the holder's instance token, PX lease;
 * - `chunks:<job>`    stream of chunks, trimmed to the newest `retainBytes` of text, expiring
 *                     `expireMs` after the last publish;
 * - `interest:<job>`  sorted set, instance token -> Redis time its mark lapses, expiring with its last mark;
 * - `wake:<instance>` this instance's doorbell stream (one entry; see stream-waiter.ts).
 * Follows block on one connection per instance (StreamWaiter), not one per follow.
 * Redis failures reject the call with a LogBusUnavailableError; ioredis reconnects on its own,
 * so the next call after Redis is back works.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { LogChunkBus, LogChunkModel } from '../log-types.ts';
import { chunkAfter } from './chunk-after.ts';
import { LogBusUnavailableError } from './log-bus-error.ts';
import { DEFAULT_LOG_EXPIRE_MS } from './log-bus-expiry.ts';
import { chunkArguments, chunkOfFields, CLAIM, COUNT_INTEREST, MARK_INTEREST, PUBLISH, RELEASE } from './redis-log-scripts.ts';
import { StreamWaiter } from './stream-waiter.ts';

export interface RedisLogBusOptions {
  readonly redisUrl: string;
  /** Every key starts with it (the factory passes `events.streamPrefix` + `logs:`). */
  readonly keyPrefix: string;
  /** Newest text bytes of each job's stream kept for followers joining late (at least the newest chunk). */
  readonly retainBytes: number;
  /** A job's stream is deleted this long after its last publish (finished or abandoned tails). Default 10 min. */
  readonly expireMs?: number;
  /** Longest single XREAD BLOCK of the follow reader (it is woken earlier when needed). Default 5 s. */
  readonly blockMs?: number;
  /** Shown in CLIENT LIST. Default `switchyard-logs`. */
  readonly connectionName?: string;
  readonly log: Pick<Logger, 'warn' | 'info'>;
}

/** Entries read per XRANGE while a follow catches up. */
const PAGE = 100;

interface Scripts {
  logClaim(key: string, token: string, leaseMs: string): Promise<number>;
  logRelease(key: string, token: string): Promise<number>;
  logPublish(key: string, ...args: string[]): Promise<string>;
  logMarkInterest(key: string, token: string, ttlMs: string): Promise<number>;
  logCountInterest(key: string): Promise<number>;
}

/**
 * Reconnect delays capped at 500 ms (ioredis grows them to 2 s): a call made while Redis is down
 * fails after two attempts, so within about a second rather than four.
 */
const retryStrategy = (attempt: number) => Math.min(attempt * 50, 500);

/** host:port of the URL, never its credentials. */
function redisAddress(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return 'the configured Redis';
  }
}

export class RedisLogChunkBus implements LogChunkBus {
  /** This bus object's identity in claims and interest marks. */
  private readonly token = randomUUID();
  private readonly commands: Redis & Scripts;
  private readonly waiter: StreamWaiter;
  private readonly expireMs: number;
  private readonly address: string;
  private readonly follows = new Set<AbortController>();
  private closed = false;

  constructor(private readonly options: RedisLogBusOptions) {
    this.expireMs = options.expireMs ?? DEFAULT_LOG_EXPIRE_MS;
    this.address = redisAddress(options.redisUrl);
    const connectionName = options.connectionName ?? 'switchyard-logs';
    // Calls fail after a few reconnect attempts rather than wait: the tail engine decides what
    // to do without the bus (tail itself, retry later), and a watcher is not held silently.
    this.commands = new Redis(options.redisUrl, { maxRetriesPerRequest: 2, retryStrategy, connectionName }) as Redis & Scripts;
    this.commands.defineCommand('logClaim', { numberOfKeys: 1, lua: CLAIM });
    this.commands.defineCommand('logRelease', { numberOfKeys: 1, lua: RELEASE });
    this.commands.defineCommand('logPublish', { numberOfKeys: 1, lua: PUBLISH });
    this.commands.defineCommand('logMarkInterest', { numberOfKeys: 1, lua: MARK_INTEREST });
    this.commands.defineCommand('logCountInterest', { numberOfKeys: 1, lua: COUNT_INTEREST });
    // Connected on the first follow only; blocking reads need a connection of their own.
    const reader = new Redis(options.redisUrl, { maxRetriesPerRequest: 2, retryStrategy, connectionName: `${connectionName}-follow`, lazyConnect: true });
    this.watchConnection(this.commands);
    this.watchConnection(reader);
    this.waiter = new StreamWaiter(reader, this.commands, {
      doorbellKey: `${options.keyPrefix}wake:${this.token}`,
      blockMs: options.blockMs ?? 5000,
      log: options.log,
      failure: (doing, error) => this.failure(doing, error),
    });
  }

  async claim(jobKey: string, leaseMs: number): Promise<boolean> {
    const held = await this.call(`claim ${jobKey}`, () => this.commands.logClaim(this.key('claim', jobKey), this.token, String(Math.max(1, Math.ceil(leaseMs)))));
    return held === 1;
  }

  async release(jobKey: string): Promise<void> {
    await this.call(`release ${jobKey}`, () => this.commands.logRelease(this.key('claim', jobKey), this.token));
  }

  async publish(jobKey: string, chunk: LogChunkModel): Promise<void> {
    await this.call(`publish to ${jobKey}`, () =>
      this.commands.logPublish(this.key('chunks', jobKey), ...chunkArguments(chunk), String(this.options.retainBytes), String(this.expireMs)),
    );
  }

  async *follow(jobKey: string, fromOffset: number, signal: AbortSignal): AsyncIterable<LogChunkModel> {
    if (this.closed || signal.aborted) return;
    // Aborted by the caller's signal or by close(). Not AbortSignal.any: a long-lived caller
    // signal would keep every composite alive (nodejs/node#55351).
    const stopping = new AbortController();
    const stop = stopping.signal;
    const onAbort = () => stopping.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    this.follows.add(stopping);
    const key = this.key('chunks', jobKey);
    let position = fromOffset;
    let lastId = '0-0';
    try {
      while (!stop.aborted) {
        const page = await this.call(`follow ${jobKey}`, () => this.commands.xrange(key, `(${lastId}`, '+', 'COUNT', PAGE));
        if (stop.aborted) return;
        if (page.length === 0) {
          await this.waiter.waitAfter(key, lastId, stop);
          continue;
        }
        for (const [id, fields] of page) {
          lastId = id;
          const stored = chunkOfFields(fields);
          const chunk = stored && chunkAfter(stored, position);
          if (!chunk) continue;
          position = chunk.nextOffset;
          yield chunk;
          if (chunk.complete || stop.aborted) return;
        }
      }
    } catch (error) {
      // A call cut short by close() is the end of the follow, not a failure.
      if (!this.closed) throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.follows.delete(stopping);
    }
  }

  async markInterest(jobKey: string, ttlMs: number): Promise<void> {
    await this.call(`mark interest in ${jobKey}`, () => this.commands.logMarkInterest(this.key('interest', jobKey), this.token, String(Math.max(1, Math.ceil(ttlMs)))));
  }

  async hasInterest(jobKey: string): Promise<boolean> {
    return (await this.call(`read interest in ${jobKey}`, () => this.commands.logCountInterest(this.key('interest', jobKey)))) > 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const stopping of this.follows) stopping.abort();
    await this.waiter.close();
    if (this.commands.status === 'ready') await this.commands.quit().catch(() => this.commands.disconnect());
    else this.commands.disconnect();
  }

  private key(kind: 'claim' | 'chunks' | 'interest', jobKey: string): string {
    return `${this.options.keyPrefix}${kind}:${jobKey}`;
  }

  private async call<T>(doing: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw this.failure(doing, error as Error);
    }
  }

  private failure(doing: string, error: Error): LogBusUnavailableError {
    return new LogBusUnavailableError(`log bus: could not ${doing} on Redis at ${this.address}: ${error.message}`, { cause: error });
  }

  /** ioredis reports every failed reconnect: one warning per outage, one line when it is over. */
  private watchConnection(connection: Redis): void {
    let down = false;
    connection.on('error', (error: Error) => {
      if (down) return;
      down = true;
      this.options.log.warn({ err: error.message, redis: this.address }, 'log bus: Redis connection failed; reconnecting');
    });
    connection.on('ready', () => {
      if (down) this.options.log.info({ redis: this.address }, 'log bus: Redis connection back');
      down = false;
    });
  }
}
