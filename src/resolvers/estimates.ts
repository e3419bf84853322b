import DataLoader from 'dataloader';
import type { GatewayContext } from '../context.ts';
import { estimateSamples, type EstimateKey, type EstimateSample } from '../history/estimates.ts';
import { isTerminal, type JobModel, type PipelineModel } from '../model.ts';
import { perRequest } from './per-request.ts';

type Sampled = EstimateSample & { readonly unavailableReason: string | null };

/** One history query for every estimate an execution asks for (one per event in a subscription). */
const loaders = new WeakMap<GatewayContext, DataLoader<EstimateKey, Sampled>>();

function loader(ctx: GatewayContext): DataLoader<EstimateKey, Sampled> {
  return perRequest(loaders, ctx, () => new DataLoader<EstimateKey, Sampled>(async (keys) => {
    const unavailable = (reason: string) => keys.map(() => ({ durationMs: null, queueMs: null, sampleSize: 0, basis: null, unavailableReason: reason }));
    if (!ctx.history?.enabled) return unavailable('history is turned off (history.enabled: false)');
    try {
      const samples = await ctx.history.read((store) => estimateSamples(store, keys));
      return samples.map((s) => ({ ...s, unavailableReason: s.sampleSize === 0 ? 'no successful run of it is recorded' : null }));
    } catch (error) {
      return unavailable(error instanceof Error ? error.message : String(error));
    }
  }, { cache: false }));
}

function keyOf(entity: PipelineModel | JobModel): EstimateKey {
  return { kind: entity.type, backend: entity.backend, project: entity.projectNativeId, name: entity.name, branch: entity.branch };
}

/** The Estimate of a queued or running pipeline or job; null once it has finished. */
export async function estimateOf(entity: PipelineModel | JobModel, ctx: GatewayContext) {
  if (isTerminal(entity.status)) return null;
  const sample = await loader(ctx).load(keyOf(entity));
  const none = (reason: string) => ({ estimatedDuration: null, estimatedFinishAt: null, remainingSeconds: null, sampleSize: sample.sampleSize, basis: sample.basis, unavailableReason: reason });
  if (sample.durationMs === null) return none(sample.unavailableReason ?? 'no successful run of it is recorded');
  const now = ctx.now().getTime();
  let finish: number;
  if (entity.status === 'RUNNING' || entity.status === 'CANCELING' || entity.status === 'UNKNOWN') {
    finish = (entity.startedAt ? Date.parse(entity.startedAt) : now) + sample.durationMs;
  } else if (entity.status === 'QUEUED' || entity.status === 'PENDING') {
    // The typical queue time, less what it has already waited.
    const since = entity.queuedAt ?? entity.createdAt;
    const waited = since ? Math.max(0, now - Date.parse(since)) : 0;
    finish = now + Math.max(0, (sample.queueMs ?? 0) - waited) + sample.durationMs;
  } else {
    return none(`it is WAITING (${entity.waitReason ?? 'OTHER'}): nothing tells when it will start`);
  }
  return {
    estimatedDuration: sample.durationMs / 1000,
    estimatedFinishAt: new Date(finish).toISOString(),
    remainingSeconds: Math.max(0, (finish - now) / 1000),
    sampleSize: sample.sampleSize,
    basis: sample.basis,
    unavailableReason: null,
  };
}
