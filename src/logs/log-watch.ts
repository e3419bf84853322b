/**
 * One watcher's stream from a local tail: the ring's chunks from its position on, in order, with
 * no gap and no duplicate. What the ring no longer holds (or never held: a position before the
 * tail started, or inside a chunk cut elsewhere) is read upstream for this watcher, then the ring
 * serves the rest. Watchers pull by position: a slow one holds no queue, only its offset.
 */
import { logUnavailable } from './log-errors.ts';
import type { LogTail } from './log-tail.ts';
import type { LogChunkModel } from './log-types.ts';

/** The chunks of [from, to) read upstream (`completes`: the range is the end of the log). */
export type GapRead = (from: number, to: number, completes: boolean) => Promise<readonly LogChunkModel[]>;

const endOfLog = (offset: number): LogChunkModel => ({ offset, nextOffset: offset, text: '', sections: [], complete: true });

export async function* watchTail(tail: LogTail, backend: string, from: number, readGap: GapRead, signal: AbortSignal): AsyncGenerator<LogChunkModel> {
  let position = from;
  while (!signal.aborted) {
    const next = tail.ring.next(position);
    if (next && next.offset === position) {
      yield next;
      position = next.nextOffset;
      if (next.complete) return;
      continue;
    }
    const gapEnd = next ? (next.offset > position ? next.offset : next.nextOffset) : position < tail.ring.end ? tail.ring.end : null;
    if (gapEnd !== null) {
      const completes = next !== null && next.offset < position && next.complete;
      const chunks = await readGap(position, gapEnd, completes);
      if (chunks[0]?.offset !== position) throw logUnavailable(backend, `the log from byte ${position} can no longer be read upstream`);
      for (const chunk of chunks) {
        yield chunk;
        position = chunk.nextOffset;
        if (chunk.complete) return;
      }
      continue;
    }
    if (tail.failure) throw tail.failure;
    if (tail.complete) {
      // The watcher stands at (or past) the end of a completed log.
      yield endOfLog(position);
      return;
    }
    if (tail.isStopped) return;
    await tail.changed.wait(signal);
  }
}
