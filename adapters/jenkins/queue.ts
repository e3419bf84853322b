import type { PipelineModel } from '../../src/model.ts';
import { asRecord, loose, records, type Loose } from './fields.ts';
import { refFromUrl } from './native-ids.ts';
import { toQueuedPipeline } from './normalize.ts';

/**
 * Queue items (`/queue/api/json`) that will become builds of included jobs.
 * Items whose task URL names a build (`job/x/12/`) are Pipeline `node {}`
 * blocks of a running build waiting for an executor, not new builds: they are
 * skipped here (the running build already represents them).
 */
export interface QueuedBuild {
  readonly id: number;
  readonly fullName: string;
  readonly model: PipelineModel;
  readonly raw: Loose;
}

export function queuedBuilds(backend: string, answer: unknown, covers: (fullName: string) => boolean): QueuedBuild[] {
  const out: QueuedBuild[] = [];
  for (const item of records(asRecord(answer)?.items)) {
    const ref = refFromUrl(loose(item.task).url);
    if (!ref || ref.number !== null || !covers(ref.fullName)) continue;
    try {
      const model = toQueuedPipeline(backend, ref.fullName, item);
      out.push({ id: Number(item.id), fullName: ref.fullName, model, raw: item });
    } catch {
      // No id: cannot be addressed.
    }
  }
  return out;
}
