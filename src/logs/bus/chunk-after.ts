import type { LogChunkModel } from '../log-types.ts';

/**
 * What a follow standing at `position` yields of `chunk`: the chunk when it reaches past the
 * position; the end of the log when it is the complete chunk ending exactly there (an empty
 * complete chunk: an empty end marker, or a follow from the end of a finished log, must still
 * end, and must not repeat text the follower has); otherwise nothing.
 */
export function chunkAfter(chunk: LogChunkModel, position: number): LogChunkModel | null {
  if (chunk.nextOffset > position) return chunk;
  if (!chunk.complete || chunk.nextOffset !== position) return null;
  return chunk.offset === position ? chunk : { offset: position, nextOffset: position, text: '', sections: [], complete: true };
}
