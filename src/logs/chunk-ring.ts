/** The recent chunks of one log source, bounded in bytes: what watchers are served from memory. */
import type { LogChunkModel } from './log-types.ts';

export class ChunkRing {
  private readonly chunks: LogChunkModel[] = [];
  private bytes = 0;

  /** `end`: where the next chunk starts (the tail's start offset while empty). */
  constructor(private readonly maxBytes: number, private endOffset: number) {}

  get end(): number {
    return this.endOffset;
  }

  /** The first offset still held (`end` when empty). */
  get start(): number {
    return this.chunks[0]?.offset ?? this.endOffset;
  }

  get size(): number {
    return this.bytes;
  }

  /** Appends a chunk that follows `end`; one that does not (a gap) empties the ring first. */
  push(chunk: LogChunkModel): void {
    if (chunk.offset !== this.endOffset) this.clear(chunk.offset);
    this.chunks.push(chunk);
    this.bytes += weight(chunk);
    this.endOffset = chunk.nextOffset;
    // The newest chunk always stays: it tells where the log stands (and whether it is complete).
    while (this.bytes > this.maxBytes && this.chunks.length > 1) this.bytes -= weight(this.chunks.shift()!);
  }

  /** The first held chunk that ends after `position`, or null. */
  next(position: number): LogChunkModel | null {
    let low = 0;
    let high = this.chunks.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.chunks[mid]!.nextOffset > position) high = mid;
      else low = mid + 1;
    }
    return this.chunks[low] ?? null;
  }

  /** The last chunk, complete when the log ended. */
  last(): LogChunkModel | null {
    return this.chunks.at(-1) ?? null;
  }

  private clear(endOffset: number): void {
    this.chunks.length = 0;
    this.bytes = 0;
    this.endOffset = endOffset;
  }
}

/** The upstream bytes a chunk covers: what `ringBytes` bounds. */
const weight = (chunk: LogChunkModel) => chunk.nextOffset - chunk.offset;
