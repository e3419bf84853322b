import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ChangeEvent, EventType } from '../events/event-types.ts';
import { throttledEvent, type ThrottledEvent } from '../server/throttled-log.ts';
import type { Observation, RecordResult } from './history-store.ts';
import { entryTime, parseSteps, READ_GROUP_SCRIPT } from './stream-read-script.ts';

export interface StreamConsumerOptions {
  readonly redisUrl: string;
  /** The event store's prefix: streams `<prefix>Job`, `<prefix>Pipeline`, `<prefix>Runner`. */
  readonly streamPrefix: string;
  /** Bounds of the streams (events.historyMaxEvents / historyMaxAgeSeconds), named in the gap message. */
  readonly retained?: { readonly maxEvents: number; readonly maxAgeSeconds: number };
  /** The consumer group every instance joins (default `history`). */
  readonly group?: string;
  /** This instance's name in the group (default host-pid-random). */
  readonly consumer?: string;
  /** Entries read per stream per step (one database transaction holds up to 3×). */
  readonly maxBatch?: number;
  /** How long new entries gather before they are read, so a batch holds more than one. */
  readonly flushMs?: number;
  /** Entries pending this long on another consumer (a dead instance) are claimed. */
  readonly claimIdleMs?: number;
  /** How often pending entries of dead consumers are looked for. */
  readonly claimEveryMs?: number;
  /** First wait after a failed commit; doubles up to 10 s. */
  readonly retryMs?: number;
}

/** What the consumer answers to the health route. */
export interface StreamConsumerStats {
  readonly written: number;
  /** Entries read from the streams but not yet committed (held for retry). */
  readonly holding: number;
  /** Entries the streams lost before the group recorded them; a gap of unknown size counts in `gaps` only. */
  readonly lost: number;
  readonly gaps: number;
  /** Changes the database refused on their own (logged as errors and skipped). */
  readonly rejected: number;
}

interface Batch {
  readonly observations: Observation[];
  readonly ids: Map<string, string[]>;
  committed: boolean;
}

const TYPES: readonly EventType[] = ['Job', 'Pipeline', 'Runner'];
const MAX_RETRY_MS = 10_000;
const DEAD_CONSUMER_IDLE_MS = 3_600_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type ReadGroup = (k1: string, k2: string, k3: string, group: string, consumer: string, count: string) => Promise<unknown>;

function observationOf(fields: string[]): Observation | null {
  const at = fields.indexOf('e');
  if (at < 0 || at % 2 !== 0) return null;
  try {
    const event = JSON.parse(fields[at + 1]!) as ChangeEvent;
    const entity = event.type === 'Job' ? event.job : event.type === 'Pipeline' ? event.pipeline : event.runner;
    return entity ? { entity, observedAt: event.receivedAt } : null;
  } catch {
    return null;
  }
}

/**
 * The history with Redis: a consumer group over the event streams. Every instance
 * joins the group, so each entry is recorded by one of them (and the store is
 * idempotent per entity revision anyway); an entry is acknowledged only after the
 * transaction holding it committed. A database outage leaves the read batch held
 * here and everything after it unread in the streams: lag, then catch-up. Entries
 * a dead instance read but never acknowledged are claimed after `claimIdleMs`.
 * The one loss, entries trimmed from a stream before the group read them, is
 * detected and logged as an error with its size and time span.
 */
export class StreamHistoryConsumer {
  private readonly commands: Redis;
  /** Blocking waits for new entries need a connection of their own. */
  private readonly waiter: Redis;
  private readonly readGroup: ReadGroup;
  private readonly keys: readonly string[];
  private readonly group: string;
  private readonly consumer: string;
  private readonly redisFailure: ThrottledEvent;
  private lastRedisError = '';
  private loop: Promise<void> | null = null;
  private closed = false;
  private batch: Batch | null = null;
  private written = 0;
  private lost = 0;
  private gaps = 0;
  private rejected = 0;
  private groupsReady = false;
  private nextClaimAt = 0;
  private nextForgetAt = 0;
  private woken = false;

  constructor(
    private readonly write: (batch: readonly Observation[]) => Promise<RecordResult>,
    private readonly health: { failed(error: unknown): void; succeeded(): void; databaseAnswers(): Promise<boolean> },
    private readonly log: Logger,
    private readonly options: StreamConsumerOptions,
  ) {
    this.keys = TYPES.map((t) => `${options.streamPrefix}${t}`);
    this.group = options.group ?? 'history';
    this.consumer = options.consumer ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.commands = new Redis(options.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
    this.commands.defineCommand('historyReadGroup', { numberOfKeys: 3, lua: READ_GROUP_SCRIPT });
    this.readGroup = (this.commands as unknown as { historyReadGroup: ReadGroup }).historyReadGroup.bind(this.commands);
    this.waiter = new Redis(options.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
    this.redisFailure = throttledEvent((n) => this.log.warn({ failures: n, err: this.lastRedisError }, 'history consumer: Redis failed; retrying'), 10_000);
    // Errors are reported by the failing command; the connection's own event only repeats them.
    this.commands.on('error', () => {});
    this.waiter.on('error', () => {});
  }

  get stats(): StreamConsumerStats {
    return { written: this.written, holding: this.batch && !this.batch.committed ? this.batch.observations.length : 0, lost: this.lost, gaps: this.gaps, rejected: this.rejected };
  }

  /** Starts reading once the store is open. */
  start(): void {
    if (this.loop || this.closed) return;
    this.loop = this.run();
  }

  /** Entries not yet delivered to any instance (lag) and delivered but not acknowledged (pending); null when Redis does not answer. */
  async backlog(timeoutMs = 1000): Promise<{ lag: number | null; pending: number | null }> {
    const ask = (async () => {
      let lag: number | null = 0;
      let pending = 0;
      const replies = await Promise.all(this.keys.map((key) => this.commands.xinfo('GROUPS', key) as Promise<unknown[][]>));
      for (const groups of replies) {
        const ours = groups.find((g) => g[g.indexOf('name') + 1] === this.group);
        if (!ours) continue;
        pending += Number(ours[ours.indexOf('pending') + 1] ?? 0);
        const streamLag = ours[ours.indexOf('lag') + 1];
        lag = lag === null || streamLag === null || streamLag === undefined ? null : lag + Number(streamLag);
      }
      return { lag, pending };
    })();
    const timeout = new Promise<null>((r) => setTimeout(() => r(null), timeoutMs).unref());
    const result = await Promise.race([ask.catch(() => null), timeout]);
    return result ?? { lag: null, pending: null };
  }

  /** Commits (one attempt) what it holds, then stops; unacknowledged entries stay pending for another instance. */
  async close(): Promise<void> {
    this.closed = true;
    this.waiter.disconnect();
    if (!this.loop) {
      this.commands.disconnect();
      return;
    }
    await this.loop;
    await this.commands.quit().catch(() => this.commands.disconnect());
  }

  private async run(): Promise<void> {
    let retryMs = this.options.retryMs ?? 1000;
    while (!this.closed) {
      try {
        if (!this.groupsReady) await this.createGroups();
        this.batch ??= (await this.claimAbandoned()) ?? (await this.readNew());
        if (!this.batch) continue;
        if (!this.batch.committed) {
          try {
            this.written += (await this.write(this.batch.observations)).inserted;
          } catch (error) {
            if (await this.health.databaseAnswers()) {
              // The database answers but refused the batch (a row it rejects, or a deadlock between instances): row by row.
              this.written += await this.recordRowByRow(this.batch.observations);
              this.batch.committed = true;
              continue;
            }
            this.health.failed(error);
            await this.pause(retryMs);
            retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
            continue;
          }
          this.batch.committed = true;
          this.health.succeeded();
          retryMs = this.options.retryMs ?? 1000;
        }
        await this.acknowledge(this.batch);
        const partial = this.batch.observations.length < this.maxBatch;
        this.batch = null;
        // A partial batch means the streams are read to their end: let the next batch gather.
        if (partial) await this.pause(this.options.flushMs ?? 100);
      } catch (error) {
        if (this.closed) break;
        this.lastRedisError = error instanceof Error ? error.message : String(error);
        // Redis lost its data (a restart without persistence): the streams come back with the next event, the group with them.
        if (/NOGROUP|no such key/i.test(this.lastRedisError)) this.groupsReady = false;
        this.redisFailure();
        await this.pause(500);
      }
    }
    // Closing: one last attempt for a batch read but not committed.
    if (this.batch && !this.batch.committed) {
      try {
        this.written += (await this.write(this.batch.observations)).inserted;
        await this.acknowledge(this.batch);
      } catch {
        // Still pending in Redis: another instance claims it, or this one after a restart.
      }
    }
  }

  private async createGroups(): Promise<void> {
    for (const key of this.keys) {
      // From the start of what the stream retains: what was published before the first gateway with history is recorded too.
      await this.commands.xgroup('CREATE', key, this.group, '0', 'MKSTREAM').catch((error: Error) => {
        if (!error.message.includes('BUSYGROUP')) throw error;
      });
    }
    this.groupsReady = true;
  }

  /** Up to a page of entries another consumer read and never acknowledged (it died); every claimEveryMs. */
  private async claimAbandoned(): Promise<Batch | null> {
    const now = Date.now();
    if (now < this.nextClaimAt) return null;
    this.nextClaimAt = now + (this.options.claimEveryMs ?? 10_000);
    const entries: [string, [string, string[]][]][] = [];
    for (const key of this.keys) {
      const [next, claimed, deleted] = (await this.commands.xautoclaim(key, this.group, this.consumer, this.options.claimIdleMs ?? 60_000, '0-0', 'COUNT', this.maxBatch)) as [string, [string, string[]][], string[]?];
      if (deleted?.length) this.reportLoss(key, deleted.length, deleted[0]!, deleted.at(-1)!, 'read by an instance that stopped before recording them');
      // More to claim: look again at once.
      if (next !== '0-0') this.nextClaimAt = 0;
      if (claimed.length) entries.push([key, claimed]);
    }
    if (now >= this.nextForgetAt) {
      this.nextForgetAt = now + DEAD_CONSUMER_IDLE_MS / 6;
      await this.forgetDeadConsumers();
    }
    return entries.length ? this.batchOf(entries) : null;
  }

  private async readNew(): Promise<Batch | null> {
    const steps = parseSteps(await this.readGroup(this.keys[0]!, this.keys[1]!, this.keys[2]!, this.group, this.consumer, String(this.maxBatch)));
    const entries: [string, [string, string[]][]][] = [];
    steps.forEach((step, i) => {
      if (step.lost !== 0) this.reportLoss(this.keys[i]!, step.lost, step.gapFrom, step.gapTo, 'trimmed from the stream before the history read them');
      if (step.entries.length) entries.push([this.keys[i]!, step.entries]);
    });
    if (entries.length) return this.batchOf(entries);
    // Nothing new: wait for the next entry on any stream, then let a batch gather.
    await this.waiter.xread('COUNT', 1, 'BLOCK', 2000, 'STREAMS', ...this.keys, ...steps.map((s) => s.lastGenerated));
    if (!this.closed) await sleep(this.options.flushMs ?? 100);
    return null;
  }

  private batchOf(entries: [string, [string, string[]][]][]): Batch {
    const observations: Observation[] = [];
    const ids = new Map<string, string[]>();
    for (const [key, list] of entries) {
      ids.set(key, list.map(([id]) => id));
      for (const [id, fields] of list) {
        const observation = fields ? observationOf(fields) : null;
        if (observation) observations.push(observation);
        else this.log.warn({ stream: key, id }, 'history consumer: an entry could not be decoded; skipped');
      }
    }
    return { observations, ids, committed: false };
  }

  /** Each row in a transaction of its own, tried twice; a row still refused is logged as an error and skipped, not retried forever. */
  private async recordRowByRow(observations: readonly Observation[]): Promise<number> {
    let inserted = 0;
    for (const observation of observations) {
      for (let attempt = 1; ; attempt++) {
        try {
          inserted += (await this.write([observation])).inserted;
          break;
        } catch (error) {
          if (attempt < 2) continue;
          this.rejected++;
          const { type, backend, nativeId, revision } = observation.entity;
          this.log.error({ type, backend, nativeId, revision, err: error instanceof Error ? error.message : String(error) }, 'history: the database refuses this change; it was skipped');
          break;
        }
      }
    }
    return inserted;
  }

  private async acknowledge(batch: Batch): Promise<void> {
    const pipeline = this.commands.pipeline();
    for (const [key, ids] of batch.ids) pipeline.xack(key, this.group, ...ids);
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error);
    if (failed) throw failed[0]!;
  }

  private reportLoss(key: string, lost: number, fromId: string, toId: string, how: string): void {
    this.gaps++;
    if (lost > 0) this.lost += lost;
    const retained = this.options.retained;
    this.log.error(
      {
        stream: key, lost: lost < 0 ? 'unknown' : lost, from: entryTime(fromId), to: entryTime(toId),
        ...(retained ? { historyMaxEvents: retained.maxEvents, historyMaxAgeSeconds: retained.maxAgeSeconds } : {}),
      },
      `HISTORY GAP: events were ${how}; the history misses them (the database was away longer than events.historyMaxEvents / events.historyMaxAgeSeconds retain)`,
    );
  }

  /** Consumers of instances gone for an hour with nothing pending leave the group's listing. */
  private async forgetDeadConsumers(): Promise<void> {
    for (const key of this.keys) {
      const consumers = (await this.commands.xinfo('CONSUMERS', key, this.group)) as unknown[][];
      for (const c of consumers) {
        const name = String(c[c.indexOf('name') + 1]);
        const pending = Number(c[c.indexOf('pending') + 1]);
        const idle = Number(c[c.indexOf('idle') + 1]);
        if (name !== this.consumer && pending === 0 && idle > DEAD_CONSUMER_IDLE_MS) await this.commands.xgroup('DELCONSUMER', key, this.group, name);
      }
    }
  }

  private get maxBatch(): number {
    return this.options.maxBatch ?? 500;
  }

  /** Ends a retry wait early: the database answers again. */
  wake(): void {
    this.woken = true;
  }

  private async pause(ms: number): Promise<void> {
    const until = Date.now() + ms;
    this.woken = false;
    while (!this.closed && !this.woken && Date.now() < until) await sleep(Math.min(100, until - Date.now()));
  }
}
