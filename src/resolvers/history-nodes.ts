import DataLoader from 'dataloader';
import type { GatewayContext } from '../context.ts';
import { historyJobsByIds, historyPipelinesByIds, type RecordedEntity } from '../history/history-lists.ts';
import { isTerminal, type JobModel, type PipelineModel } from '../model.ts';
import { beyondLiveWindow } from './history-lists.ts';
import { perRequest } from './per-request.ts';

/**
 * Single lookups (`node`, `nodes`, `filter.ids`, `Job.pipeline`) of pipelines and jobs
 * older than the live window, from the history with no upstream call, like the list
 * pages beyond it (history-lists.ts). Served only what cannot change any more as far
 * as the gateway knows: an entity the live state does not hold, whose last recorded
 * revision is finished, and that was created and finished before the live window.
 * Everything else (recent, running, held live, not recorded, history unreadable)
 * goes the usual way: live state, then upstream.
 */
type RecordedType = 'Pipeline' | 'Job';
export type Recorded = RecordedEntity<PipelineModel | JobModel>;

interface RecordedKey {
  readonly type: RecordedType;
  readonly backend: string;
  readonly nativeId: string;
}

const slot = new WeakMap<GatewayContext, DataLoader<RecordedKey, Recorded | null>>();
const keyOf = (k: RecordedKey) => JSON.stringify([k.type, k.backend, k.nativeId]);

function loader(ctx: GatewayContext): DataLoader<RecordedKey, Recorded | null> {
  // Not cached: a subscription's context outlives many events (per-request.ts).
  return perRequest(slot, ctx, () => new DataLoader<RecordedKey, Recorded | null>(async (keys) => {
    const refs = (type: RecordedType) => keys.filter((k) => k.type === type);
    const providerOf = (backend: string) => ctx.registry.get(backend)?.adapter.provider ?? 'unknown';
    const found = new Map<string, Recorded>();
    try {
      const rows = await ctx.history!.read(async (store) => [
        ...await historyPipelinesByIds(store, refs('Pipeline'), providerOf),
        ...await historyJobsByIds(store, refs('Job'), providerOf),
      ]);
      for (const r of rows) found.set(keyOf(r.entity), r);
    } catch {
      // The history cannot answer: the backends still can.
    }
    return keys.map((k) => found.get(keyOf(k)) ?? null);
  }, { cache: false }));
}

/** Finished, and both created and finished before the live window (a re-run inside it may still be reported). */
function settledBeforeLiveWindow(ctx: GatewayContext, e: PipelineModel | JobModel): boolean {
  if (!isTerminal(e.status)) return false;
  const created = e.createdAt ?? e.queuedAt ?? e.startedAt ?? e.finishedAt;
  if (!created) return false;
  return beyondLiveWindow(ctx, new Date(created)) && beyondLiveWindow(ctx, new Date(e.finishedAt ?? created));
}

/** The recorded entity when it is to be served from the history, else null (ask live state and upstream). */
export async function recordedNode(ctx: GatewayContext, type: RecordedType, backend: string, nativeId: string): Promise<Recorded | null> {
  if (!ctx.history?.enabled || ctx.state.get(type, backend, nativeId)) return null;
  const recorded = await loader(ctx).load({ type, backend, nativeId });
  return recorded && settledBeforeLiveWindow(ctx, recorded.entity) ? recorded : null;
}
