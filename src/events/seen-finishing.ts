import { isTerminal } from '../model.ts';
import type { PipelineEvent } from './event-types.ts';

/**
 * A pipeline finished now, as far as the gateway saw: it was not finished
 * before (a re-run counts again). A first sighting counts only from a webhook:
 * a poll or backfill that finds old finished runs is not a run finishing now.
 * CI metrics and exported pipeline traces both count by it.
 */
export function seenFinishing(event: PipelineEvent): boolean {
  const { pipeline, previousStatus } = event;
  if (pipeline.aliasOf || !isTerminal(pipeline.status)) return false;
  if (previousStatus === null) return event.source === 'WEBHOOK';
  return !isTerminal(previousStatus);
}
