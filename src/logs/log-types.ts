/**
 * The core's model of live logs (issue 17). Adapters read bytes (`BackendLogs`); the tail
 * service turns them into redacted chunks of whole lines, shares one tail per job between all
 * watchers, and (with Redis) between instances through a `LogChunkBus`.
 */
import type { LogAvailability } from '../adapter-contract.ts';
import type { JobModel } from '../model.ts';

export interface LogSectionModel {
  readonly marker: 'START' | 'END';
  readonly name: string;
  /** Byte offset in the upstream log of the line holding the marker. */
  readonly offset: number;
  /** ISO time the marker carries, or null. */
  readonly at: string | null;
}

/** Whole lines of one job's log (only the last chunk of a complete log may lack the final newline). */
export interface LogChunkModel {
  /** Upstream byte offset of the first byte. */
  readonly offset: number;
  /** Upstream byte offset after the last byte (the next chunk's `offset`). */
  readonly nextOffset: number;
  /** Redacted text, ANSI kept (stripping is per watcher, at the edge). */
  readonly text: string;
  readonly sections: readonly LogSectionModel[];
  /** The last chunk: the log ended. */
  readonly complete: boolean;
}

/** What `Job.log` returns before cursor and ANSI handling. */
export interface JobLogModel extends LogChunkModel {
  /** Earlier text was cut off (`tail`, or the size limit). */
  readonly truncated: boolean;
}

/**
 * Shares tails between instances (ADAPTERS.md does not see it: core only). One instance holds a
 * job's claim and publishes its chunks; the others follow them. In memory (one instance) the
 * claim is always granted and nothing is followed from elsewhere.
 */
export interface LogChunkBus {
  /** Takes or renews the claim to tail `jobKey` for `leaseMs`; true while this instance holds it. */
  claim(jobKey: string, leaseMs: number): Promise<boolean>;
  /** Gives the claim up (the tail stopped); another instance may take it at once. */
  release(jobKey: string): Promise<void>;
  /** Appends a chunk (the claim holder only), in offset order. */
  publish(jobKey: string, chunk: LogChunkModel): Promise<void>;
  /**
   * The retained chunks with `nextOffset > fromOffset`, oldest first, then each new one as it is
   * published, until `signal` aborts or a `complete` chunk was yielded. The first chunk may start
   * after `fromOffset` when older ones are no longer retained (and so may a later one, when chunks
   * were trimmed while this follower lagged): the caller reads any such gap upstream. A chunk that
   * overlaps `fromOffset` is yielded whole (the caller cuts it). A complete chunk ending at
   * `fromOffset` is yielded as an empty complete chunk there, so a follow from the end of a finished
   * log ends at once.
   */
  follow(jobKey: string, fromOffset: number, signal: AbortSignal): AsyncIterable<LogChunkModel>;
  /** This instance has watchers of `jobKey` for the next `ttlMs` (renewed while they stay). */
  markInterest(jobKey: string, ttlMs: number): Promise<void>;
  /** Whether any instance marked interest in `jobKey` that has not lapsed. */
  hasInterest(jobKey: string): Promise<boolean>;
  close(): Promise<void>;
}

/** What the resolvers use. */
export interface LogTailService {
  /** The adapter's word, or NONE when the backend serves no logs. */
  availability(job: JobModel): LogAvailability;
  /**
   * The job's log from byte `after` (null: the start), whole lines in order with no gap and no
   * duplicate, ending after the `complete` chunk or when `signal` aborts. One upstream tail per
   * job whatever the number of watchers. `identity` counts toward the per-identity tail limit.
   */
  watch(job: JobModel, after: number | null, options: { readonly identity: string; readonly signal: AbortSignal }): AsyncIterable<LogChunkModel>;
  /** What exists now: all, the last `tail` lines, or what follows `after`. Null when availability says none can be read. */
  read(job: JobModel, options: { readonly tail: number | null; readonly after: number | null; readonly signal: AbortSignal }): Promise<JobLogModel | null>;
  close(): Promise<void>;
}
