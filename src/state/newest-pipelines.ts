import type { PipelineModel } from '../model.ts';
import type { CreatedIndex } from './created-index.ts';

export interface NewestPipelinesOptions {
  /** How many matches a page can use from this list (the page size plus one, for `hasNextPage`). */
  readonly limit: number;
  /** Start at this creation time (ms): a cursor's or a `createdBefore` filter's; newer ones cannot be on the page. */
  readonly atOrBefore?: number;
  /** Stop below this creation time (ms). */
  readonly notBefore?: number;
  readonly matches: (p: PipelineModel) => boolean;
  /** Ids already on hand (the upstream list): neither returned nor counted. */
  readonly skip?: (nativeId: string) => boolean;
}

/**
 * The pipelines of one creation-time index a newest-first page can need: the
 * first `limit` matches walking newest first, plus any created at the same
 * time as the last of them or as `atOrBefore` (the page breaks those ties by
 * id, not this index). Any older match cannot make the page: `limit` newer
 * ones precede it. Cost: the matches read, not the size of the state.
 */
export function newestMatches(index: CreatedIndex, lookup: (nativeId: string) => PipelineModel | undefined, o: NewestPipelinesOptions): PipelineModel[] {
  const out: PipelineModel[] = [];
  const notBefore = o.notBefore ?? -Infinity;
  let counted = 0;
  let lastCountedTime = NaN;
  for (const { time, id } of index.newestFirst(o.atOrBefore)) {
    if (time < notBefore) break;
    if (counted >= o.limit && time !== lastCountedTime) break;
    if (o.skip?.(id)) continue;
    const p = lookup(id);
    if (!p || !o.matches(p)) continue;
    out.push(p);
    if (time !== o.atOrBefore) {
      counted++;
      lastCountedTime = time;
    }
  }
  return out;
}
